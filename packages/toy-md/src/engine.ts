/** The engine's operations, independent of the command line: run a segment, make a basis state, first passages. */
import { Rng } from '@westream/we';
import { baoab, thermalVelocities } from './baoab.js';
import type { MdParams } from './params.js';
import { Polynomial } from './potential.js';
import { makeSystem, type MdState, type MdSystem } from './system.js';

export interface Engine {
  readonly params: MdParams;
  readonly system: MdSystem;
}

export function makeEngine(params: MdParams): Engine {
  return { params, system: makeSystem(params, new Polynomial(params.coefficients)) };
}

/** Runs `params.steps` steps from `state` (mutated); returns the pcoord at step 0 and every `stride` steps. */
export function runSegment(engine: Engine, state: MdState, seed: bigint): Float64Array {
  const { params: p, system } = engine;
  const out = new Float64Array(p.steps / p.stride + 1);
  out[0] = system.pcoord(state.x);
  let k = 0;
  let row = 1;
  baoab(p, system, Rng.derive(seed)).run(state, p.steps, (st) => {
    if (++k === p.stride) {
      k = 0;
      out[row++] = system.pcoord(st.x);
    }
  });
  return out;
}

/**
 * The same segment as `runSegment` (bit for bit), handing the state to `emit` at step 0 and every `stride`
 * steps (the pcoord rows) and waiting for it: the IMD stream, which may block the engine (PAUSE, a slow client).
 */
export async function runSegmentStreaming(engine: Engine, state: MdState, seed: bigint, emit: (state: MdState) => Promise<void>): Promise<Float64Array> {
  const { params: p, system } = engine;
  const out = new Float64Array(p.steps / p.stride + 1);
  const integrator = baoab(p, system, Rng.derive(seed));
  out[0] = system.pcoord(state.x);
  await emit(state);
  for (let row = 1; row < out.length; row++) {
    integrator.run(state, p.stride, undefined, false);
    out[row] = system.pcoord(state.x);
    await emit(state);
  }
  system.wrap(state.x);
  return out;
}

/** A state at pcoord `s` with Maxwell–Boltzmann velocities. */
export function basisState(engine: Engine, s: number, seed: bigint): MdState {
  const x = engine.system.place(s);
  return { x, v: thermalVelocities(engine.params, x.length, Rng.derive(seed)), step: 0, time: 0 };
}

export interface FirstPassageOptions {
  /** The walker is recycled once its pcoord is ≥ `target` (or ≤, when the start lies above it). */
  readonly target: number;
  readonly events: number;
  /** Test the target only every this many steps, as WE does only at the end of a segment. */
  readonly checkEvery: number;
  /** Give up after this many steps in total. */
  readonly maxSteps: number;
}

/** Brute force: first-passage times from `start` to the target, restarting from `start` after each passage. */
export function firstPassageTimes(engine: Engine, start: MdState, seed: bigint, o: FirstPassageOptions): { times: number[]; steps: number } {
  const { params: p, system } = engine;
  const above = system.pcoord(start.x) < o.target;
  const integrator = baoab(p, system, Rng.derive(seed));
  const times: number[] = [];
  const state: MdState = { x: start.x.slice(), v: start.v.slice(), step: 0, time: 0 };
  let total = 0;
  while (times.length < o.events && total < o.maxSteps) {
    integrator.run(state, o.checkEvery);
    total += o.checkEvery;
    const s = system.pcoord(state.x);
    if (above ? s >= o.target : s <= o.target) {
      times.push(state.step * p.dt);
      state.x.set(start.x);
      state.v.set(start.v);
      state.step = 0;
    }
  }
  return { times, steps: total };
}
