/**
 * WESTPA's minimal adaptive binning (`westpa.core.binning.mab.MABBinMapper`, 2022.16): per dimension,
 * `nbins` evenly spaced bins between the lagging and the leading final point of the walkers in the
 * mapper's region, plus special bins for the leading and lagging walkers and for the bottleneck walkers
 * (where the log weight drops most against the weight ahead of them). Bins are numbered as WESTPA does:
 * the linear bins (first dimension fastest), then leading, lagging, forward and reverse bottleneck bins,
 * one per active dimension each.
 *
 * WESTPA hands the mapper float32 coordinates and weights (the driver's array has the pcoord dtype, and
 * FuncBinMapper converts to float32), so every value and every sum here is rounded to float32 the same
 * way. WESTPA computes the bottleneck score `log w_i − log Σ_{j>i} w_j` with numpy's float32 SIMD log,
 * which is not correctly rounded; here the float32 log is the correctly rounded one, so two walkers whose
 * scores differ by a few float32 ulps (~1e-7 relative) could be ranked differently. Exact ties (equal
 * weights and sums) are ranked the same (the first wins). `pca` is accepted and, as in WESTPA 2022.16
 * (which computes the projection and then bins the original coordinates), changes nothing.
 */
import { BinAssignmentError, type AdaptiveBinsRecord, type BinMapper, type PointBatch } from './bin-mapper.js';
import { numpySum32 } from './numpy-sum.js';

/** MAB's `direction` values: 0 both ends, 1 leading only, -1 lagging only, 86 neither (bottlenecks both ways). */
export const MAB_DIRECTIONS = [0, 1, -1, 86] as const;

export interface MabOptions {
  /** Linear bins per dimension. */
  readonly nbins: readonly number[];
  readonly direction?: readonly number[];
  /** Truthy: the dimension gets one linear bin and no special bins. */
  readonly skip?: readonly (number | boolean)[];
  /** Bottleneck bins (WESTPA's default: true). */
  readonly bottleneck?: boolean;
  /** Accepted for WESTPA's config; no effect (see above). */
  readonly pca?: boolean;
}

const f32 = Math.fround;
/** float32 log: the correctly rounded one (numpy's SIMD log may differ in the last bits). */
const log32 = (x: number): number => f32(Math.log(x));
/** Bottleneck scores closer than this to the best approximate one are recomputed exactly. */
const SCORE_MARGIN = 1e-3;

export class MABBinMapper implements BinMapper {
  readonly type = 'MABBinMapper';
  readonly adaptive = true;
  readonly ndim: number;
  readonly nbins: number;
  readonly options: Required<Omit<MabOptions, 'skip'>> & { readonly skip: readonly boolean[] };
  private readonly linear: number[];
  private readonly strides: number[];
  private readonly active: number[];
  private readonly skipLead: boolean[];
  private readonly skipLag: boolean[];
  private readonly skipFwd: boolean[];
  private readonly skipRev: boolean[];
  private readonly offLead: number;
  private readonly offLag: number;
  private readonly offFwd: number;
  private readonly offRev: number;
  /** Bin id of each dimension's special bins (WESTPA: offset + d − skipped dimensions before d). */
  private readonly idLead: number[];
  private readonly idLag: number[];
  private readonly idFwd: number[];
  private readonly idRev: number[];

