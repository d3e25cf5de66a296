/**
 * Reads a return file the way WESTPA's loaders do (`np.loadtxt`): whitespace-separated numbers, one row per
 * line, `#` comments and blank lines skipped. Shape and finiteness are checked here, so a bad file fails the
 * segment with a message that says what was expected and what was found.
 *
 * A return file is written by the user's program, so its size is whatever that program did: it is read in
 * chunks, parsed as it streams in, and refused by its size before a byte is read when it is larger than the
 * caller's bound (a pcoord's is known from pcoord_len × pcoord_ndim). A 200 MB pcoord file once took 4 GB of
 * memory and a minute per attempt before its shape was found wrong.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { codedError } from '@westream/we';

export class ReturnFileError extends codedError('ReturnFileError', 'PROPAGATOR_ERR_RETURN_FILE') {}

export interface NumericTable {
  /** Rows × columns as read; a file of one row gives [1, ncol]. */
  readonly shape: [number, number];
  readonly data: Float64Array;
}

export interface ReadLimits {
  /** The file is refused, unread, when it is larger than this. */
  readonly maxBytes: number;
  /** Parsing stops with an error once more values than this have been read. */
  readonly maxValues?: number;
  /** What was expected, for the error ("11 × 1 values (pcoord_len × pcoord_ndim)"). */
  readonly expected: string;
}

/**
 * The generous bound on a text file of `values` numbers: 1 KiB per number (a float printed in full takes 25
 * bytes with its separator) plus 1 MiB for comments and headers. Only a file far beyond any honest one fails.
 */
export function textBound(values: number): number {
  return (1 << 20) + values * 1024;
}

/** Auxiliary datasets have no declared shape: this bounds their return files (and the memory they take). */
export const AUX_MAX_BYTES = 256 * (1 << 20);

/** Line-by-line parser: rows of numbers, column count fixed by the first row. */
class TableParser {
  private values = new Float64Array(64);
  private n = 0;
  private ncol = -1;
  private nrow = 0;

  constructor(
    private readonly label: string,
    private readonly maxValues = Infinity,
    private readonly expected = '',
  ) {}

  line(raw: string, lineNo: number): void {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) return;
    const cols = line.split(/\s+/);
    if (this.ncol === -1) this.ncol = cols.length;
    else if (cols.length !== this.ncol) throw new ReturnFileError(`${this.label}:${lineNo}: ${cols.length} columns, but the first row has ${this.ncol}`);
    if (this.n + cols.length > this.maxValues) {
      throw new ReturnFileError(
        `${this.label}:${lineNo}: more than ${this.maxValues} values where ${this.expected} were expected; reading stopped there. Check how many frames the engine wrote and the output stride in its input file.`,
      );
    }
    for (const c of cols) {
      if (/^[+-]?(nan|inf(inity)?)$/i.test(c))
        throw new ReturnFileError(`${this.label}:${lineNo}: ${c} is not finite (NaN/Inf are rejected; did the engine blow up?)`);
      const v = Number(c);
      if (!Number.isFinite(v)) throw new ReturnFileError(`${this.label}:${lineNo}: '${c}' is not a number`);
      if (this.n === this.values.length) {
        const grown = new Float64Array(this.values.length * 2);
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.n++] = v;
    }
    this.nrow++;
  }

  finish(): NumericTable {
    if (this.nrow === 0) throw new ReturnFileError(`${this.label}: is empty (no numbers); the program wrote nothing`);
    return { shape: [this.nrow, this.ncol], data: this.values.slice(0, this.n) };
  }
}

/** Parses a text table; `label` names the file in errors. */
export function parseTable(text: string, label: string): NumericTable {
  const p = new TableParser(label);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) p.line(lines[i] as string, i + 1);
  return p.finish();
}

const CHUNK = 64 * 1024;

/**
 * Reads and parses the table at `path`, streaming: memory is bounded by the limits, not by the file. Only a
 * regular file is read (opened non-blocking, so a FIFO put in its place cannot hang the reader).
 */
export function readTable(path: string, label = path, limits?: ReadLimits): NumericTable {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new ReturnFileError(`${label}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new ReturnFileError(`${label}: is not a regular file (a FIFO, device or directory was put in its place); write the numbers to the file itself`);
    const tooBig = (size: number): ReturnFileError =>
      new ReturnFileError(
        `${label}: is ${size} bytes, far more than expected (${limits?.expected ?? '?'}, at most ${limits?.maxBytes ?? 0} bytes as text); refused unread. Check what the program writes there.`,
      );
    if (limits && st.size > limits.maxBytes) throw tooBig(st.size);
    const p = new TableParser(label, limits?.maxValues, limits?.expected);
    const buf = Buffer.allocUnsafe(CHUNK);
    const decoder = new TextDecoder('utf-8');
    let carry = '';
    let lineNo = 0;
    let total = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        throw new ReturnFileError(`${label}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      if (n <= 0) break;
      total += n;
      if (limits && total > limits.maxBytes) throw tooBig(total); // it grew while being read
      const text = carry + decoder.decode(buf.subarray(0, n), { stream: true });
      const lines = text.split('\n');
      carry = lines.pop() as string;
      for (const l of lines) p.line(l, ++lineNo);
    }
    carry += decoder.decode();
    if (carry) p.line(carry, ++lineNo);
    return p.finish();
  } finally {
    closeSync(fd);
  }
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

/** The limits for a pcoord return of `len` points of `ndim` values. */
export function pcoordLimits(len: number, ndim: number): ReadLimits {
  // A few times too many values still reach the shape check (its message names both shapes); far more stop early.
  return { maxBytes: textBound(len * ndim), maxValues: 4 * len * ndim + 1024, expected: `${len} × ${ndim} values (pcoord_len × pcoord_ndim)` };
}
