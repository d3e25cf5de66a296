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

function basis(fields: string[], where: string): BasisStateSpec {
  const [label, p, auxref = ''] = fields;
  const probability = Number(p);
  if (!label || p === undefined || !(probability > 0) || !Number.isFinite(probability)) {
    throw new StateSpecError(`${where}: expected 'label probability [auxref]' with a positive probability, found '${fields.join(' ')}'`);
  }
  if (fields.length > 3) throw new StateSpecError(`${where}: too many fields ('${fields.join(' ')}'); expected 'label probability [auxref]'`);
  return { label, probability, auxref };
}

function target(fields: string[], where: string, ndim: number): TargetStateSpec {
  const [label, ...rest] = fields;
  const pcoord = rest.map(Number);
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

export function parseTargetStates(args: readonly string[], files: readonly string[], ndim: number): TargetStateSpec[] {
  const out = args.map((a) => target(a.split(','), `--tstate '${a}'`, ndim));
  for (const f of files) for (const [fields, where] of lines(f)) out.push(target(fields, where, ndim));
  return out;
}
