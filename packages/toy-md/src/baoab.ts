/**
 * Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews, AMRX 2013): half kick, half drift, exact
 * Ornstein–Uhlenbeck velocity update, half drift, half kick. Its configurational distribution is exact to O(dt²)
 * with a tiny constant, which is why the Boltzmann test can use a large step.
 */
import type { Rng } from '@westream/we';
import type { MdParams } from './params.js';
import type { MdState, MdSystem } from './system.js';

export interface Integrator {
  /**
   * Advances `state` by `n` steps; `onStep` runs after each step, and returning true stops early. Positions
   * are wrapped into the box at the end unless `wrap` is false (a segment run in pieces wraps once, at its
   * end, so it stays bit-identical to the same segment run in one piece).
   */
  run(state: MdState, n: number, onStep?: (state: MdState) => boolean | void, wrap?: boolean): void;
}

export function baoab(p: MdParams, sys: MdSystem, rng: Rng): Integrator {
  const { dt, mass: m, kT, friction } = p;
  const c1 = Math.exp(-friction * dt);
  const c2 = Math.sqrt((1 - c1 * c1) * (kT / m));
  const halfDt = dt / 2;
  const size = sys.dim * sys.nAtoms;
  const f = new Float64Array(size);
  return {
    run(state, n, onStep, wrap = true) {
      const { x, v } = state;
      sys.forces(x, f);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < size; i++) {
          const vi = (v[i] as number) + (halfDt * (f[i] as number)) / m; // B
          const xi = (x[i] as number) + halfDt * vi; // A
          const vo = c1 * vi + c2 * rng.normal(); // O
          x[i] = xi + halfDt * vo; // A
          v[i] = vo;
        }
        sys.forces(x, f);
        for (let i = 0; i < size; i++) v[i] = (v[i] as number) + (halfDt * (f[i] as number)) / m; // B
        state.step += 1;
        state.time += dt;
        if (onStep && onStep(state) === true) break;
      }
      if (wrap) sys.wrap(x);
    },
  };
}

/** Velocities drawn from the Maxwell–Boltzmann distribution at kT. */
export function thermalVelocities(p: MdParams, size: number, rng: Rng): Float64Array {
  const sd = Math.sqrt(p.kT / p.mass);
  const v = new Float64Array(size);
  for (let i = 0; i < size; i++) v[i] = sd * rng.normal();
  return v;
}
