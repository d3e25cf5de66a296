/** The WE cases the cross-checks send to WESTPA (westpa_reference.py), as westream's resampler input. */
import { Rng, WESTPA_WE_DEFAULTS, type BinMapper, type ResampleInput } from '@westream/we';

export interface WeCase {
  readonly counts: number[];
  readonly weights: number[];
  readonly inits: number[][];
  readonly finals: number[][];
  readonly tstates: number[][];
  readonly istates: { id: number; pcoord: number[] }[];
}

/** The case with WESTPA's `west.we` defaults; `seed, k` derive the merge RNG. */
export function inputOf(mapper: BinMapper, c: WeCase, seed: bigint, k: number): ResampleInput {
  return {
    mapper,
    targetCounts: c.counts,
    params: WESTPA_WE_DEFAULTS,
    rng: Rng.derive(seed, k),
    segments: { nSegs: c.weights.length, weights: c.weights, initPoints: c.inits.flat(), finalPoints: c.finals.flat() },
    targetStates: c.tstates.map((p, id) => ({ id, pcoord: p })),
    initialStates: c.istates,
  };
}