  constructor(opts: MabOptions) {
    const ndim = opts.nbins.length;
    if (ndim === 0) throw new RangeError('nbins: give the number of bins of each dimension, e.g. [10]');
    opts.nbins.forEach((b, d) => {
      if (!Number.isInteger(b) || b < 1) throw new RangeError(`nbins[${d}] = ${b}; give a whole number ≥ 1`);
    });
    const direction = opts.direction ?? new Array<number>(ndim).fill(0);
    const skip = (opts.skip ?? new Array<number>(ndim).fill(0)).map(Boolean);
    if (direction.length !== ndim) throw new RangeError(`direction has ${direction.length} entries for ${ndim} dimensions`);
    if (skip.length !== ndim) throw new RangeError(`skip has ${skip.length} entries for ${ndim} dimensions`);
    direction.forEach((v, d) => {
      if (!(MAB_DIRECTIONS as readonly number[]).includes(v))
        throw new RangeError(`direction[${d}] = ${v}; use 0 (both ends), 1 (leading), -1 (lagging) or 86 (neither)`);
    });
    if (opts.pca && ndim === 1)
      throw new RangeError('pca needs 2 or more dimensions (WESTPA 2022.16 stops with a numpy LinAlgError on 1-D pcoords); remove pca');
    const bottleneck = opts.bottleneck ?? true;
    this.options = { nbins: [...opts.nbins], direction: [...direction], skip, bottleneck, pca: opts.pca ?? false };
    this.ndim = ndim;
    this.linear = opts.nbins.map((b, d) => (skip[d] ? 1 : b));
    this.strides = [];
    let stride = 1;
    for (let d = 0; d < ndim; d++) {
      this.strides.push(stride);
      stride *= this.linear[d] as number;
    }
    this.active = [];
    for (let d = 0; d < ndim; d++) if (!skip[d]) this.active.push(d);
    this.skipLead = direction.map((v, d) => v === 86 || v === -1 || (skip[d] as boolean));
    this.skipLag = direction.map((v, d) => v === 86 || v === 1 || (skip[d] as boolean));
    this.skipFwd = direction.map((v, d) => (bottleneck ? v === -1 : true) || (skip[d] as boolean));
    this.skipRev = direction.map((v, d) => (bottleneck ? v === 1 : true) || (skip[d] as boolean));
    const count = (a: boolean[]): number => a.filter((s) => !s).length;
    this.offLead = stride;
    this.offLag = this.offLead + count(this.skipLead);
    this.offFwd = this.offLag + count(this.skipLag);
    this.offRev = this.offFwd + count(this.skipFwd);
    this.nbins = this.offRev + count(this.skipRev);
    const ids = (skips: boolean[], off: number): number[] => skips.map((_, d) => off + d - skips.slice(0, d).filter(Boolean).length);
    this.idLead = ids(this.skipLead, this.offLead);
    this.idLag = ids(this.skipLag, this.offLag);
    this.idFwd = ids(this.skipFwd, this.offFwd);
    this.idRev = ids(this.skipRev, this.offRev);
  }

  /** A point on its own: one linear bin spanning just that point (WESTPA's `assign([pcoord])`). */
  assignPoint(coords: ArrayLike<number>, offset: number): number {
    const out = new Uint32Array(1);
    this.assignMasked({ coords: Array.from({ length: this.ndim }, (_, d) => coords[offset + d] as number), n: 1 }, Uint8Array.of(1), out);
    return out[0] as number;
  }

