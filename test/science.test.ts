/**
 * Science checks with the real engine and the real loop (processes, files, west.h5).
 *
 * 1. Equilibrium: WE of the 1-D double well U = 3(x²−1)² must reproduce Boltzmann's p(x) ∝ exp(−U/kT).
 * 2. Rate: with recycling at x ≥ 1, the WE flux into the target is 1/MFPT (Hill relation) and must agree with
 *    the MFPT of a long brute-force simulation of the same engine.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WestH5 } from '@westream/store';
import { demoSimDir, TOY_MD, westream } from './support/sim-dir.js';

const MD = `system = 1d
coefficients = 3 0 -6 0 3
kT = 1
friction = 10
mass = 1
dt = 0.01
steps = 50
stride = 5
`;
const TAU = 0.5;
const U = (x: number): number => 3 * (x * x - 1) ** 2;

function simDir(edges: string, iterations: number, perBin: number): string {
  return demoSimDir(
    (y) =>
      y
        .replace(/- \['-inf'.*\]/, `- ${edges}`)
        .replace(/bin_target_counts: \d+/, `bin_target_counts: ${perBin}`)
        .replace(/max_total_iterations: \d+/, `max_total_iterations: ${iterations}`),
    () => MD,
  );
}

/** Mean and standard error from block averages (WE iterations are correlated; blocks of `size` are nearly not). */
function blockStats(xs: number[], size: number): { mean: number; se: number } {
  const blocks: number[] = [];
  for (let i = 0; i + size <= xs.length; i += size) blocks.push(xs.slice(i, i + size).reduce((a, b) => a + b, 0) / size);
  const mean = blocks.reduce((a, b) => a + b, 0) / blocks.length;
  const v = blocks.reduce((a, b) => a + (b - mean) ** 2, 0) / (blocks.length - 1);
  return { mean, se: Math.sqrt(v / blocks.length) };
}

describe('WE reproduces the Boltzmann distribution of the double well', () => {
  const EDGES = [-1.5, -1.2, -0.9, -0.6, -0.3, 0, 0.3, 0.6, 0.9, 1.2, 1.5];
  const ITERS = 40;
  const SKIP = 10;
  let perIter: number[][];

  beforeAll(async () => {
    const dir = simDir(`['-inf', ${EDGES.join(', ')}, 'inf']`, ITERS, 2);
    // Both wells start with their equilibrium weight (½ each: U is symmetric). The exchange between the wells
    // relaxes in ~40 time units here, which no WE method speeds up for an observable at equilibrium; what WE
    // must get right — and what this test checks — is the distribution within and between the bins, the
    // barrier top included, where plain MD would have almost no samples.
    spawnSync(process.execPath, [TOY_MD, 'init', '--input', 'md.in', '--pcoord=1', '--out', 'bstates/right.rst', '--seed', '2'], { cwd: dir });
    const i2 = westream(dir, ['init', '--bstate', 'left,0.5,left.rst', '--bstate', 'right,0.5,right.rst', '--segs-per-state', '2', '--force']);
    expect(i2.code, i2.stderr).toBe(0);
    const run = westream(dir, ['run']);
    expect(run.code, run.stderr).toBe(0);
    const store = await WestH5.open(join(dir, 'west.h5'));
    const len = store.meta.pcoordLen;
    perIter = [];
    for (let n = SKIP + 1; n <= ITERS; n++) {
      const it = await store.readIteration(n);
      const p = new Array<number>(EDGES.length + 1).fill(0);
      for (let s = 0; s < it.nSegs; s++) {
        for (let t = 1; t < len; t++) {
          const x = it.pcoord[s * len + t] as number;
          const b = EDGES.filter((e) => x >= Math.fround(e)).length;
          p[b] = (p[b] as number) + (it.weights[s] as number) / (len - 1);
        }
      }
      perIter.push(p);
    }
  }, 300_000);

  it('in every bin, within 4 standard errors (plus 0.002 for float32 bin edges and the integrator)', () => {
    // Exact bin probabilities: ∫ exp(−U) over each bin / Z, by Simpson's rule on a fine grid.
    const integrate = (a: number, b: number): number => {
      const n = 2000;
      const h = (b - a) / n;
      let s = Math.exp(-U(a)) + Math.exp(-U(b));
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-U(a + i * h));
      return (s * h) / 3;
    };
    const lo = [-4, ...EDGES];
    const hi = [...EDGES, 4];
    const Z = integrate(-4, 4);
    const exact = lo.map((a, i) => integrate(a, hi[i] as number) / Z);
    const rows: string[] = [];
    let failures = 0;
    exact.forEach((p, b) => {
      const { mean, se } = blockStats(perIter.map((r) => r[b] as number), 5);
      const ok = Math.abs(mean - p) < 4 * se + 0.002;
      if (!ok) failures++;
      rows.push(`bin ${b}: WE ${mean.toFixed(5)} ± ${se.toFixed(5)}  exact ${p.toFixed(5)} ${ok ? '' : '  <-- off'}`);
    });
    expect(failures, rows.join('\n')).toBe(0);
    // The barrier-top bins hold ~0.4 % of the probability: WE sampled them, with weights to match.
    const top = blockStats(perIter.map((r) => (r[5] as number) + (r[6] as number)), 5);
    expect(top.mean).toBeGreaterThan(0);
  });
});

