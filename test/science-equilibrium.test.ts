/**
 * Does westream's WE give the right distribution? The equilibrium of a TILTED double well (unequal wells: a bug
 * symmetric in x cannot hide) through the real loop, work manager and west.h5, with Brownian dynamics as a
 * function propagator in this process (@westream/testing). Bar: every bin within 4σ of the exact Boltzmann
 * probability, total variation distance ≤ 0.03, σ from 16 independent runs (why not blocks of one run:
 * test/support/science-cases.ts). The negative control that shows this criterion has teeth is
 * test/science-negative-control.test.ts.
 *
 * Each mapper is one entry in EQUILIBRIUM_MAPPERS (test/support/science-cases.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runWe } from '@westream/testing';
import { WestH5 } from '@westream/store';
import { BINLESS_IDENTITY, EQUILIBRIUM_MAPPERS, equilibriumCase, judgeEquilibrium, type Bins, type Verdict } from './support/science-cases.js';

const INF = Infinity;

describe.each(Object.entries(EQUILIBRIUM_MAPPERS))('WE equilibrium of a tilted double well with %s', (name, bins) => {
  let v: Verdict;
  beforeAll(async () => {
    v = await judgeEquilibrium(bins, name);
  }, 600_000);

  it('every bin within 4σ of the Boltzmann probability, total variation distance ≤ 0.03', () => {
    expect(v.failures, v.table).toBe(0);
    expect(v.tvd, v.table).toBeLessThanOrEqual(0.03);
  });
});

// A binless region with WESTPA's identity grouping is one bin: the same seed must give the record of a
// one-bin rectilinear region nested in the same place, weight for weight (the binless region's second group
// stays empty, and an empty bin draws no random numbers, so the resampler draws the same ones).
it('a binless region with the identity grouping gives the record of a one-bin region, bit for bit', async () => {
  const flanks = (region: (at: number) => Record<string, unknown>): Bins => ({
    type: 'RecursiveBinMapper',
    base: { type: 'RectilinearBinMapper', boundaries: [[-INF, -1.2, -0.8, -0.4, 0, 0.4, 0.8, 1.2, INF]] },
    mappers: [region(-1.5), region(1.5)],
  });
  const binless = flanks((at) => ({ type: 'BinlessMapper', ngroups: 2, ndims: 1, group_function: BINLESS_IDENTITY, at: [at] }));
  const oneBin = flanks((at) => ({ type: 'RectilinearBinMapper', boundaries: [[-INF, INF]], at: [at] }));
  const records = [];
  for (const bins of [binless, oneBin]) {
    const run = await runWe(equilibriumCase(bins, 5, false, 30));
    const store = await WestH5.open(run.westH5, { readOnly: true });
    const its = [];
    for (let n = 1; n < store.currentIteration; n++) {
      const it = await store.readIteration(n);
      its.push({ weights: Array.from(it.weights), pcoord: Array.from(it.pcoord) });
    }
    records.push(its);
  }
  expect(records[0]?.length).toBe(30);
  expect(records[0]).toEqual(records[1]);
}, 120_000);
