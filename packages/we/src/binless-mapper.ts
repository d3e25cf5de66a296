/**
 * WESTPA's BinlessMapper (`westpa.core.binning.binless`, 2022.16): the walkers of the mapper's region are
 * put into `ngroups` groups by a grouping function, from their final points when the driver passes
 * initial and final points together (as for MAB), else from all points. WESTPA then gives every point
 * whose first two coordinates (one when ndim is 1) equal a grouped point that point's group, the last
 * grouped point winning; here that rule is applied within the region only (WESTPA also rewrites matching
 * points of other regions, and leaves a region's initial points that match no final point with a stale
 * index; here those get group 0). Final points, the ones resampling uses, get exactly WESTPA's group.
 *
 * WESTPA's grouping function is user Python; natively westream has WESTPA's default, which puts every
 * walker in group 0 (`_binless_group_walkers_identity`). Others are passed in as a `GroupFunction`.
 */
import { BinAssignmentError, type BinMapper, type PointBatch } from './bin-mapper.js';

/** Groups `points` (each `ndim` float32 values) into at most `nGroups` groups; returns one group per point. */
export type GroupFunction = (points: readonly (readonly number[])[], nGroups: number, splitting: boolean) => readonly number[];

/** WESTPA's default grouping: everything in group 0. */
export const identityGrouping: GroupFunction = (points) => points.map(() => 0);

/** WESTPA's names for its default grouping function. */
export const IDENTITY_GROUPING_NAMES = [
  'westpa.core.binning.binless._binless_group_walkers_identity',
  'westpa.core.binning._binless_group_walkers_identity',
] as const;

export class BinlessMapper implements BinMapper {
  readonly type = 'BinlessMapper';
  readonly adaptive = true;
  readonly nbins: number;

  constructor(
    readonly ngroups: number,
    readonly ndim: number,
    private readonly group: GroupFunction = identityGrouping,
  ) {
    if (!Number.isInteger(ngroups) || ngroups < 1) throw new RangeError(`ngroups = ${ngroups}; give a whole number ≥ 1`);
    if (!Number.isInteger(ndim) || ndim < 1) throw new RangeError(`ndims = ${ndim}; give the number of pcoord dimensions`);
    this.nbins = ngroups;
  }

  assignPoint(coords: ArrayLike<number>, offset: number): number {
    for (let d = 0; d < this.ndim; d++) {
      if (Number.isNaN(coords[offset + d])) throw new BinAssignmentError(0, d, NaN, [-Infinity, Infinity]);
    }
    return 0; // one point on its own is one group (WESTPA: `clusters = [0]`)
  }

  assignMasked(batch: PointBatch, mask: Uint8Array, out: Uint32Array): void {
    const { ndim } = this;
    const c = batch.coords;
    const x = (i: number, d: number): number => Math.fround(c[i * ndim + d] as number);
    const region: number[] = [];
    let splitting = batch.weights !== undefined;
    if (splitting) {
      for (let i = 0; i < batch.n; i++) if (mask[i] && (batch.isFinal === undefined || batch.isFinal[i])) region.push(i);
      if (region.length === 0) splitting = false;
    }
    if (!splitting) for (let i = 0; i < batch.n; i++) if (mask[i]) region.push(i);
    if (region.length === 0) return;
    for (const i of region) {
      for (let d = 0; d < ndim; d++) if (Number.isNaN(x(i, d))) throw new BinAssignmentError(i, d, NaN, [-Infinity, Infinity]);
    }
    const points = region.map((i) => Array.from({ length: ndim }, (_, d) => x(i, d)));
    const groups = region.length === 1 ? [0] : this.group(points, Math.min(region.length, this.ngroups), splitting);
    if (groups.length !== region.length) throw new RangeError(`the grouping function returned ${groups.length} groups for ${region.length} walkers`);
    const keyDims = Math.min(ndim, 2);
    const key = (i: number): string => (keyDims === 1 ? String(x(i, 0)) : `${x(i, 0)},${x(i, 1)}`);
    const byKey = new Map<string, number>();
    region.forEach((i, k) => {
      const g = groups[k] as number;
      if (!Number.isInteger(g) || g < 0 || g >= this.ngroups)
        throw new RangeError(`the grouping function put walker ${i} in group ${g}; groups are 0–${this.ngroups - 1}`);
      byKey.set(key(i), g);
    });
    const sizes = new Array<number>(this.ngroups).fill(0);
    for (let i = 0; i < batch.n; i++) {
      if (!mask[i]) continue;
      const g = byKey.get(key(i)) ?? 0;
      out[i] = g;
      if (!splitting || batch.isFinal === undefined || batch.isFinal[i]) sizes[g] = (sizes[g] as number) + 1;
    }
    batch.record?.({ type: 'BinlessMapper', firstBin: 0, nbins: this.nbins, nPoints: region.length, groupSizes: sizes });
  }

  labels(): string[] {
    return Array.from({ length: this.nbins }, (_, g) => `binless group ${g}`);
  }
}