  assignMasked(batch: PointBatch, mask: Uint8Array, out: Uint32Array): void {
    const { ndim } = this;
    const n = batch.n;
    // WESTPA's FuncBinMapper hands the mapper float32 coordinates: round once, compare those.
    const c = new Float32Array(n * ndim);
    const src = batch.coords;
    for (let k = 0; k < n * ndim; k++) c[k] = src[k] as number;
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      any = true;
      for (let d = 0; d < ndim; d++) {
        if (Number.isNaN(c[i * ndim + d])) throw new BinAssignmentError(i, d, NaN, [-Infinity, Infinity]);
      }
    }
    if (!any) return;
    // The region's final points place the bins; with none (only initial points here), all of its points do.
    let splitting = batch.weights !== undefined;
    let region = new Uint32Array(n);
    let m = 0;
    if (splitting) {
      const fin = batch.isFinal;
      for (let i = 0; i < n; i++) if (mask[i] && (fin === undefined || fin[i])) region[m++] = i;
      if (m === 0) splitting = false;
    }
    if (!splitting) for (let i = 0; i < n; i++) if (mask[i]) region[m++] = i;
    region = region.subarray(0, m);
    const minima: number[] = [];
    const maxima: number[] = [];
    for (let d = 0; d < ndim; d++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = 0; k < m; k++) {
        const v = c[(region[k] as number) * ndim + d] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      minima.push(lo);
      maxima.push(hi);
    }
    const bnFwd = new Int32Array(ndim).fill(-1);
    const bnRev = new Int32Array(ndim).fill(-1);
    const bottleneck = this.options.bottleneck;
    if (splitting && bottleneck) {
      const w = new Float32Array(m);
      const bw = batch.weights as ArrayLike<number>;
      for (let k = 0; k < m; k++) w[k] = bw[region[k] as number] as number;
      for (const d of this.active) [bnFwd[d], bnRev[d]] = bottlenecks(region, c, ndim, d, w);
    }
    const edges = minima.map((lo, d) => linspace32(lo, maxima[d] as number, (this.linear[d] as number) + 1));
    const sameRow = (i: number, j: number): boolean => {
      if (j < 0) return false;
      for (let d = 0; d < ndim; d++) if (c[i * ndim + d] !== c[j * ndim + d]) return false;
      return true;
    };
    const { idFwd, idRev, idLead, idLag, active, skipFwd, skipRev, skipLead, skipLag, linear, strides } = this;
    let filled = 0;
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      let bin = -1;
      if (splitting && bottleneck) {
        for (const d of active) {
          if (!skipFwd[d] && sameRow(i, bnFwd[d] as number)) bin = idFwd[d] as number;
          else if (!skipRev[d] && sameRow(i, bnRev[d] as number)) bin = idRev[d] as number;
          if (bin >= 0) {
            filled++;
            break;
          }
        }
      }
      if (splitting && bin < 0) {
        for (const d of active) {
          const v = c[i * ndim + d] as number;
          if (v === maxima[d] && !skipLead[d]) bin = idLead[d] as number;
          else if (v === minima[d] && !skipLag[d]) bin = idLag[d] as number;
          if (bin >= 0) break;
        }
      }
      if (bin < 0) {
        bin = 0;
        for (let d = 0; d < ndim; d++) {
          const nb = linear[d] as number;
          let k = searchRight(edges[d] as Float32Array, c[i * ndim + d] as number) - 1; // np.digitize
          if (k >= nb)
            k = nb - 1; // on the leading edge
          else if (k < 0) k = 0; // below the lagging edge (an initial point)
          bin += k * (strides[d] as number);
        }
      }
      out[i] = bin;
    }
    if (batch.record) {
      const rowOf = (j: number): number[] | null => (j < 0 ? null : Array.from(c.subarray(j * ndim, (j + 1) * ndim)));
      const rec: AdaptiveBinsRecord = {
        type: 'MABBinMapper',
        firstBin: 0,
        nbins: this.nbins,
        nPoints: m,
        boundaries: edges.map((e) => Array.from(e)),
        minima,
        maxima,
        bottlenecksForward: Array.from(bnFwd, rowOf),
        bottlenecksReverse: Array.from(bnRev, rowOf),
        nBottleneckFilled: filled,
        maxBottleneck: bottleneck ? active.reduce((sum, d) => sum + (Math.abs(this.options.direction[d] as number) === 1 ? 1 : 2), 0) : 0,
      };
      batch.record(rec);
    }
  }

  labels(): string[] {
    const out: string[] = [];
    for (let b = 0; b < this.offLead; b++) {
      out.push(`MAB linear ${this.linear.map((nb, d) => Math.floor(b / (this.strides[d] as number)) % nb).join(',')}`);
    }
    const special = (skips: boolean[], what: string): void => {
      for (let d = 0; d < this.ndim; d++) if (!skips[d]) out.push(`MAB ${what} walker, dimension ${d}`);
    };
    special(this.skipLead, 'leading');
    special(this.skipLag, 'lagging');
    special(this.skipFwd, 'forward bottleneck');
    special(this.skipRev, 'reverse bottleneck');
    return out;
  }
}

/**
 * The forward and reverse bottleneck walkers (point indices, -1 for none) of the region along dimension `d`
 * (WESTPA's `detect_bottlenecks`): sort by the coordinate (stable), and among the inner walkers take the
 * first with the largest `log w_i − log(Σ of the weights ahead)`, ahead meaning higher (forward) or lower.
 */
