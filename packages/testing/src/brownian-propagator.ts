/**
 * A function propagator for the real WE loop: each segment is τ of Brownian dynamics (brownian-dynamics.ts),
 * run in this process in microseconds, so a run of thousands of iterations through `runSimulation`, a real
 * work manager and a real west.h5 costs seconds (WESTPA tests itself the same way, with its ODLD system).
 *
 * It plays the executable propagator's part faithfully where the loop can tell: a segment continues from its
 * parent's final state (kept here, as a restart file would be) or starts from its initial state's basis state;
 * its random numbers come from the run seed and (iteration, segment) alone — the stream WEST_RAND* derive
 * from — so a segment re-run gets the same trajectory and the same config and seed give the same west.h5.
 * A basis state's auxref is its position x.
 */
import type { SegmentResult, SegmentTask } from '@westream/propagator';
import { RandomStream, Rng, type BasisState, type InitialState } from '@westream/we';
import { integrate, type Dynamics } from './brownian-dynamics.js';

export interface BrownianPropagatorOptions extends Dynamics {
  /** The run seed (west.h5's). */
  readonly seed: bigint;
  /** Points per segment (pcoord_len), the first being the start; steps must be a multiple of pcoordLen − 1. */
  readonly pcoordLen: number;
}

export class BrownianPropagator {
  /** Final positions by `iteration:segment`, for the children of the last iteration run (the restart files). */
  private readonly finals = new Map<string, number>();
  private newest = 0;
  /** Segments run, and the MD time they cover (what brute force is compared with). */
  segmentsRun = 0;

  constructor(private readonly o: BrownianPropagatorOptions) {
    if (o.pcoordLen < 2 || o.steps % (o.pcoordLen - 1) !== 0) throw new Error(`steps (${o.steps}) must be a multiple of pcoord_len − 1 (${o.pcoordLen - 1})`);
  }

  get tau(): number {
    return this.o.steps * this.o.dt;
  }

  /** MD time propagated so far, all segments (retries included). */
  get mdTime(): number {
    return this.segmentsRun * this.tau;
  }

  runSegment(task: SegmentTask, signal?: AbortSignal, onStarted?: () => void): Promise<SegmentResult> {
    const t0 = performance.now();
    const base = { nIter: task.nIter, segId: task.segId, attempt: task.attempt, auxdata: {}, log: null, node: 'in-process' };
    if (signal?.aborted) return Promise.resolve({ ...base, status: 'cancelled', pcoord: [], cputime: 0, walltime: 0, reason: 'cancelled before it started' });
    onStarted?.();
    let x0: number | undefined;
    if (task.parentId >= 0) x0 = this.finals.get(`${task.nIter - 1}:${task.parentId}`);
    else if (task.bstate) x0 = positionOf(task.bstate);
    if (x0 === undefined) {
      const reason = `segment ${task.segId} of iteration ${task.nIter}: no final state of its parent ${task.parentId} in iteration ${task.nIter - 1} (this in-process propagator keeps only the last iteration's, in memory)`;
      return Promise.resolve({ ...base, status: 'failed', pcoord: [], cputime: 0, walltime: 0, reason });
    }
    if (task.nIter > this.newest) {
      this.newest = task.nIter;
      for (const k of this.finals.keys()) if (Number(k.split(':')[0]) < task.nIter - 1) this.finals.delete(k);
    }
    const rng = Rng.derive(this.o.seed, RandomStream.SEGMENT, task.nIter, task.segId);
    const every = this.o.steps / (this.o.pcoordLen - 1);
    const pcoord = [x0];
    const x = integrate(this.o, x0, this.o.steps, rng, every, (_k, xi) => pcoord.push(xi));
    this.finals.set(`${task.nIter}:${task.segId}`, x);
    this.segmentsRun++;
    const s = (performance.now() - t0) / 1000;
    return Promise.resolve({ ...base, status: 'complete', pcoord, cputime: s, walltime: s, reason: null });
  }

  getPcoord(bstate: BasisState): Promise<Float64Array> {
    return Promise.resolve(Float64Array.of(positionOf(bstate)));
  }

  genIstate(_istate: InitialState, bstate: BasisState): Promise<Float64Array> {
    return this.getPcoord(bstate);
  }

  runHook(): Promise<string | null> {
    return Promise.resolve(null);
  }

  close(): void {}
}

function positionOf(b: BasisState): number {
  const x = Number(b.auxref);
  if (b.auxref.trim() === '' || !Number.isFinite(x))
    throw new Error(`basis state '${b.label}': auxref '${b.auxref}' is not a position; this propagator reads x from it`);
  return x;
}
