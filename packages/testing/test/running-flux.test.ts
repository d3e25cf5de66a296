/** The running rate the pretty table shows (services/sim-manager's runningFlux), and the harness's statistics. */
import { describe, expect, it } from 'vitest';
import { runningFlux } from '@westream/sim-manager';
import { blockAverage, rateFromPassages } from '@westream/testing';

describe('runningFlux', () => {
  it('has no error bar before 8 iterations, and is 0 until a flux', () => {
    expect(runningFlux([1, 2, 3, 4, 5, 6, 7])).toBeNull();
    expect(runningFlux(new Array<number>(8).fill(0))).toBe(0);
  });

  it('averages the second half, in whole blocks of the newest iterations, with the blocks’ standard error', () => {
    // 16 iterations: the second half is 9..16 (values 100..107); √8 → 4 blocks of 2: means 100.5, 102.5, 104.5, 106.5.
    const e = runningFlux([...Array.from({ length: 8 }, () => 1e6), 100, 101, 102, 103, 104, 105, 106, 107]);
    expect(e).toBeTruthy();
    if (!e) return;
    expect(e.mean).toBeCloseTo(103.5, 12);
    expect(e.n).toBe(8);
    expect(e.se).toBeCloseTo(Math.sqrt(20 / 3) / 2, 12); // sd of the block means / √4
  });
});

describe('harness statistics', () => {
  it('block averages and the delta-method rate error', () => {
    const b = blockAverage([1, 3, 5, 7, 9], 2); // blocks (1,3) and (5,7); the leftover 9 is dropped
    expect(b).toEqual({ mean: 4, se: 2, n: 2 });
    const r = rateFromPassages([1, 3]); // mean 2, se 1 → k = 0.5, se = 1/4
    expect(r.mean).toBe(0.5);
    expect(r.se).toBeCloseTo(0.25, 12);
  });
});