function bottlenecks(region: Uint32Array, c: Float32Array, ndim: number, d: number, weights: Float32Array): [number, number] {
  const m = region.length;
  const order = stableOrder(region, c, ndim, d);
  const w = new Float32Array(m);
  for (let k = 0; k < m; k++) w[k] = weights[order[k] as number] as number;
  const fwd = bestScore(w);
  const rev = bestScore(w.slice().reverse());
  const point = (k: number): number => (k < 0 ? -1 : (region[order[k] as number] as number));
  return [point(fwd), rev < 0 ? -1 : point(m - 1 - rev)];
}

/**
 * Positions 0..m-1 of the region, sorted by coordinate `d`, ties in order (numpy's stable argsort). Float32
 * values map to order-preserving 32-bit keys; key·2²¹ + position is an exact double, so a plain numeric sort
 * of those does it (a comparator sort of 100,000 walkers is ten times slower).
 */
function stableOrder(region: Uint32Array, c: Float32Array, ndim: number, d: number): Uint32Array {
  const m = region.length;
  const order = new Uint32Array(m);
  if (m >= 2 ** 21) {
    for (let k = 0; k < m; k++) order[k] = k;
    const v = (k: number): number => c[(region[k] as number) * ndim + d] as number;
    return order.sort((a, b) => v(a) - v(b) || a - b);
  }
  const one = new Float32Array(1);
  const bits = new Uint32Array(one.buffer);
  const keys = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    one[0] = c[(region[k] as number) * ndim + d] as number;
    if (one[0] === 0) one[0] = 0; // -0 sorts with +0, as numpy compares them equal
    const b = bits[0] as number;
    const key = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    keys[k] = key * 2 ** 21 + k;
  }
  keys.sort();
  for (let k = 0; k < m; k++) order[k] = (keys[k] as number) % 2 ** 21;
  return order;
}

/**
 * Index of the first maximum of `Z_i = log w_i − log Σ_{j>i} w_j` over 1 ≤ i ≤ m−2, in float32 as WESTPA
 * computes it; -1 when no score beats −∞. WESTPA sums each tail anew (O(m²)); here float64 tail sums rank
 * the walkers and only those within SCORE_MARGIN of the best are scored exactly, which cannot change the
 * winner: the approximation is off by far less than the margin (float32 sums of m positive values err by
 * < (log2 m + 24)·2⁻²⁴ relative; each float32 log by < 1e-5).
 */
function bestScore(w: Float32Array): number {
  const m = w.length;
  if (m < 3) return -1;
  const tail = new Float64Array(m);
  for (let i = m - 2; i >= 0; i--) tail[i] = (tail[i + 1] as number) + (w[i + 1] as number);
  const approx = new Float64Array(m);
  let best = -Infinity;
  for (let i = 1; i < m - 1; i++) {
    const z = Math.log(w[i] as number) - Math.log(tail[i] as number);
    approx[i] = z;
    if (z > best) best = z;
  }
  if (best === -Infinity) return -1;
  let maxdiff = -Infinity;
  let at = -1;
  for (let i = 1; i < m - 1; i++) {
    const a = approx[i] as number;
    if (!(a >= best - SCORE_MARGIN)) continue; // NaN (0/0) never wins, as in WESTPA
    const z = f32(log32(w[i] as number) - log32(numpySum32(w, i + 1, m - i - 1)));
    if (z > maxdiff) {
      maxdiff = z;
      at = i;
    }
  }
  return at;
}

/** numpy's `linspace(start, stop, num)` for float32 scalars: `start + i·step`, each step rounded, the last exactly `stop`. */
export function linspace32(start: number, stop: number, num: number): Float32Array {
  const out = new Float32Array(num);
  const div = num - 1;
  const delta = f32(stop - start);
  const step = f32(delta / div);
  for (let i = 0; i < num; i++) {
    // numpy: with a zero step (equal ends, or a denormal one) it scales i/div by delta instead
    const y = step === 0 ? f32(f32(i / div) * delta) : f32(i * step);
    out[i] = f32(y + start);
  }
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** Number of entries ≤ x (numpy's `searchsorted(side='right')`, as `digitize` uses it). */
function searchRight(e: Float32Array, x: number): number {
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((e[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
