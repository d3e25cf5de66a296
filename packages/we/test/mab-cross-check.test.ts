/**
 * MAB and binless against WESTPA itself (PyPI westpa 2022.16): the same ensembles through WESTPA's
 * MABBinMapper / BinlessMapper the way its MABDriver calls them (initial and final points in one array with
 * weight and final-flag columns, float32), compared exactly; then whole WE steps through WESTPA's MABDriver.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BinlessMapper,
  MABBinMapper,
  RectilinearBinMapper,
  RecursiveBinMapper,
  Rng,
  assignSegmentsTogether,
  numpySum32,
  resample,
  type BinMapper,
} from '@westream/we';
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

type Spec =
  | { type: 'RectilinearBinMapper'; boundaries: number[][] }
  | { type: 'MABBinMapper'; nbins: number[]; direction: number[]; skip: number[]; bottleneck: boolean; pca?: boolean }
  | { type: 'BinlessMapper'; ngroups: number; ndims: number }
  | { type: 'RecursiveBinMapper'; base: Spec; mappers: { mapper: Spec; at: number[] }[] };

function build(s: Spec): BinMapper {
  switch (s.type) {
    case 'RectilinearBinMapper':
      return new RectilinearBinMapper(s.boundaries);
    case 'MABBinMapper':
      return new MABBinMapper({ nbins: s.nbins, direction: s.direction, skip: s.skip, bottleneck: s.bottleneck, pca: s.pca ?? false });
    case 'BinlessMapper':
      return new BinlessMapper(s.ngroups, s.ndims);
    case 'RecursiveBinMapper': {
      const rec = new RecursiveBinMapper(build(s.base));
      for (const c of s.mappers) rec.addMapper(build(c.mapper), c.at);
      return rec;
    }
  }
}

const DIRS = [0, 1, -1, 86];

interface Ensemble {
  kind: 'driver_assign';
  ndim: number;
  bins: Spec;
  weights: number[];
  inits: number[][];
  finals: number[][];
  label: string;
}

/** Random ensembles of every shape the issue names; `k` picks the shape, `rng` the values. */
function ensemble(k: number, rng: Rng): Ensemble {
  const u = (): number => rng.float64();
  const int = (a: number, b: number): number => a + Math.floor(u() * (b - a + 1));
  const shape = k % 8;
  const ndim = shape === 1 || shape === 3 || shape === 5 || shape === 7 ? 2 : 1;
  const mab = (): Spec => ({
    type: 'MABBinMapper',
    nbins: Array.from({ length: ndim }, () => int(1, 7)),
    direction: Array.from({ length: ndim }, () => DIRS[int(0, 3)] as number),
    skip: Array.from({ length: ndim }, () => (ndim === 2 && u() < 0.25 ? 1 : 0)),
    bottleneck: u() < 0.7,
    ...(ndim === 2 && u() < 0.2 ? { pca: true } : {}),
  });
  let bins: Spec;
  let label: string;
  if (shape <= 1) {
    bins = mab();
    label = `MAB ${ndim}-D`;
  } else if (shape <= 3) {
    // nested in a recursive mapper, with fixed bins around it
    const base: Spec =
      ndim === 1
        ? { type: 'RectilinearBinMapper', boundaries: [[-Infinity, 0, 1, Infinity]] }
        : {
            type: 'RectilinearBinMapper',
            boundaries: [
              [-Infinity, 0, 1, Infinity],
              [-Infinity, 0.5, Infinity],
            ],
          };
    bins = { type: 'RecursiveBinMapper', base, mappers: [{ mapper: mab(), at: ndim === 1 ? [0.5] : [0.5, 0.2] }] };
    label = `MAB ${ndim}-D nested`;
  } else if (shape <= 5) {
    // two MABs in two regions, one of them nested one level deeper
    const base: Spec = {
      type: 'RectilinearBinMapper',
      boundaries:
        ndim === 1
          ? [[-Infinity, 0.5, Infinity]]
          : [
              [-Infinity, 0.5, Infinity],
              [-Infinity, Infinity],
            ],
    };
    const inner: Spec = {
      type: 'RecursiveBinMapper',
      base: {
        type: 'RectilinearBinMapper',
        boundaries:
          ndim === 1
            ? [[0.5, 0.8, Infinity]]
            : [
                [0.5, 0.8, Infinity],
                [-Infinity, Infinity],
              ],
      },
      mappers: [{ mapper: mab(), at: ndim === 1 ? [0.6] : [0.6, 0] }],
    };
    bins = {
      type: 'RecursiveBinMapper',
      base,
      mappers: [
        { mapper: mab(), at: ndim === 1 ? [0] : [0, 0] },
        { mapper: inner, at: ndim === 1 ? [0.9] : [0.9, 0] },
      ],
    };
    label = `two MABs ${ndim}-D, one nested twice`;
  } else {
    bins = {
      type: 'RecursiveBinMapper',
      base: {
        type: 'RectilinearBinMapper',
        boundaries:
          ndim === 1
            ? [[-Infinity, 0.5, Infinity]]
            : [
                [-Infinity, 0.5, Infinity],
                [-Infinity, Infinity],
              ],
      },
      mappers: [{ mapper: mab(), at: ndim === 1 ? [0] : [0, 0] }],
    };
    label = `MAB ${ndim}-D with ties and equal pcoords`;
  }
  const n = int(1, 60);
  const ties = shape >= 6 || u() < 0.15;
  const coord = (): number => (ties ? int(-2, 6) / 4 : u() * 1.6 - 0.3);
  const finals = Array.from({ length: n }, () => Array.from({ length: ndim }, coord));
  // initial points: some walkers did not move (equal to their final point), others came from anywhere
  const inits = finals.map((f) => (u() < 0.3 ? [...f] : Array.from({ length: ndim }, coord)));
  const wkind = int(0, 3);
  const raw = Array.from({ length: n }, () =>
    wkind === 0 ? u() + 1e-6 : wkind === 1 ? 2 ** -int(0, 6) : wkind === 2 ? Math.exp(-40 * u()) : u() < 0.1 ? 1e-50 : u() ** 4 + 1e-12,
  );
  const total = raw.reduce((a, b) => a + b, 0);
  return { kind: 'driver_assign', ndim, bins, weights: raw.map((w) => w / total), inits, finals, label };
}

