/**
 * Reads a return file the way WESTPA's loaders do (`np.loadtxt`): whitespace-separated numbers, one row per
 * line, `#` comments and blank lines skipped. Shape and finiteness are checked here, so a bad file fails the
 * segment with a message that says what was expected and what was found.
 */
import { readFileSync } from 'node:fs';
import { codedError } from '@westream/we';

export class ReturnFileError extends codedError('ReturnFileError', 'PROPAGATOR_ERR_RETURN_FILE') {}

export interface NumericTable {
  /** Rows × columns as read; a file of one row gives [1, ncol]. */
  readonly shape: [number, number];
  readonly data: Float64Array;
}

/** Parses a text table; `label` names the file in errors. */
export function parseTable(text: string, label: string): NumericTable {
  const values: number[] = [];
  let ncol = -1;
  let nrow = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/#.*/, '').trim();
    if (!line) continue;
    const cols = line.split(/\s+/);
    if (ncol === -1) ncol = cols.length;
    else if (cols.length !== ncol) throw new ReturnFileError(`${label}:${i + 1}: ${cols.length} columns, but the first row has ${ncol}`);
    for (const c of cols) {
      if (/^[+-]?(nan|inf(inity)?)$/i.test(c)) throw new ReturnFileError(`${label}:${i + 1}: ${c} is not finite (NaN/Inf are rejected; did the engine blow up?)`);
      const v = Number(c);
      if (!Number.isFinite(v)) throw new ReturnFileError(`${label}:${i + 1}: '${c}' is not a number`);
      values.push(v);
    }
    nrow++;
  }
  if (nrow === 0) throw new ReturnFileError(`${label}: is empty (no numbers); the program wrote nothing`);
  return { shape: [nrow, ncol], data: Float64Array.from(values) };
}

export function readTable(path: string, label = path): NumericTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ReturnFileError(`${label}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseTable(text, label);
}

/**
 * A pcoord return: `len × ndim` values, or a single point when `len` is 1 (WESTPA reshapes 1-D data the same
 * way: `ndim` numbers on one row or in one column are both one point).
 */
export function checkPcoordShape(t: NumericTable, len: number, ndim: number, label: string): Float64Array {
  const [r, c] = t.shape;
  const n = r * c;
  if (n === len * ndim && (c === ndim || (len === 1 && r === ndim && c === 1) || (ndim === 1 && r === 1))) return t.data;
  throw new ReturnFileError(
    `${label}: progress coordinate has shape (${r}, ${c}); expected (${len}, ${ndim}) = pcoord_len × pcoord_ndim. ` +
      `Check how many frames the engine wrote and the output stride in its input file.`,
  );
}
