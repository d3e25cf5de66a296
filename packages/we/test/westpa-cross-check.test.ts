/**
 * westream's WE core against WESTPA itself (PyPI `westpa`): the same inputs through WESTPA's bin mappers,
 * WEDriver and numpy, compared exactly. Merges keep a random history, so histories differ by RNG; the
 * per-bin weights and the recycled flux do not depend on it and must match bit for bit.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RectilinearBinMapper, RecursiveBinMapper, Rng, numpySum, resample, stageResample } from '@westream/we';
import { pythonModuleMissing, skipWithoutPeer } from '../../../test/support/peers.js';
import { inputOf } from './we-case.js';

const script = fileURLToPath(new URL('./westpa_reference.py', import.meta.url));
const skip = skipWithoutPeer('PyPI westpa', pythonModuleMissing('westpa'));

function westpa<T>(cases: unknown[]): T[] {
  const r = spawnSync('python3', [script], {
    input: JSON.stringify(cases, (_k, v: unknown) => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v)),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`westpa_reference.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}

const rect2d = {
  type: 'RectilinearBinMapper',
  boundaries: [
    [-Infinity, 0, 0.5, 1, 2, Infinity],
    [0, 1, 2, 3, Infinity],
  ],
};
const recursive = {
  type: 'RecursiveBinMapper',
  base: { type: 'RectilinearBinMapper', boundaries: [[-Infinity, 0, 1, 2, Infinity]] },
  mappers: [
    { mapper: { type: 'RectilinearBinMapper', boundaries: [[0, 0.25, 0.5, 0.75, 1]] }, at: [0.5] },
    { mapper: { type: 'RectilinearBinMapper', boundaries: [[2, 3, 4, Infinity]] }, at: [5] },
    { mapper: { type: 'RectilinearBinMapper', boundaries: [[0, 0.1, 0.25]] }, at: [0.1] }, // nested in the first child
  ],
};

describe.skipIf(skip)('WE core vs WESTPA (PyPI westpa)', () => {
  it("bin assignment: Rectilinear 2-D and nested Recursive give WESTPA's indices, float32 edges included", () => {
    const rng = Rng.derive(11n);
    const pts2 = Array.from({ length: 4000 }, (_, i) => (i % 2 === 0 ? rng.float64() * 4 - 1 : rng.float64() * 5));
    // values just below an edge round up to it in float32: both must put them in the upper bin
    pts2.push(0.49999999, 0.5, 0.99999999, 2.9999999);
    const pts1 = Array.from({ length: 2000 }, () => rng.float64() * 8 - 2);
    const [a, b] = westpa<{ nbins: number; bins: number[] }>([
      { kind: 'assign', bins: rect2d, ndim: 2, points: pts2 },
      { kind: 'assign', bins: recursive, ndim: 1, points: pts1 },
    ]);
    const m2 = new RectilinearBinMapper(rect2d.boundaries);
    expect(m2.nbins).toBe(a?.nbins);
    expect(Array.from({ length: pts2.length / 2 }, (_, i) => m2.assignPoint(pts2, 2 * i))).toEqual(a?.bins);
    const rec = new RecursiveBinMapper(new RectilinearBinMapper(recursive.base.boundaries));
    for (const c of recursive.mappers) rec.addMapper(new RectilinearBinMapper(c.mapper.boundaries), c.at);
    expect(rec.nbins).toBe(b?.nbins);
    expect(pts1.map((x) => rec.assignPoint([x], 0))).toEqual(b?.bins);
  });

  it('numpySum equals numpy .sum() bit for bit', () => {
    const rng = Rng.derive(12n);
    const arrays = Array.from({ length: 300 }, (_, i) => Array.from({ length: 1 + ((i * 37) % 700) }, () => rng.float64() ** 3).sort((x, y) => x - y));
    arrays.push(new Array<number>(10).fill(0.1));
    const sums = westpa<{ sum: number }>(arrays.map((values) => ({ kind: 'sum', values })));
    expect(arrays.map((a) => numpySum(a))).toEqual(sums.map((s) => s.sum));
  });

  it("resampling with recycling: per-bin weights and recycled flux equal WESTPA's, bit for bit where WESTPA is deterministic (200 random ensembles)", () => {
    const rng = Rng.derive(13n);
    const cases = Array.from({ length: 200 }, (_, k) => {
      const n = 1 + Math.floor(rng.float64() * 300);
      const raw = Array.from({ length: n }, () => rng.float64() ** (1 + (k % 4)) + 1e-9);
      const total = raw.reduce((x, y) => x + y, 0);
      const finals = Array.from({ length: n }, () => [Math.fround(rng.float64() * 4 - 0.5), Math.fround(rng.float64() * 4)]);
      const counts = Array.from({ length: 20 }, () => 1 + Math.floor(rng.float64() * 6));
      return {
        kind: 'we',
        ndim: 2,
        bins: rect2d,
        counts,
        weights: raw.map((w) => w / total),
        inits: finals.map(() => [0.7, 0.5]),
        finals,
        // a sink in the bin [2, inf) × [3, inf); every recycled walker restarts at (0.7, 0.5)
        tstates: k % 2 === 0 ? [[2.5, 3.5]] : [],
        istates: Array.from({ length: n }, (_, i) => ({ id: i, pcoord: [0.7, 0.5] })),
      };
    });
    const reference = westpa<{ bins: Record<string, number[]>; flux: Record<string, number>; recycled: number[]; n_recycled: number }>(cases);
    const m = new RectilinearBinMapper(rect2d.boundaries);
    cases.forEach((c, k) => {
      const r = resample(inputOf(m, c, 14n, k));
      const bins: Record<string, number[]> = {};
      for (const s of r.next) (bins[s.bin] ??= []).push(s.weight);
      for (const b of Object.values(bins)) b.sort((x, y) => x - y);
      const ref = reference[k];
      // Exact, except in bins of target 1: there WESTPA merges `list(a_set)`, summing in hash order, so even
      // WESTPA's last bit varies from run to run; those must agree to the rounding of a sum (n ulp).
      expect(Object.keys(bins), `case ${k}`).toEqual(Object.keys(ref?.bins ?? {}));
      for (const [bin, weights] of Object.entries(bins)) {
        const theirs = ref?.bins[bin] ?? [];
        if (c.counts[Number(bin)] !== 1) expect(weights, `case ${k} bin ${bin}`).toEqual(theirs);
        else
          weights.forEach((w, i) =>
            expect(Math.abs(w - (theirs[i] ?? NaN)), `case ${k} bin ${bin}`).toBeLessThanOrEqual(c.weights.length * Number.EPSILON * w),
          );
      }
      expect(r.recycled.length, `case ${k}`).toBe(ref?.n_recycled);
      // each recycled weight exactly; the totals to rounding (WESTPA walks the target bin as a set)
      expect(
        r.recycled.map((e) => e.weight).sort((x, y) => x - y),
        `case ${k}`,
      ).toEqual(ref?.recycled);
      const flux: Record<string, number> = {};
      for (const e of r.recycled) flux[e.targetStateId] = (flux[e.targetStateId] ?? 0) + e.weight;
      expect(Object.keys(flux)).toEqual(Object.keys(ref?.flux ?? {}));
      for (const [t, f] of Object.entries(flux)) expect(Math.abs(f - (ref?.flux[t] ?? NaN))).toBeLessThanOrEqual(r.recycled.length * Number.EPSILON * f);
    });
  });

  it("subgroups: per bin and per subgroup, the weights equal WESTPA's with the same subgroup function (150 random ensembles)", () => {
    const rng = Rng.derive(15n);
    const cases = Array.from({ length: 150 }, (_, k) => {
      const n = 1 + Math.floor(rng.float64() * 200);
      const raw = Array.from({ length: n }, () => rng.float64() ** (1 + (k % 3)) + 1e-9);
      const total = raw.reduce((x, y) => x + y, 0);
      const finals = Array.from({ length: n }, () => [Math.fround(rng.float64() * 4 - 0.5), Math.fround(rng.float64() * 4)]);
      const nLabels = 1 + (k % 7);
      return {
        kind: 'we',
        ndim: 2,
        bins: rect2d,
        // few walkers per bin and targets both above and below the number of groups
        counts: Array.from({ length: 20 }, () => 1 + Math.floor(rng.float64() * 8)),
        weights: raw.map((w) => w / total),
        inits: finals.map(() => [0.7, 0.5]),
        finals,
        tstates: k % 3 === 0 ? [[2.5, 3.5]] : [],
        istates: Array.from({ length: n }, (_, i) => ({ id: i, pcoord: [0.7, 0.5] })),
        groups: Array.from({ length: n }, () => Math.floor(rng.float64() * nLabels)),
      };
    });
    const reference = westpa<{ bins: Record<string, number[]> }>(cases);
    const m = new RectilinearBinMapper(rect2d.boundaries);
    let grouped = 0;
    cases.forEach((c, k) => {
      const st = stageResample(inputOf(m, c, 16n, k));
      const labelOf = (wtg: readonly number[]) => c.groups[Math.min(...wtg)] as number;
      const labels = new Map(st.bins.map((b) => [b.bin, b.walkers.map((w) => labelOf(w.wtgParentIds))]));
      for (const b of st.bins) if (new Set(labels.get(b.bin)).size > 1) grouped++;
      const r = st.finish(labels);
      const bins: Record<string, number[]> = {};
      for (const s of r.next) (bins[`${s.bin}/${labelOf(s.wtgParentIds)}`] ??= []).push(s.weight);
      for (const b of Object.values(bins)) b.sort((x, y) => x - y);
      const ref = reference[k]?.bins ?? {};
      expect(Object.keys(bins).sort(), `case ${k}`).toEqual(Object.keys(ref).sort());
      // WESTPA merges a whole subgroup as `list(a_set)` (hash order): equal to the rounding of that sum
      for (const [key, weights] of Object.entries(bins)) {
        const theirs = ref[key] ?? [];
        expect(weights.length, `case ${k} bin/group ${key}`).toBe(theirs.length);
        weights.forEach((w, i) =>
          expect(Math.abs(w - (theirs[i] ?? NaN)), `case ${k} bin/group ${key}`).toBeLessThanOrEqual(c.weights.length * Number.EPSILON * w),
        );
      }
    });
    expect(grouped).toBeGreaterThan(300); // bins with two or more subgroups, not just the trivial case
  });
});