describe.skipIf(skip)('MAB and binless vs WESTPA 2022.16 (PyPI westpa)', () => {
  it('numpySum32 equals numpy float32 .sum() bit for bit', () => {
    const rng = Rng.derive(20n);
    const arrays = Array.from({ length: 200 }, (_, i) => Array.from({ length: 1 + ((i * 53) % 900) }, () => Math.fround(rng.float64() ** 5)));
    const sums = westpa<{ sum: number }>(arrays.map((values) => ({ kind: 'sum32', values })));
    expect(arrays.map((a) => numpySum32(a))).toEqual(sums.map((s) => s.sum));
  });

  it("MAB bin assignment equals WESTPA's for 800 random ensembles (1-D, 2-D, every direction, skip, bottleneck on/off, nested, ties)", () => {
    const rng = Rng.derive(21n);
    const cases = Array.from({ length: 800 }, (_, k) => ensemble(k, rng));
    const ref = westpa<{ nbins: number; bins: number[] }>(cases);
    const seen = new Set<string>();
    let specialBins = 0;
    cases.forEach((c, k) => {
      const m = build(c.bins);
      expect(m.nbins, `case ${k} (${c.label}): nbins`).toBe(ref[k]?.nbins);
      const a = assignSegmentsTogether(m, { nSegs: c.weights.length, weights: c.weights, initPoints: c.inits.flat(), finalPoints: c.finals.flat() });
      const ours = [...a.initialBins, ...a.finalBins];
      expect(ours, `case ${k} (${c.label}) ${JSON.stringify(c.bins)}`).toEqual(ref[k]?.bins);
      seen.add(c.label);
      if (c.bins.type === 'MABBinMapper') {
        const linear = c.bins.nbins.reduce((p, b, d) => p * ((c.bins as { skip: number[] }).skip[d] ? 1 : b), 1);
        specialBins += ours.filter((b) => b >= linear).length;
      }
    });
    expect(seen.size).toBe(8);
    expect(specialBins).toBeGreaterThan(500); // the special bins (leading, lagging, bottleneck) were exercised
  });

  it('a lone point and a MAB region with only initial points: linear bins only, as in WESTPA', () => {
    const spec: Spec = {
      type: 'RecursiveBinMapper',
      base: { type: 'RectilinearBinMapper', boundaries: [[-Infinity, 0, 1, Infinity]] },
      mappers: [{ mapper: { type: 'MABBinMapper', nbins: [5], direction: [0], skip: [0], bottleneck: true }, at: [0.5] }],
    };
    const m = build(spec);
    const c = {
      kind: 'driver_assign',
      ndim: 1,
      bins: spec,
      weights: [0.25, 0.25, 0.25, 0.25],
      inits: [[0.1], [0.3], [0.9], [2]],
      finals: [[1.5], [-1], [1.2], [3]],
    };
    const [ref] = westpa<{ bins: number[] }>([c, { kind: 'assign', bins: spec, ndim: 1, points: [0.5] }]);
    const a = assignSegmentsTogether(m, { nSegs: 4, weights: c.weights, initPoints: c.inits.flat(), finalPoints: c.finals.flat() });
    expect([...a.initialBins, ...a.finalBins]).toEqual(ref?.bins);
    expect(m.assignPoint([0.5], 0)).toBe(2 + 4); // last linear bin of the MAB, after the 2 unreplaced base bins
  });

  it("binless (WESTPA's default grouping) nested in a recursive mapper: final bins equal WESTPA's (100 ensembles)", () => {
    const rng = Rng.derive(22n);
    const cases = Array.from({ length: 100 }, (_, k) => {
      const e = ensemble(k * 8, rng); // 1-D shapes
      const ndim = k % 2 === 0 ? 1 : 2;
      const pts = (p: number[][]): number[][] => p.map((x) => (ndim === 1 ? [x[0] as number] : [x[0] as number, (x[0] as number) * 0.5]));
      const base: Spec = {
        type: 'RectilinearBinMapper',
        boundaries:
          ndim === 1
            ? [[-Infinity, 0.5, Infinity]]
            : [
                [-Infinity, 0.5, Infinity],
                [-Infinity, Infinity],
              ],
      };
      const bins: Spec = {
        type: 'RecursiveBinMapper',
        base,
        mappers: [{ mapper: { type: 'BinlessMapper', ngroups: 1 + (k % 4), ndims: ndim }, at: ndim === 1 ? [0] : [0, 0] }],
      };
      return { ...e, ndim, inits: pts(e.inits), finals: pts(e.finals), bins };
    });
    const ref = westpa<{ nbins: number; bins: number[] }>(cases);
    cases.forEach((c, k) => {
      const m = build(c.bins);
      expect(m.nbins).toBe(ref[k]?.nbins);
      const n = c.weights.length;
      const a = assignSegmentsTogether(m, { nSegs: n, weights: c.weights, initPoints: c.inits.flat(), finalPoints: c.finals.flat() });
      // final points: what resampling uses (WESTPA leaves some initial points with a stale index; see binless-mapper.ts)
      expect([...a.finalBins], `case ${k}`).toEqual(ref[k]?.bins.slice(n));
    });
  });

  it("resampling with MAB nested in a recursive mapper: per-bin weights and recycled flux equal WESTPA's MABDriver (200 WE steps)", () => {
    const rng = Rng.derive(23n);
    const cases = Array.from({ length: 200 }, (_, k) => {
      const e = ensemble(2 + 8 * k + (k % 2), rng); // the nested shapes, 1-D and 2-D
      const n = e.weights.length;
      const m = build(e.bins);
      const counts = Array.from({ length: m.nbins }, () => 1 + Math.floor(rng.float64() * 5));
      const sink = e.ndim === 1 ? [[1.5]] : [[1.5, 1]];
      return {
        ...e,
        kind: 'we',
        driver: 'MABDriver',
        counts,
        tstates: k % 2 === 0 ? sink : [],
        istates: Array.from({ length: n }, (_, i) => ({ id: i, pcoord: e.ndim === 1 ? [-0.5] : [-0.5, 0] })),
      };
    });
    const reference = westpa<{ bins: Record<string, number[]>; flux: Record<string, number>; recycled: number[]; n_recycled: number }>(cases);
    let recycledAny = 0;
    let placed = 0;
    cases.forEach((c, k) => {
      const m = build(c.bins);
      const r = resample(inputOf(m, c, 24n, k));
      const bins: Record<string, number[]> = {};
      for (const s of r.next) (bins[s.bin] ??= []).push(s.weight);
      for (const b of Object.values(bins)) b.sort((x, y) => x - y);
      const ref = reference[k];
      expect(Object.keys(bins), `case ${k} (${c.label})`).toEqual(Object.keys(ref?.bins ?? {}));
      for (const [bin, weights] of Object.entries(bins)) {
        const theirs = ref?.bins[bin] ?? [];
        // as in westpa-cross-check.test.ts: bins of target 1 merge in set order in WESTPA, so n ulp there
        if (c.counts[Number(bin)] !== 1) expect(weights, `case ${k} bin ${bin}`).toEqual(theirs);
        else
          weights.forEach((w, i) =>
            expect(Math.abs(w - (theirs[i] ?? NaN)), `case ${k} bin ${bin}`).toBeLessThanOrEqual(c.weights.length * Number.EPSILON * w),
          );
      }
      expect(
        r.recycled.map((e) => e.weight).sort((x, y) => x - y),
        `case ${k}`,
      ).toEqual(ref?.recycled);
      recycledAny += r.recycled.length;
      placed += r.adaptiveBins.length;
    });
    expect(recycledAny).toBeGreaterThan(50);
    expect(placed).toBeGreaterThan(150); // steps whose MAB region held walkers
  });
});
