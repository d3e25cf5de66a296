import { BinAssignmentError, type BinMapper } from './bin-mapper.js';

/**
 * WESTPA's RectilinearBinMapper: a grid of half-open bins `[b_i, b_i+1)` per dimension, C-ordered
 * (the last dimension varies fastest). Like WESTPA, coordinates and boundaries are compared as float32,
 * so a point on a float32-rounded boundary lands in the same bin it lands in under WESTPA.
 */
export class RectilinearBinMapper implements BinMapper {
  readonly type = 'RectilinearBinMapper';
  readonly ndim: number;
  readonly nbins: number;
  private readonly bounds: Float32Array[];
  private readonly strides: number[];

  constructor(boundaries: readonly (readonly number[])[]) {
    if (boundaries.length === 0) throw new RangeError('boundaries: at least one dimension is needed');
    this.bounds = boundaries.map((dim, d) => {
      if (dim.length < 2) throw new RangeError(`boundaries[${d}]: at least two boundaries make one bin`);
      const b = Float32Array.from(dim);
      for (let i = 0; i < b.length; i++) {
        if (Number.isNaN(b[i])) throw new RangeError(`boundaries[${d}][${i}] is NaN`);
        if (i > 0 && !((b[i] as number) > (b[i - 1] as number))) {
          throw new RangeError(
            `boundaries[${d}] must increase strictly: entry ${i} (${dim[i]}) is not above entry ${i - 1} (${dim[i - 1]})` +
              ((dim[i] as number) > (dim[i - 1] as number) ? ' once rounded to float32, as WESTPA compares them' : ''),
          );
        }
      }
      return b;
    });
    this.ndim = this.bounds.length;
    this.strides = new Array<number>(this.ndim);
    let stride = 1;
    for (let d = this.ndim - 1; d >= 0; d--) {
      this.strides[d] = stride;
      stride *= (this.bounds[d] as Float32Array).length - 1;
    }
    this.nbins = stride;
  }

  /** The float32 boundaries of dimension `d`. */
  boundaries(d: number): Float32Array {
    const b = this.bounds[d];
    if (!b) throw new RangeError(`dimension ${d} of ${this.ndim}`);
    return b;
  }

  assignPoint(coords: ArrayLike<number>, offset: number): number {
    let index = 0;
    for (let d = 0; d < this.ndim; d++) {
      const b = this.bounds[d] as Float32Array;
      const x = Math.fround(coords[offset + d] as number);
      const last = b.length - 1;
      if (!(x >= (b[0] as number) && x < (b[last] as number))) {
        throw new BinAssignmentError(0, d, coords[offset + d] as number, [b[0] as number, b[last] as number]);
      }
      // largest i with b[i] <= x
      let lo = 0;
      let hi = last;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if ((b[mid] as number) <= x) lo = mid;
        else hi = mid;
      }
      index += lo * (this.strides[d] as number);
    }
    return index;
  }

  labels(): string[] {
    const out: string[] = [];
    const idx = new Array<number>(this.ndim).fill(0);
    for (let n = 0; n < this.nbins; n++) {
      let rem = n;
      for (let d = 0; d < this.ndim; d++) {
        idx[d] = Math.floor(rem / (this.strides[d] as number));
        rem -= (idx[d] as number) * (this.strides[d] as number);
      }
      out.push(idx.map((i, d) => `[${(this.bounds[d] as Float32Array)[i]}, ${(this.bounds[d] as Float32Array)[i + 1]})`).join(' × '));
    }
    return out;
  }
}
