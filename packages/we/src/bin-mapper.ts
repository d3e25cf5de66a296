/** Maps progress-coordinate points to bin indices. */
export interface BinMapper {
  /** The mapper's WESTPA class name. */
  readonly type: string;
  /** Dimensions of a point. */
  readonly ndim: number;
  /** Number of bins; indices run 0..nbins-1. */
  readonly nbins: number;
  /** Bin of the point at `coords[offset .. offset+ndim)`; throws BinAssignmentError outside the bins. */
  assignPoint(coords: ArrayLike<number>, offset: number): number;
  /** One human-readable label per bin. */
  labels(): string[];
  /** True when the bins depend on the ensemble (MAB, binless, or a mapper nesting one). */
  readonly adaptive?: boolean;
  /**
   * Assigns the points of `batch` whose `mask` entry is 1, writing `out` (WESTPA's `assign(coords, mask,
   * output)`). Adaptive mappers (MAB, binless) need the whole ensemble at once and implement it; for the
   * others `assignBatch()` below calls `assignPoint` point by point.
   */
  assignMasked?(batch: PointBatch, mask: Uint8Array, out: Uint32Array): void;
}

/**
 * Points to bin together, as WESTPA's MAB and binless drivers pass them: with `weights` and `isFinal`
 * (the two extra columns WESTPA appends), adaptive mappers place their bins from the final points and
 * add the special (leading, lagging, bottleneck) bins; without them, only linear bins over the points.
 */
export interface PointBatch {
  /** `n × ndim`, row-major. */
  readonly coords: ArrayLike<number>;
  readonly n: number;
  readonly weights?: ArrayLike<number>;
  /** 1 for a segment's final point, 0 for its initial point. */
  readonly isFinal?: ArrayLike<number>;
  /** Receives the bins each adaptive mapper placed (WESTPA's bin_log). */
  readonly record?: (r: AdaptiveBinsRecord) => void;
}

/** The bins one adaptive mapper placed for one batch. */
export interface AdaptiveBinsRecord {
  readonly type: 'MABBinMapper' | 'BinlessMapper';
  /** Index of the mapper's bin 0 in the whole mapper's numbering (-1 when a RecursiveBinMapper renumbers its bins). */
  readonly firstBin: number;
  readonly nbins: number;
  /** Points the bins were placed from (final points in the region, or all points in it). */
  readonly nPoints: number;
  /** MAB: the linear bin boundaries per dimension. */
  readonly boundaries?: number[][];
  /** MAB: the lagging and leading pcoord per dimension. */
  readonly minima?: number[];
  readonly maxima?: number[];
  /** MAB: the bottleneck walkers' pcoords per dimension (null where there is none). */
  readonly bottlenecksForward?: (number[] | null)[];
  readonly bottlenecksReverse?: (number[] | null)[];
  readonly nBottleneckFilled?: number;
  readonly maxBottleneck?: number;
  /** Binless: points per group. */
  readonly groupSizes?: number[];
}

/** Whether a mapper (or one nested in it) places its bins from the ensemble. */
export function isAdaptive(mapper: BinMapper): boolean {
  return mapper.adaptive === true;
}

/** Assigns every point of the batch (WESTPA's `mapper.assign(coords)`). */
export function assignBatch(mapper: BinMapper, batch: PointBatch): Uint32Array {
  const out = new Uint32Array(batch.n);
  const mask = new Uint8Array(batch.n).fill(1);
  assignMaskedPoints(mapper, batch, mask, out);
  return out;
}

/** `mapper.assignMasked`, or `assignPoint` for each masked point. */
export function assignMaskedPoints(mapper: BinMapper, batch: PointBatch, mask: Uint8Array, out: Uint32Array): void {
  if (mapper.assignMasked) {
    mapper.assignMasked(batch, mask, out);
    return;
  }
  const ndim = mapper.ndim;
  for (let i = 0; i < batch.n; i++) {
    if (!mask[i]) continue;
    try {
      out[i] = mapper.assignPoint(batch.coords, i * ndim);
    } catch (err) {
      if (err instanceof BinAssignmentError) throw new BinAssignmentError(i, err.dim, err.value, err.range);
      throw err;
    }
  }
}

/** A point that no bin contains (outside the boundaries, or NaN). */
export class BinAssignmentError extends RangeError {
  readonly code = 'WE_ERR_OUT_OF_BINS';
  constructor(
    readonly pointIndex: number,
    readonly dim: number,
    readonly value: number,
    readonly range: readonly [number, number],
  ) {
    super(
      `point ${pointIndex}: coordinate ${dim} = ${value} lies outside the bins [${range[0]}, ${range[1]}); ` +
        `extend the outer boundaries (WESTPA configs usually end with 'inf')`,
    );
    this.name = 'BinAssignmentError';
  }
}

/** Assigns `n` points (row-major `n × mapper.ndim`) to bins. */
export function assignPoints(mapper: BinMapper, coords: ArrayLike<number>, n: number, out?: Uint32Array): Uint32Array {
  const result = out ?? new Uint32Array(n);
  const ndim = mapper.ndim;
  for (let i = 0; i < n; i++) {
    try {
      result[i] = mapper.assignPoint(coords, i * ndim);
    } catch (err) {
      if (err instanceof BinAssignmentError) throw new BinAssignmentError(i, err.dim, err.value, err.range);
      throw err;
    }
  }
  return result;
}
