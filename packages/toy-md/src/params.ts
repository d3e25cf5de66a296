/**
 * The engine's input file, in the spirit of a GROMACS .mdp: `key = value` lines, `#` or `;` comments.
 * Every problem names the file and line and says what is expected.
 */
import { codedError } from '@westream/we';
export interface MdParams {
  readonly system: '1d' | 'pair';
  /** U(s) = Σ coefficients[k]·s^k along the progress coordinate s. */
  readonly coefficients: readonly number[];
  readonly kT: number;
  /** Langevin friction γ (1/time). */
  readonly friction: number;
  readonly dt: number;
  readonly mass: number;
  readonly steps: number;
  /** Write the pcoord every `stride` steps (and at step 0). */
  readonly stride: number;
  /** Side of the periodic cubic box (pair system). */
  readonly box: number;
  /** Inert solvent particles (pair system): thermostatted, not interacting. */
  readonly solvent: number;
}

export class ParamsError extends codedError('ParamsError', 'TOYMD_ERR_PARAMS') {}

const DEFAULTS: MdParams = {
  system: '1d',
  coefficients: [],
  kT: 1,
  friction: 1,
  dt: 0.005,
  mass: 1,
  steps: 1000,
  stride: 100,
  box: 10,
  solvent: 0,
};

type Parser = (value: string) => number | string | number[] | undefined;
const positive: Parser = (v) => (Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : undefined);
const count: Parser = (v) => (/^\d+$/.test(v) && Number(v) >= 1 ? Number(v) : undefined);
const nonNegativeCount: Parser = (v) => (/^\d+$/.test(v) ? Number(v) : undefined);

const KEYS: Record<keyof MdParams, { parse: Parser; expect: string }> = {
  system: { parse: (v) => (v === '1d' || v === 'pair' ? v : undefined), expect: "'1d' or 'pair'" },
  coefficients: {
    parse: (v) => {
      const xs = v
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
      return xs.length > 0 && xs.every(Number.isFinite) ? xs : undefined;
    },
    expect: 'numbers c0 c1 c2 … (U(s) = Σ c_k s^k)',
  },
  kT: { parse: positive, expect: 'a positive number' },
  friction: { parse: positive, expect: 'a positive number (1/time)' },
  dt: { parse: positive, expect: 'a positive number' },
  mass: { parse: positive, expect: 'a positive number' },
  steps: { parse: count, expect: 'a positive integer' },
  stride: { parse: count, expect: 'a positive integer' },
  box: { parse: positive, expect: 'a positive number' },
  solvent: { parse: nonNegativeCount, expect: 'an integer ≥ 0' },
};

/** Parses an input file's text; `file` only names it in errors. `overrides` (from flags) win over the file. */
export function parseParams(text: string, file: string, overrides: Readonly<Record<string, string>> = {}): MdParams {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const seen = new Set<string>();
  const apply = (key: string, value: string, where: string): void => {
    const spec = (KEYS as Record<string, { parse: Parser; expect: string }>)[key];
    if (!spec) throw new ParamsError(`${where}: unknown key '${key}'; known keys: ${Object.keys(KEYS).join(', ')}`);
    const parsed = spec.parse(value);
    if (parsed === undefined) throw new ParamsError(`${where}: ${key} = '${value}': expected ${spec.expect}`);
    out[key] = parsed;
    seen.add(key);
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) return;
    const m = /^([A-Za-z_][\w-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ParamsError(`${file}:${i + 1}: expected 'key = value', found '${raw.trim()}'`);
    apply((m[1] as string).replace(/-/g, '_'), (m[2] as string).trim(), `${file}:${i + 1}`);
  });
  for (const [k, v] of Object.entries(overrides)) apply(k, v, `--set ${k}`);
  if (!seen.has('coefficients')) throw new ParamsError(`${file}: 'coefficients' is required (U(s) = Σ c_k s^k, e.g. 'coefficients = 0 0 -4 0 2')`);
  const p = out as unknown as MdParams;
  if (p.steps % p.stride !== 0) throw new ParamsError(`${file}: steps (${p.steps}) must be a multiple of stride (${p.stride})`);
  return p;
}

/** Rows the pcoord file gets: step 0 and every `stride` steps after (WESTPA's pcoord_len). */
export function pcoordLength(p: MdParams): number {
  return p.steps / p.stride + 1;
}
