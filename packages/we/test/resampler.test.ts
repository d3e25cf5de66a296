import { describe, expect, it } from 'vitest';
import { ConsistencyError, Endpoint, RectilinearBinMapper, Rng, WESTPA_WE_DEFAULTS, populateInitial, resample, type ResampleInput } from '@westream/we';

/** A 1-D iteration: segment i ends at finals[i] (and started at 0) with weights[i]. */
function iteration(weights: number[], finals: number[]): ResampleInput['segments'] {
  return { nSegs: weights.length, weights, initPoints: weights.map(() => 0), finalPoints: finals };
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const params = WESTPA_WE_DEFAULTS;

describe('hand-worked cases (expected values derived from WESTPA rules in each test)', () => {
  it('split-heavy bin: a walker above 2×ideal becomes ceil(w/ideal) copies, then light ones merge, then adjust', () => {
    // one bin [0, 1), target 4; weights 0.7, 0.1, 0.1, 0.1 → ideal = 1/4
    const mapper = new RectilinearBinMapper([[0, 1]]);
    const w = [0.7, 0.1, 0.1, 0.1];
    const ideal = 1 / 4;
    // split: 0.7 > 2·ideal → ceil(0.7/0.25) = 3 copies of 0.7/3
    const m = Math.ceil(0.7 / ideal);
    const copy = 0.7 / m;
    // merge-by-weight: sorted [0.1, 0.1, 0.1, copy×3]; cumulative ≤ 0.25 takes the first two → 0.2
    // then [0.1, 0.2, copy×3]: cumulative 0.1, 0.3 → only one ≤ 0.25, stop. 5 walkers.
    // adjust_counts: 5 > 4 → merge the two lightest: 0.1 + 0.2
    const expected = sorted([copy, copy, copy, 0.1 + 0.1 + 0.1]);
    const r = resample({ mapper, targetCounts: [4], params, rng: Rng.derive(1n), segments: iteration(w, [0.5, 0.5, 0.5, 0.5]) });
    expect(sorted(r.next.map((s) => s.weight))).toEqual(expected.map((x): unknown => expect.closeTo(x, 15)));
    // the three copies keep segment 0's history
    expect(r.next.filter((s) => s.parentId === 0)).toHaveLength(3);
    expect(r.endpointTypes[0]).toBe(Endpoint.CONTINUES);
    // the merged walker carries the union of the three light walkers' histories
    const glom = r.next.find((s) => s.wtgParentIds.length > 1);
    expect(glom?.wtgParentIds).toEqual([1, 2, 3]);
    const survivors = [1, 2, 3].filter((p) => r.endpointTypes[p] === Endpoint.CONTINUES);
    expect(survivors).toEqual([glom?.parentId]);
    expect([1, 2, 3].filter((p) => r.endpointTypes[p] === Endpoint.MERGED)).toHaveLength(2);
  });

  it('merge-heavy bin: ten walkers of 0.1 with target 2 merge five at a time into two of 0.5', () => {
    const mapper = new RectilinearBinMapper([[0, 1]]);
    const w = new Array<number>(10).fill(0.1);
    // ideal = 0.5; cumulative sums 0.1 … 0.5 (0.5 ≤ 0.5) → the five lightest merge; again for the other five
    const r = resample({
      mapper,
      targetCounts: [2],
      params,
      rng: Rng.derive(2n),
      segments: iteration(
        w,
        w.map(() => 0.5),
      ),
    });
    expect(r.next.map((s) => s.weight)).toEqual([expect.closeTo(0.5, 15), expect.closeTo(0.5, 15)]);
    const histories = r.next.map((s) => s.wtgParentIds.length);
    expect(histories).toEqual([5, 5]);
    expect(new Set(r.next.flatMap((s) => s.wtgParentIds)).size).toBe(10);
    expect([...r.endpointTypes].filter((e) => e === Endpoint.CONTINUES)).toHaveLength(2);
    expect([...r.endpointTypes].filter((e) => e === Endpoint.MERGED)).toHaveLength(8);
  });

  it('a merge keeps the history of a walker in proportion to its weight', () => {
    // two walkers 0.1 (seg 0) and 0.3 (seg 1) in a bin of target 1: seg 1's history should survive 75% of the time
    const mapper = new RectilinearBinMapper([[0, 1]]);
    const trials = 4000;
    let heavy = 0;
    for (let seed = 0; seed < trials; seed++) {
      const r = resample({ mapper, targetCounts: [1], params, rng: Rng.derive(BigInt(seed)), segments: iteration([0.25, 0.75], [0.5, 0.5]) });
      if (r.next[0]?.parentId === 1) heavy++;
    }
    // binomial: p = 0.75, σ = sqrt(p(1-p)/n) ≈ 0.0068; allow 5σ
    expect(Math.abs(heavy / trials - 0.75)).toBeLessThan(5 * Math.sqrt((0.75 * 0.25) / trials));
  });

  it('recycling from two target states: flux recorded per target, walkers restart from initial states', () => {
    // bins: (-inf,0) [0,1) [1,2) [2,3) [3,inf); targets A in bin 0, B in bin 4; one walker per bin
    const mapper = new RectilinearBinMapper([[-Infinity, 0, 1, 2, 3, Infinity]]);
    const weights = [0.1, 0.2, 0.3, 0.4];
    const finals = [-0.2, 3.2, 3.7, 1.5]; // seg 0 → A; segs 1, 2 → B; seg 3 stays in [1,2)
    const r = resample({
      mapper,
      targetCounts: [1, 1, 1, 1, 1],
      params,
      rng: Rng.derive(3n),
      segments: { nSegs: 4, weights, initPoints: [0.5, 0.5, 0.5, 0.5], finalPoints: finals },
      targetStates: [
        { id: 0, pcoord: [-0.5] },
        { id: 1, pcoord: [3.5] },
      ],
      initialStates: [
        { id: 7, pcoord: [1.2] },
        { id: 8, pcoord: [1.8] },
        { id: 9, pcoord: [2.5] },
      ],
    });
    // recycled in target order, taking initial states in the order given
    expect(r.recycled.map((e) => [e.prevSegId, e.targetStateId, e.initialStateId, e.weight])).toEqual([
      [0, 0, 7, 0.1],
      [1, 1, 8, 0.2],
      [2, 1, 9, 0.3],
    ]);
    expect(r.recycled[1]).toMatchObject({ prevInitPcoord: [0.5], prevFinalPcoord: [3.2], newInitPcoord: [1.8] });
    // flux into each target = sum of the recycled weights
    const flux = [0, 1].map((t) => r.recycled.filter((e) => e.targetStateId === t).reduce((a, e) => a + e.weight, 0));
    expect(flux).toEqual([0.1, expect.closeTo(0.5, 15)]);
    // bin [1,2) now holds seg 3's child and the walkers from istates 7 and 8: target 1 → one walker of 0.7
    // bin [2,3) holds the walker from istate 9, alone; the target bins are empty
    expect(r.next.map((s) => s.bin)).toEqual([2, 3]);
    expect(r.next[0]?.weight).toBeCloseTo(0.1 + 0.2 + 0.4, 15);
    expect(r.next[1]?.weight).toBe(0.3);
    expect(r.next[1]?.parentId).toBe(-(9 + 1));
    expect(r.next[1]?.wtgParentIds).toEqual([2]); // the weight came from segment 2
    expect(r.next[0]?.wtgParentIds).toEqual([0, 1, 3]);
    expect([...r.endpointTypes.slice(0, 3)]).toEqual([Endpoint.RECYCLED, Endpoint.RECYCLED, Endpoint.RECYCLED]);
    // an initial state merged away is given back: istate 9 is used, and exactly one of 7, 8 or none (seg 3 won)
    expect(r.usedIstateIds).toContain(9);
    const other = r.next[0]?.parentId as number;
    expect(r.usedIstateIds).toEqual(other < 0 ? [-other - 1, 9].sort((a, b) => a - b) : [9]);
    expect(r.endpointTypes[3]).toBe(other === 3 ? Endpoint.CONTINUES : Endpoint.MERGED);
  });

  it('thresholds: walkers above largest_allowed_weight split after adjust; those below smallest merge', () => {
    const mapper = new RectilinearBinMapper([[0, 1]]);
    const big = resample({
      mapper,
      targetCounts: [2],
      params: { ...params, largestAllowedWeight: 0.3 },
      rng: Rng.derive(4n),
      segments: iteration([1], [0.5]),
    });
    // ideal 0.5; 1.0 is not > 2×0.5 so no split; adjust splits it into 0.5 + 0.5;
    // thresholds: 0.5 > 0.3 → ceil(0.5/0.3) = 2 copies each → four walkers of 0.25 (WESTPA leaves the bin above target)
    expect(big.next.map((s) => s.weight)).toEqual([0.25, 0.25, 0.25, 0.25]);

    const tiny = resample({
      mapper: new RectilinearBinMapper([[0, 1, 2]]),
      targetCounts: [3, 1],
      params: { ...params, smallestAllowedWeight: 1e-9, adjustCounts: false },
      rng: Rng.derive(5n),
      segments: iteration([1e-12, 3e-12, 0.5 - 4e-12, 0.5], [0.1, 0.2, 0.3, 1.5]),
    });
    // bin 0 (target 3): ideal = 0.5/3; 0.5-4e-12 > 2×ideal splits into ceil(w/ideal) = 3 copies; then
    // merge-by-weight joins 1e-12 + 3e-12 (cumulative ≤ ideal); no adjust. The merged 4e-12 is still
    // below smallest_allowed_weight but alone, so the threshold merge has nothing to pair it with.
    const w2 = 0.5 - 4e-12;
    const copies = Math.ceil(w2 / (0.5 / 3));
    expect(copies).toBe(3);
    const bin0 = sorted(tiny.next.filter((s) => s.bin === 0).map((s) => s.weight));
    expect(bin0).toEqual([expect.closeTo(4e-12, 24), ...new Array<number>(copies).fill(w2 / copies)]);
  });

  it('a bin of target 0 holding walkers is a ConsistencyError, as in WESTPA', () => {
    const mapper = new RectilinearBinMapper([[0, 1, 2]]);
    expect(() => resample({ mapper, targetCounts: [0, 2], params, rng: Rng.derive(6n), segments: iteration([1], [0.5]) })).toThrow(
      /bin 0 has a target count of 0 but holds 1 walkers/,
    );
  });

  it('a final pcoord outside the bins names the segment and value', () => {
    const mapper = new RectilinearBinMapper([[0, 1, 2]]);
    expect(() => resample({ mapper, targetCounts: [2, 2], params, rng: Rng.derive(7n), segments: iteration([0.5, 0.5], [0.5, 2.5]) })).toThrow(
      /segment 1: final pcoord 2\.5 lies outside the bins \(coordinate 0 not in \[0, 2\)\)/,
    );
  });

  it('recycling without enough initial states is a ConsistencyError that says how many are needed', () => {
    const mapper = new RectilinearBinMapper([[0, 1, 2]]);
    expect(() =>
      resample({
        mapper,
        targetCounts: [2, 2],
        params,
        rng: Rng.derive(8n),
        segments: iteration([0.5, 0.5], [1.5, 1.5]),
        targetStates: [{ id: 0, pcoord: [1.5] }],
        initialStates: [{ id: 0, pcoord: [0.5] }],
      }),
    ).toThrow(ConsistencyError);
  });
});

describe('populateInitial (WESTPA populate_initial)', () => {
  it('normalises the basis weights, bins the initial states and splits to the target counts', () => {
    const mapper = new RectilinearBinMapper([[0, 1, 2, Infinity]]);
    const r = populateInitial({
      mapper,
      targetCounts: [4, 4, 4],
      params,
      rng: Rng.derive(9n),
      initialStates: [
        { id: 0, pcoord: [0.5], weight: 3 },
        { id: 1, pcoord: [1.5], weight: 1 },
      ],
    });
    expect(r.next.map((s) => [s.bin, s.parentId, s.weight])).toEqual([
      ...new Array<number[]>(4).fill([0, -1, 0.75 / 4]),
      ...new Array<number[]>(4).fill([1, -2, 0.25 / 4]),
    ]);
    expect(r.next[0]?.wtgParentIds).toEqual([-1]);
    expect(r.usedIstateIds).toEqual([0, 1]);
  });
});
