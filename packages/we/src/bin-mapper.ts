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
