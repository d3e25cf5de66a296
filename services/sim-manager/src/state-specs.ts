/**
 * Basis and target states as users give them to `westream init`, in WESTPA's formats:
 *   --bstate 'label,probability[,auxref]'     bstates file: `label probability [auxref]` per line
 *   --tstate 'label,pcoord0[,pcoord1...]'     tstates file: `label pcoord0 [pcoord1...]` per line
 */
import { readFileSync } from 'node:fs';
import { codedError } from '@westream/we';

export class StateSpecError extends codedError('StateSpecError', 'SIM_ERR_STATE_SPEC') {}

export interface BasisStateSpec {
  readonly label: string;
  readonly probability: number;
  readonly auxref: string;
}

export interface TargetStateSpec {
  readonly label: string;
  readonly pcoord: number[];
}

/**
 * A decimal number as Python's float() reads one in a states file ('0.5', '5e-1', '.5'), and nothing else:
 * Number() would also take '0x10' (16), '0b1', '' (0) and 'Infinity', each a typo that WESTPA rejects.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function decimal(text: string, where: string, what: string): number {
  if (!DECIMAL.test(text)) throw new StateSpecError(`${where}: ${what} '${text}' is not a decimal number (write it like 0.25 or 2.5e-1)`);
  return Number(text);
}

function basis(fields: string[], where: string): BasisStateSpec {
  const [label, p, auxref = ''] = fields;
  const probability = p === undefined ? NaN : decimal(p, where, 'probability');
  if (!label || p === undefined || !(probability > 0) || !Number.isFinite(probability)) {
    throw new StateSpecError(`${where}: expected 'label probability [auxref]' with a positive probability, found '${fields.join(' ')}'`);
  }
  if (fields.length > 3) throw new StateSpecError(`${where}: too many fields ('${fields.join(' ')}'); expected 'label probability [auxref]'`);
  return { label, probability, auxref };
}

function target(fields: string[], where: string, ndim: number): TargetStateSpec {
  const [label, ...rest] = fields;
  const pcoord = rest.map((x) => decimal(x, where, 'pcoord value'));
  if (!label || pcoord.length !== ndim || !pcoord.every(Number.isFinite)) {
    throw new StateSpecError(`${where}: expected 'label' and ${ndim} pcoord value(s) (pcoord_ndim), found '${fields.join(' ')}'`);
  }
  return { label, pcoord };
}

function lines(file: string): [string[], string][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new StateSpecError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const out: [string[], string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line) out.push([line.split(/\s+/), `${file}:${i + 1}`]);
  });
  return out;
}

export function parseBasisStates(args: readonly string[], files: readonly string[]): BasisStateSpec[] {
  const out = args.map((a) => basis(a.split(','), `--bstate '${a}'`));
  for (const f of files) for (const [fields, where] of lines(f)) out.push(basis(fields, where));
  return out;
}

/** WESTPA's float64 epsilon: w_init rescales when |1 − Σp| exceeds it times the number of basis states. */
const EPS = 2 ** -52;

/**
 * Basis state probabilities rescaled to sum to 1, as w_init does (and records the rescaled ones in
 * ibstates), with a warning that gives the sum; unchanged, and no warning, when they already do.
 */
export function normalizeBasisStates(states: readonly BasisStateSpec[]): { states: BasisStateSpec[]; warning: string | null } {
  const total = states.reduce((a, s) => a + s.probability, 0);
  if (!(Math.abs(1 - total) > states.length * EPS)) return { states: [...states], warning: null };
  const scale = 1 / total; // w_init multiplies by 1/Σp: the same rounding as WESTPA's
  return {
    states: states.map((s) => ({ ...s, probability: s.probability * scale })),
    warning: `basis state probabilities sum to ${total}, not 1; rescaled by ${scale} as w_init does: ${states.map((s) => `'${s.label}' ${s.probability} → ${s.probability * scale}`).join(', ')}`,
  };
}

export function parseTargetStates(args: readonly string[], files: readonly string[], ndim: number): TargetStateSpec[] {
  const out = args.map((a) => target(a.split(','), `--tstate '${a}'`, ndim));
  for (const f of files) for (const [fields, where] of lines(f)) out.push(target(fields, where, ndim));
  return out;
}