describe('the WE rate agrees with brute force', () => {
  const ITERS = 50;
  const SKIP = 10;
  let fluxes: number[];

  beforeAll(async () => {
    const dir = simDir("['-inf', -1.2, -0.9, -0.6, -0.3, 0.0, 0.3, 0.6, 0.9, 1.0, 'inf']", ITERS, 3);
    const init = westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstate', 'right,1.0', '--segs-per-state', '3']);
    expect(init.code, init.stderr).toBe(0);
    const run = westream(dir, ['run']);
    expect(run.code, run.stderr).toBe(0);
    const store = await WestH5.open(join(dir, 'west.h5'));
    fluxes = [];
    for (let n = SKIP + 1; n <= ITERS; n++) {
      const it = await store.readIteration(n);
      let f = 0;
      for (let s = 0; s < it.nSegs; s++) if (it.endpointTypes[s] === 3) f += it.weights[s] as number;
      fluxes.push(f / TAU);
    }
  }, 300_000);

  it('k_WE = <recycled weight>/τ matches 1/MFPT of the same engine within the combined error bars', () => {
    // Brute force: one walker from the same basis state, recycled on reaching x ≥ 1 — tested only at the end
    // of each τ, as WE tests it — 2,000 passages. The first passage times are independent: SE = sd/√n.
    const r = spawnSync(
      process.execPath,
      [TOY_MD, 'mfpt', '--input', 'md.in', '--restart', 'bstates/left.rst', '--target', '1.0', '--events', '2000', '--check-every', '50', '--seed', '99'],
      { cwd: demoSimDir(undefined, () => MD), encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const { times } = JSON.parse(r.stdout) as { times: number[] };
    const mfpt = times.reduce((a, b) => a + b, 0) / times.length;
    const sd = Math.sqrt(times.reduce((a, b) => a + (b - mfpt) ** 2, 0) / (times.length - 1));
    const kBF = 1 / mfpt;
    const seBF = (sd / Math.sqrt(times.length) / mfpt) * kBF;
    // WE: the flux per iteration is correlated over a few iterations; blocks of 5 iterations give the error.
    const { mean: kWE, se: seWE } = blockStats(fluxes, 5);
    const msg = `k_WE = ${kWE.toExponential(3)} ± ${seWE.toExponential(2)}, k_BF = ${kBF.toExponential(3)} ± ${seBF.toExponential(2)} (MFPT ${mfpt.toFixed(1)})`;
    console.log(msg);
    expect(kWE, msg).toBeGreaterThan(0);
    expect(Math.abs(kWE - kBF), msg).toBeLessThan(3 * Math.hypot(seWE, seBF));
    // And the error bars are tight enough for the agreement to mean something (within a factor of ~2).
    expect(seWE / kWE, msg).toBeLessThan(0.35);
  });
});
