/**
 * WESTPA's MABDriver / BinlessDriver `assign()` (`westpa.core.binning.mab_driver`, `binless_driver`): the
 * initial and the final points of all segments go to the bin mapper in one call, each with the segment's
 * weight and a final-point flag, so that an adaptive mapper places one set of bins for both. WESTPA picks
 * these drivers by itself whenever the mapper is or nests a MAB or binless mapper; so does westream.
 */
import { assignBatch, BinAssignmentError, type AdaptiveBinsRecord, type BinMapper } from './bin-mapper.js';

export interface SegmentPoints {
  readonly nSegs: number;
  readonly weights: ArrayLike<number>;
  /** `nSegs × ndim`. */
  readonly initPoints: ArrayLike<number>;
  readonly finalPoints: ArrayLike<number>;
}

export interface DriverAssignment {
  readonly initialBins: Uint32Array;
  readonly finalBins: Uint32Array;
  /** The bins each adaptive mapper placed, in the order the mappers ran. */
  readonly adaptiveBins: AdaptiveBinsRecord[];
}

/** A point outside the bins, named by its segment and end. */
export class SegmentOutsideBins extends RangeError {
  readonly code = 'WE_ERR_SEGMENT_OUTSIDE_BINS';
  constructor(
    readonly segment: number,
    readonly end: 'initial' | 'final',
    override readonly cause: BinAssignmentError,
  ) {
    super(
      `segment ${segment}: ${end} pcoord lies outside the bins (coordinate ${cause.dim} = ${cause.value} not in [${cause.range[0]}, ${cause.range[1]})); extend the outer boundaries`,
    );
    this.name = 'SegmentOutsideBins';
  }
}

/** Bins of every segment's initial and final point, binned together (the MAB driver's rule). */
export function assignSegmentsTogether(mapper: BinMapper, s: SegmentPoints): DriverAssignment {
  const { nSegs } = s;
  const ndim = mapper.ndim;
  const coords = new Float64Array(2 * nSegs * ndim);
  const weights = new Float64Array(2 * nSegs);
  const isFinal = new Uint8Array(2 * nSegs);
  for (let i = 0; i < nSegs; i++) {
    for (let d = 0; d < ndim; d++) {
      coords[i * ndim + d] = s.initPoints[i * ndim + d] as number;
      coords[(nSegs + i) * ndim + d] = s.finalPoints[i * ndim + d] as number;
    }
    weights[i] = weights[nSegs + i] = s.weights[i] as number;
    isFinal[nSegs + i] = 1;
  }
  const adaptiveBins: AdaptiveBinsRecord[] = [];
  let bins: Uint32Array;
  try {
    bins = assignBatch(mapper, { coords, n: 2 * nSegs, weights, isFinal, record: (r) => adaptiveBins.push(r) });
  } catch (err) {
    if (err instanceof BinAssignmentError) {
      const i = err.pointIndex;
      throw new SegmentOutsideBins(i % Math.max(1, nSegs), i < nSegs ? 'initial' : 'final', err);
    }
    throw err;
  }
  return { initialBins: bins.slice(0, nSegs), finalBins: bins.slice(nSegs), adaptiveBins };
}
