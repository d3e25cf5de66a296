/** Invariants of the WE step over random ensembles (fast-check), each checked on every generated case. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Endpoint, RectilinearBinMapper, Rng, WESTPA_WE_DEFAULTS, resample, stageResample, type ResampleInput, type SubgroupLabels } from '@westream/we';

interface Case {
  readonly nbins: number;
  readonly counts: number[];
  readonly weights: number[];
  readonly finals: number[];
  readonly target: number | null;
  readonly seed: bigint;
}

const caseArb: fc.Arbitrary<Case> = fc
  .integer({ min: 2, max: 12 })
  .chain((nbins) =>
    fc.record({
      nbins: fc.constant(nbins),
      counts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: nbins, maxLength: nbins }),
      walkers: fc.array(
        fc.tuple(
          fc.double({ min: 1e-6, max: 1, noNaN: true }),
          fc.integer({ min: 0, max: nbins - 1 }).chain((b) => fc.double({ min: 0, max: 0.99, noNaN: true }).map((f) => Math.fround(b + f))),
        ),
        { minLength: 1, maxLength: 150 },
      ),
      target: fc.option(fc.integer({ min: 0, max: nbins - 1 }), { nil: null }),
      seed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    }),
  )
  .map(({ nbins, counts, walkers, target, seed }) => {
    const total = walkers.reduce((a, [w]) => a + w, 0);
    return { nbins, counts, weights: walkers.map(([w]) => w / total), finals: walkers.map(([, x]) => x), target, seed };
  });

function run(c: Case, params = WESTPA_WE_DEFAULTS) {
  const input = inputOf(c, params);
  return { input, result: resample(input) };
}

function inputOf(c: Case, params = WESTPA_WE_DEFAULTS): ResampleInput {
  const mapper = new RectilinearBinMapper([Array.from({ length: c.nbins + 1 }, (_, i) => i)]);
  // initial states sit in the bin after the target (or bin 0), one per walker, enough for any recycling
  const istateBin = c.target === null ? 0 : (c.target + 1) % c.nbins;
  const input: ResampleInput = {
    mapper,
    targetCounts: c.counts,
    params,
    rng: Rng.derive(c.seed, 1),
    segments: { nSegs: c.weights.length, weights: c.weights, initPoints: c.finals.map(() => 0.5), finalPoints: c.finals },
    targetStates: c.target === null ? [] : [{ id: 0, pcoord: [c.target + 0.5] }],
    initialStates: c.weights.map((_, i) => ({ id: 100 + i, pcoord: [istateBin + 0.25] })),
  };
  return input;
}

describe('resampler invariants (property-based)', () => {
  // Thresholds act after adjust_counts and may leave a bin off its target (WESTPA too: a lone walker of
  // weight 1 + 2e-16 exceeds largest_allowed_weight = 1 and is split), so the count is checked without them.
  it('weights sum to 1 within 1e-12, none is zero, every non-target bin with walkers ends at its target', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { result } = run(c, { ...WESTPA_WE_DEFAULTS, thresholds: false });
        const sum = result.next.reduce((a, s) => a + s.weight, 0);
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-12);
        for (const s of result.next) expect(s.weight).toBeGreaterThan(0);
        const perBin = new Map<number, number>();
        for (const s of result.next) perBin.set(s.bin, (perBin.get(s.bin) ?? 0) + 1);
        for (const [bin, n] of perBin) expect(n, `bin ${bin}`).toBe(c.counts[bin]);
        if (c.target !== null) expect(perBin.has(c.target)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('with thresholds on: weights sum to 1 within 1e-12 and every walker lies within the allowed weights', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { result } = run(c);
        expect(Math.abs(result.next.reduce((a, s) => a + s.weight, 0) - 1)).toBeLessThanOrEqual(1e-12);
        for (const s of result.next) expect(s.weight > 0 && s.weight <= WESTPA_WE_DEFAULTS.largestAllowedWeight).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('every child has a valid parent; the weight graph accounts for every segment; endpoints agree', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { input, result } = run(c);
        const n = input.segments.nSegs;
        const istateIds = new Set((input.initialStates ?? []).map((s) => s.id));
        const recycled = new Set(result.recycled.map((e) => e.prevSegId));
        for (const s of result.next) {
          if (s.parentId >= 0) {
            expect(s.parentId).toBeLessThan(n);
            expect(s.wtgParentIds).toContain(s.parentId);
            expect(result.endpointTypes[s.parentId]).toBe(Endpoint.CONTINUES);
          } else {
            expect(istateIds.has(-s.parentId - 1)).toBe(true);
          }
          for (const p of s.wtgParentIds) expect(p >= 0 && p < n).toBe(true);
        }
        // every segment's weight flows into some walker of the next iteration
        const inGraph = new Set(result.next.flatMap((s) => s.wtgParentIds));
        for (let i = 0; i < n; i++) expect(inGraph.has(i), `segment ${i}`).toBe(true);
        for (let i = 0; i < n; i++) {
          if (recycled.has(i)) expect(result.endpointTypes[i]).toBe(Endpoint.RECYCLED);
          else expect([Endpoint.CONTINUES, Endpoint.MERGED]).toContain(result.endpointTypes[i]);
        }
        // flux bookkeeping: the recycled weight is exactly the weight that sat in the target bin
        const intoTarget = c.target === null ? 0 : c.weights.filter((_, i) => Math.floor(c.finals[i] as number) === c.target).reduce((a, w) => a + w, 0);
        expect(result.recycled.reduce((a, e) => a + e.weight, 0)).toBeCloseTo(intoTarget, 14);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same input and seed give the same output, bit for bit', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        expect(run(c).result).toEqual(run(c).result);
      }),
      { numRuns: 100 },
    );
  });

  it('different seeds change only which history a merge keeps, never the weights', () => {
    fc.assert(
      fc.property(caseArb, fc.bigInt({ min: 0n, max: 1000n }), (c, other) => {
        const a = run(c).result;
        const b = run({ ...c, seed: c.seed ^ (other + 1n) }).result;
        expect(b.next.map((s) => [s.bin, s.weight])).toEqual(a.next.map((s) => [s.bin, s.weight]));
      }),
      { numRuns: 100 },
    );
  });

  // Subgroups (WESTPA's subgroup_function): labels from the walker's weight-graph parent, so a group is a
  // lineage that merges keep together (a merged walker's wtg parents all carry its group's label).
  const labelled = (c: Case, nLabels: number, params = WESTPA_WE_DEFAULTS) => {
    const st = stageResample(inputOf(c, params));
    const labels = new Map<number, number[]>();
    for (const b of st.bins)
      labels.set(
        b.bin,
        b.walkers.map((w) => (w.wtgParentIds[0] as number) % nLabels),
      );
    return { st, labels: labels as SubgroupLabels, labelOf: (wtg: readonly number[]) => (wtg[0] as number) % nLabels };
  };

  it("subgroups: one label for every walker gives the ungrouped result, bit for bit (WESTPA's identity function)", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { st, labels } = labelled(c, 1);
        expect(st.finish(labels)).toEqual(run(c).result);
      }),
      { numRuns: 200 },
    );
  });

  it('subgroups: weight kept, bins at target, merges never mix groups, and with fewer groups than the target every group survives', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 2, max: 6 }), (c, nLabels) => {
        const { st, labels, labelOf } = labelled(c, nLabels, { ...WESTPA_WE_DEFAULTS, thresholds: false });
        const before = new Map(st.bins.map((b) => [b.bin, new Set(b.walkers.map((w) => labelOf(w.wtgParentIds)))]));
        const r = st.finish(labels);
        expect(Math.abs(r.next.reduce((a, s) => a + s.weight, 0) - 1)).toBeLessThanOrEqual(1e-12);
        const after = new Map<number, Set<number>>();
        const perBin = new Map<number, number>();
        for (const s of r.next) {
          perBin.set(s.bin, (perBin.get(s.bin) ?? 0) + 1);
          const groups = new Set(s.wtgParentIds.map((p) => p % nLabels));
          const bin = before.get(s.bin);
          // one group per walker while the bin has fewer groups than walkers to keep
          if (bin && bin.size < (c.counts[s.bin] as number)) expect(groups.size, `bin ${s.bin}`).toBe(1);
          for (const g of groups) (after.get(s.bin) ?? after.set(s.bin, new Set()).get(s.bin))?.add(g);
        }
        for (const [bin, n] of perBin) expect(n, `bin ${bin}`).toBe(c.counts[bin]);
        for (const [bin, groups] of before) {
          if (groups.size < (c.counts[bin] as number) && bin !== c.target) expect(after.get(bin), `bin ${bin}`).toEqual(groups);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('negative control: grouping changes the result (the labels are not ignored)', () => {
    let differ = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const { st, labels } = labelled(c, 3);
        const a = st.finish(labels).next.map((s) => [s.bin, s.weight]);
        if (JSON.stringify(a) !== JSON.stringify(run(c).result.next.map((s) => [s.bin, s.weight]))) differ++;
      }),
      { numRuns: 100, seed: 7 },
    );
    expect(differ).toBeGreaterThan(20);
  });
});
