/**
 * The 1-D (optionally tilted) double well U(x) = h·(x² − 1)² + c·x, in units of kT, and what is known about it
 * exactly: its Boltzmann bin probabilities. `h` is the barrier of the untilted well; the tilt `c` makes the
 * wells unequal, so a bug symmetric in x cannot hide behind the symmetry of the potential.
 */

export interface Potential {
  /** U(x) in kT. */
  readonly u: (x: number) => number;
  /** dU/dx in kT per unit length. */
  readonly force: (x: number) => number;
  /** A range that holds all but a negligible part of exp(−U): where integrals run. */
  readonly support: readonly [number, number];
  /** For people reading test output. */
  readonly describe: string;
}

export function doubleWell(barrier: number, tilt = 0): Potential {
  return {
    u: (x) => barrier * (x * x - 1) ** 2 + tilt * x,
    force: (x) => 4 * barrier * x * (x * x - 1) + tilt,
    support: [-3, 3],
    describe: `U(x) = ${barrier}(x²−1)²${tilt ? ` ${tilt < 0 ? '−' : '+'} ${Math.abs(tilt)}x` : ''} (kT)`,
  };
}

/** ∫ exp(−U) over [a, b] by composite Simpson's rule (n even). */
export function boltzmannIntegral(p: Potential, a: number, b: number, n = 4000): number {
  if (!(b > a)) return 0;
  const h = (b - a) / n;
  let s = Math.exp(-p.u(a)) + Math.exp(-p.u(b));
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-p.u(a + i * h));
  return (s * h) / 3;
}

/**
 * Exact equilibrium probabilities of the bins between consecutive `edges` (±Infinity allowed; they are clipped
 * to the potential's support, outside which exp(−U) is below double precision's resolution of the total).
 */
export function boltzmannBinProbabilities(p: Potential, edges: readonly number[]): number[] {
  const [lo, hi] = p.support;
  const clip = (x: number): number => Math.min(hi, Math.max(lo, x));
  const z = boltzmannIntegral(p, lo, hi, 40_000);
  const out: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++) out.push(boltzmannIntegral(p, clip(edges[i] as number), clip(edges[i + 1] as number)) / z);
  return out;
}
