/**
 * The negative control of the equilibrium test (test/science-equilibrium.test.ts): the same criterion, on WE
 * with a deliberately biased merge (a test-only resampler fault, unreachable from a config), must fail — the
 * test has teeth.
 *
 * Its fault must be one the criterion can see: WE stays unbiased for any grouping so long as a merge keeps a
 * history drawn in proportion to weight, so the fault is the merge's choice. Measured on 16 runs: drawing the
 * survivor uniformly is invisible here (τ = 0.02: TVD 0.008, no bin beyond 1.9σ; the walkers of one bin carry
 * nearly equal weights), and at τ = 0.1 keeping the lightest is invisible too (TVD 0.008: positions forget
 * within τ where the light walkers came from). At τ = 0.01 keeping the lightest pushes probability towards the
 * barrier, where light walkers come from: 2 bins beyond 4σ, TVD 0.029.
 */
import { describe, expect, it } from 'vitest';
import { EQUILIBRIUM_MAPPERS, judgeEquilibrium, type Bins } from './support/science-cases.js';

describe('negative control: a biased merge fails the equilibrium test', () => {
  it('with the lightest walker of each merge kept instead of one drawn by weight, the criterion fails', async () => {
    const v = await judgeEquilibrium(EQUILIBRIUM_MAPPERS.RectilinearBinMapper as Bins, 'biased merge (negative control)', true);
    expect(v.failures > 0 || v.tvd > 0.03, `the biased WE passed the test: it has no teeth\n${v.table}`).toBe(true);
  }, 600_000);
});
