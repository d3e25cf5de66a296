/**
 * Restart files: the full state (positions, velocities, step, time) as JSON. JSON keeps every double exactly
 * (shortest round-trip digits), so a segment continued from its parent's restart is bit-for-bit what an
 * uninterrupted run would give.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ParamsError } from './params.js';
import type { MdState } from './system.js';

const FORMAT = 'westream-toy-md/1';

export interface RestartFile {
  readonly format: typeof FORMAT;
  readonly system: '1d' | 'pair';
  readonly nAtoms: number;
  readonly dim: number;
  readonly step: number;
  readonly time: number;
  readonly x: number[];
  readonly v: number[];
}

export function writeRestart(path: string, system: '1d' | 'pair', dim: number, state: MdState): void {
  const body: RestartFile = {
    format: FORMAT,
    system,
    nAtoms: state.x.length / dim,
    dim,
    step: state.step,
    time: state.time,
    x: Array.from(state.x),
    v: Array.from(state.v),
  };
  writeFileSync(path, JSON.stringify(body) + '\n');
}

/** Reads and checks a restart file against the system it will continue. */
export function readRestart(path: string, system: '1d' | 'pair', dim: number, nAtoms: number): MdState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ParamsError(`${path}: cannot read the restart file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let r: Partial<RestartFile>;
  try {
    r = JSON.parse(text) as Partial<RestartFile>;
  } catch {
    throw new ParamsError(`${path}: not a westream-toy-md restart file (not JSON); make one with 'westream-toy-md init'`);
  }
  if (r.format !== FORMAT) throw new ParamsError(`${path}: format '${String(r.format)}' is not '${FORMAT}'`);
  if (r.system !== system || r.dim !== dim) throw new ParamsError(`${path}: holds a '${String(r.system)}' system, but the input file says '${system}'`);
  const n = nAtoms * dim;
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === n && a.every((z) => typeof z === 'number' && Number.isFinite(z));
  if (!ok(r.x) || !ok(r.v))
    throw new ParamsError(`${path}: expected ${n} finite positions and velocities (${nAtoms} atoms × ${dim}); the solvent count may differ`);
  return { x: Float64Array.from(r.x), v: Float64Array.from(r.v), step: Number(r.step ?? 0), time: Number(r.time ?? 0) };
}
