/**
 * MABBinMapper on ensembles small enough to work out by hand (the WESTPA cross-check in
 * mab-cross-check.test.ts covers random ones): bin numbering, leading/lagging/bottleneck walkers, equal
 * pcoords, no weights, nesting, and the mistakes.
 */
import { describe, expect, it } from 'vitest';
import {
  BinlessMapper,
  MABBinMapper,
  RectilinearBinMapper,
  RecursiveBinMapper,
  assignBatch,
  assignSegmentsTogether,
  type AdaptiveBinsRecord,
} from '@westream/we';

// five walkers at 0..4 whose weights halve towards the front: every forward score is log(w) − log(w) = 0, a
// three-way tie that the first (x = 1) wins; backwards the best score is x = 1's too (log .25 − log .5)
const weights = [0.5, 0.25, 0.125, 0.0625, 0.0625];
const finals = [0, 1, 2, 3, 4];
const inits = [2.5, 2.5, 2.5, 2.5, 2.5];

describe('MABBinMapper by hand', () => {
  it('direction 0 with bottlenecks: 4 linear bins, then leading (4), lagging (5), forward (6) and reverse (7) bottleneck', () => {
    const m = new MABBinMapper({ nbins: [4] });
    expect(m.nbins).toBe(8);
    expect(m.labels().slice(4)).toEqual([
      'MAB leading walker, dimension 0',
      'MAB lagging walker, dimension 0',
      'MAB forward bottleneck walker, dimension 0',
      'MAB reverse bottleneck walker, dimension 0',
    ]);
    const a = assignSegmentsTogether(m, { nSegs: 5, weights, initPoints: inits, finalPoints: finals });
    // x=0 lagging, x=1 both bottlenecks (forward checked first), x=2, x=3 linear, x=4 leading
    expect([...a.finalBins]).toEqual([5, 6, 2, 3, 4]);
    expect([...a.initialBins]).toEqual([2, 2, 2, 2, 2]);
    expect(a.adaptiveBins).toEqual([
      {
        type: 'MABBinMapper',
        firstBin: 0,
        nbins: 8,
        nPoints: 5,
        boundaries: [[0, 1, 2, 3, 4]],
        minima: [0],
        maxima: [4],
        bottlenecksForward: [[1]],
        bottlenecksReverse: [[1]],
        nBottleneckFilled: 1,
        maxBottleneck: 2,
      },
    ]);
  });

  it('direction 86 without bottlenecks: linear bins only, the leading walker in the last one', () => {
    const m = new MABBinMapper({ nbins: [4], direction: [86], bottleneck: false });
    expect(m.nbins).toBe(4);
    expect([...assignSegmentsTogether(m, { nSegs: 5, weights, initPoints: inits, finalPoints: finals }).finalBins]).toEqual([0, 1, 2, 3, 3]);
  });

  it('direction 1 and -1 keep only the leading or the lagging side', () => {
    const lead = new MABBinMapper({ nbins: [4], direction: [1] });
    expect(lead.nbins).toBe(4 + 1 + 1); // leading bin 4, forward bottleneck 5
    expect([...assignSegmentsTogether(lead, { nSegs: 5, weights, initPoints: inits, finalPoints: finals }).finalBins]).toEqual([0, 5, 2, 3, 4]);
    const lag = new MABBinMapper({ nbins: [4], direction: [-1] });
    expect([...assignSegmentsTogether(lag, { nSegs: 5, weights, initPoints: inits, finalPoints: finals }).finalBins]).toEqual([4, 5, 2, 3, 3]);
  });

  it('walkers on one point: all of them in the forward bottleneck bin (they share its pcoord)', () => {
    const m = new MABBinMapper({ nbins: [4] });
    const same = [1, 1, 1, 1];
    expect([...assignSegmentsTogether(m, { nSegs: 4, weights: [0.25, 0.25, 0.25, 0.25], initPoints: same, finalPoints: same }).finalBins]).toEqual([
      6, 6, 6, 6,
    ]);
  });

  it('without weights (a point on its own, or a batch without the driver columns): linear bins over the points', () => {
    const m = new MABBinMapper({ nbins: [4] });
    expect(m.assignPoint([7.5], 0)).toBe(3); // one point: every edge equals it, numpy's digitize puts it last
    expect([...assignBatch(m, { coords: [0, 1, 2, 3, 4], n: 5 })]).toEqual([0, 1, 2, 3, 3]);
  });

  it('2-D: the first dimension varies fastest; a skipped dimension has one bin and no special bins', () => {
    const m = new MABBinMapper({ nbins: [2, 3], skip: [0, 1], bottleneck: false });
    expect(m.nbins).toBe(2 + 2); // 2 × 1 linear, leading and lagging of dimension 0
    const pts = [0, 0, 0.4, 5, 0.6, 9, 1, 1];
    const b = assignBatch(m, { coords: pts, n: 4, weights: [0.25, 0.25, 0.25, 0.25], isFinal: [1, 1, 1, 1] });
    expect([...b]).toEqual([3, 0, 1, 2]);
    const full = new MABBinMapper({ nbins: [2, 3], bottleneck: false });
    expect([...assignBatch(full, { coords: [0, 0, 1, 3, 0.2, 2.5, 0.8, 0.5], n: 4 })]).toEqual([0, 1 + 2 * 2, 0 + 2 * 2, 1 + 2 * 0]);
  });

  it('nested: each MAB sees only its region; records carry the bin offset', () => {
    const rec = new RecursiveBinMapper(new RectilinearBinMapper([[-Infinity, 0, 10, Infinity]]));
    rec.addMapper(new MABBinMapper({ nbins: [2], bottleneck: false }), [5]);
    rec.addMapper(new BinlessMapper(2, 1), [20]);
    expect(rec.nbins).toBe(1 + 4 + 2);
    expect(rec.adaptive).toBe(true);
    const got: AdaptiveBinsRecord[] = [];
    const b = assignBatch(rec, {
      coords: [-1, 2, 4, 6, 8, 30],
      n: 6,
      weights: [0.1, 0.2, 0.2, 0.2, 0.2, 0.1],
      isFinal: [1, 1, 1, 1, 1, 1],
      record: (r) => got.push(r),
    });
    // -1 unreplaced base bin 0; 2 lagging (1+3), 4 and 6 linear (1+0, 1+1), 8 leading (1+2); 30 binless group 0 (5+0)
    expect([...b]).toEqual([0, 4, 1, 2, 3, 5]);
    expect(got.map((r) => [r.type, r.firstBin, r.nPoints])).toEqual([
      ['MABBinMapper', 1, 4],
      ['BinlessMapper', 5, 1],
    ]);
  });

  it('names the mistakes', () => {
    expect(() => new MABBinMapper({ nbins: [] })).toThrow(/nbins: give the number of bins of each dimension/);
    expect(() => new MABBinMapper({ nbins: [0] })).toThrow(/nbins\[0\] = 0; give a whole number ≥ 1/);
    expect(() => new MABBinMapper({ nbins: [3], direction: [2] })).toThrow(/direction\[0\] = 2; use 0 \(both ends\), 1 \(leading\), -1 \(lagging\) or 86/);
    expect(() => new MABBinMapper({ nbins: [3], pca: true })).toThrow(/pca needs 2 or more dimensions/);
    expect(() => assignBatch(new MABBinMapper({ nbins: [3] }), { coords: [0, NaN], n: 2 })).toThrow(/point 1: coordinate 0 = NaN/);
  });
});
