/** What the store writes and reads, in plain arrays. */
import { Endpoint, type AdaptiveBinsRecord, type RecyclingEntry } from '@westream/we';
// The states are the domain's (packages/we/src/states.ts); re-exported for the store's readers.
export type { BasisStateRecord, InitialStateRecord, StateSet, TargetStateRecord } from '@westream/we';

export interface RunMeta {
  readonly pcoordNdim: number;
  readonly pcoordLen: number;
  readonly pcoordDtype: 'float32' | 'float64';
  readonly iterPrec: number;
  /** The run seed: every random number of the run derives from it. */
  readonly seed: bigint;
}

export interface IterationSummary {
  readonly nParticles: number;
  readonly norm: number;
  readonly minBinProb: number;
  readonly maxBinProb: number;
  readonly minSegProb: number;
  readonly maxSegProb: number;
}

/** A new iteration, before propagation (WESTPA's `prepare_iteration`). */
export interface PreparedIteration {
  readonly nIter: number;
  readonly weights: readonly number[];
  readonly parentIds: readonly number[];
  readonly wtgParentIds: readonly (readonly number[])[];
  /** First pcoord point of each segment, `n × ndim`. */
  readonly initPcoords: ArrayLike<number>;
  readonly binTargetCounts: readonly number[] | null;
  /** Recycling records of the WE step that made this iteration (WESTPA's new_weights). */
  readonly newWeights: readonly RecyclingEntry[];
  readonly summary: IterationSummary;
  /** The bins adaptive mappers (MAB, binless) placed for the WE step that made this iteration. */
  readonly adaptiveBins?: readonly AdaptiveBinsRecord[];
}

/** The propagated segments of an iteration. */
export interface IterationOutcome {
  readonly nIter: number;
  readonly status: Uint8Array;
  readonly endpointTypes: Uint8Array;
  readonly cputime: Float64Array;
  readonly walltime: Float64Array;
  /** `n × pcoord_len × ndim`. */
  readonly pcoord: Float64Array;
  /** Per dataset: the shape of one segment's array and all segments' values. */
  readonly auxdata: Readonly<Record<string, { readonly segShape: readonly number[]; readonly data: Float64Array }>>;
  readonly iterCputime: number;
  readonly iterWalltime: number;
  /**
   * WESTPA's HDF5 framework: the iteration file, relative to west.h5's directory, linked as
   * `iterations/iter_N/trajectories` (an HDF5 external link to its root, as WESTPA's data manager makes it).
   */
  readonly trajectories?: string;
}

/** An iteration as read back. */
export interface IterationRecord {
  readonly nIter: number;
  readonly nSegs: number;
  readonly weights: Float64Array;
  readonly parentIds: number[];
  readonly wtgParentIds: number[][];
  readonly status: Uint8Array;
  readonly endpointTypes: Uint8Array;
  readonly cputime: Float64Array;
  readonly walltime: Float64Array;
  readonly pcoord: Float64Array;
}

/** The segments of an iteration recycled into a target at its end: how many, and their weight (the flux · τ). */
export function recycledOf(rec: Pick<IterationRecord, 'nSegs' | 'weights' | 'endpointTypes'>): { nRecycled: number; recycledWeight: number } {
  let nRecycled = 0;
  let recycledWeight = 0;
  for (let i = 0; i < rec.nSegs; i++) {
    if (rec.endpointTypes[i] !== Endpoint.RECYCLED) continue;
    nRecycled++;
    recycledWeight += rec.weights[i] as number;
  }
  return { nRecycled, recycledWeight };
}
