/**
 * Overdamped Brownian dynamics in a 1-D potential (D = 1, kT = 1), one integrator shared by the in-process WE
 * propagator and the brute-force reference, so both sample the very same Markov chain.
 *
 * Each step is an Euler–Maruyama proposal y = x − dt·U'(x) + √(2dt)·ξ accepted with the Metropolis–Hastings
 * probability (MALA). With small dt nearly every step is accepted and this is plain BD; the correction makes
 * exp(−U) the chain's exact stationary distribution at any dt, so a test comparing WE with the analytic
 * Boltzmann distribution measures WE and not the integrator's time-step error.
 */
import { Rng } from '@westream/we';
import type { Potential } from './double-well.js';

export interface Dynamics {
  readonly potential: Potential;
  /** Time step (units where D = kT = 1). */
  readonly dt: number;
  /** Steps per segment: τ = steps × dt. */
  readonly steps: number;
}

/** Runs `n` MALA steps from x with `rng`; calls `record(k, x)` after every `every`-th step (k counts steps). */
export function integrate(d: Dynamics, x0: number, n: number, rng: Rng, every = n, record?: (k: number, x: number) => void): number {
  const { dt } = d;
  const { u, force } = d.potential;
  const sd = Math.sqrt(2 * dt);
  const inv4dt = 1 / (4 * dt);
  let x = x0;
  let ux = u(x);
  let fx = force(x);
  for (let k = 1; k <= n; k++) {
    const y = x - dt * fx + sd * rng.normal();
    const uy = u(y);
    const fy = force(y);
    // log q(x|y) − log q(y|x) for the Gaussian proposal centred at z − dt·U'(z).
    const fwd = y - x + dt * fx;
    const bwd = x - y + dt * fy;
    const logA = -(uy - ux) - (bwd * bwd - fwd * fwd) * inv4dt;
    if (logA >= 0 || rng.float64() < Math.exp(logA)) {
      x = y;
      ux = uy;
      fx = fy;
    }
    if (record && k % every === 0) record(k, x);
  }
  return x;
}

export interface FirstPassages {
  /** First-passage times (in time units), one per event; independent by construction. */
  readonly times: number[];
  /** Total simulated time, passages and the unfinished last one included. */
  readonly mdTime: number;
}

/**
 * Brute force with the WE's own rules: one walker from `x0`, run τ at a time; when the end of a τ lies in the
 * target, that is a passage, and the walker restarts from `x0` (recycling). The target is tested every τ, as
 * WE tests it, so 1/⟨t⟩ is exactly the rate the WE flux estimates.
 */
export function firstPassages(d: Dynamics, o: { x0: number; inTarget: (x: number) => boolean; events: number; seed: bigint; maxTime?: number }): FirstPassages {
  const tau = d.steps * d.dt;
  const times: number[] = [];
  let mdTime = 0;
  for (let e = 0; e < o.events; e++) {
    const rng = Rng.derive(o.seed, 7, e); // one stream per passage: passages are independent
    let x = o.x0;
    let t = 0;
    for (;;) {
      x = integrate(d, x, d.steps, rng);
      t += tau;
      if (o.inTarget(x)) break;
      if (o.maxTime !== undefined && mdTime + t >= o.maxTime) return { times, mdTime: mdTime + t };
    }
    times.push(t);
    mdTime += t;
  }
  return { times, mdTime };
}
