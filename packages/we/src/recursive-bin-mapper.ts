import { assignMaskedPoints, assignPoints, type AdaptiveBinsRecord, type BinMapper, type PointBatch } from './bin-mapper.js';

/**
 * WESTPA's RecursiveBinMapper: a base mapper some of whose bins are replaced by child mappers.
 * Numbering follows WESTPA so that a `bin_target_counts` list means the same bins in both: first the
 * base bins that are not replaced, in order; then each replaced bin's child bins, by base bin index.
 * Replacing an already replaced bin nests the new mapper inside the existing child, as WESTPA does.
 */
export class RecursiveBinMapper implements BinMapper {
  readonly type = 'RecursiveBinMapper';
  readonly ndim: number;
  private readonly children = new Map<number, RecursiveBinMapper>();
  private outputMap = new Int32Array(0); // base bin -> own index, or -1 when replaced
  private childOffsets = new Map<number, number>();
  private count: number;

  constructor(readonly base: BinMapper) {
    this.ndim = base.ndim;
    this.count = base.nbins;
    this.renumber();
  }

  get nbins(): number {
    return this.count;
  }

  /** True when the base or a nested mapper is adaptive (MAB, binless). */
  get adaptive(): boolean {
    return this.base.adaptive === true || [...this.children.values()].some((c) => c.adaptive);
  }

  /** Replaces the base bin that contains the point `at` with `mapper`. */
  addMapper(mapper: BinMapper, at: readonly number[]): void {
    if (at.length !== this.ndim) {
      throw new RangeError(`the replaced point has ${at.length} coordinates; the base mapper has ${this.ndim}`);
    }
    if (mapper.ndim !== this.ndim) {
      throw new RangeError(`a child mapper of ${mapper.ndim} dimensions cannot replace a bin of ${this.ndim} dimensions`);
    }
    const ibin = assignPoints(this.base, at, 1)[0] as number;
    const existing = this.children.get(ibin);
    if (existing) existing.addMapper(mapper, at);
    else this.children.set(ibin, new RecursiveBinMapper(mapper));
    this.renumber();
  }

  private renumber(): void {
    this.outputMap = new Int32Array(this.base.nbins);
    let next = 0;
    for (let i = 0; i < this.base.nbins; i++) this.outputMap[i] = this.children.has(i) ? -1 : next++;
    this.childOffsets = new Map();
    for (const ibin of [...this.children.keys()].sort((a, b) => a - b)) {
      this.childOffsets.set(ibin, next);
      next += (this.children.get(ibin) as RecursiveBinMapper).nbins;
    }
    this.count = next;
  }

  assignPoint(coords: ArrayLike<number>, offset: number): number {
    const ibin = this.base.assignPoint(coords, offset);
    const own = this.outputMap[ibin] as number;
    if (own >= 0) return own;
    const child = this.children.get(ibin) as RecursiveBinMapper;
    return (this.childOffsets.get(ibin) as number) + child.assignPoint(coords, offset);
  }

  /**
   * WESTPA's `RecursiveBinMapper.assign(coords, mask, output)`: the base assigns every masked point; each
   * replaced bin's mapper then assigns the masked points that landed in that bin, seeing all of them at
   * once (what lets a nested MAB place its bins from its region's walkers).
   */
  assignMasked(batch: PointBatch, mask: Uint8Array, out: Uint32Array): void {
    const record = batch.record;
    const renumbered = this.children.size > 0;
    const baseBatch: PointBatch = record && renumbered ? { ...batch, record: (r: AdaptiveBinsRecord) => record({ ...r, firstBin: -1 }) } : batch;
    assignMaskedPoints(this.base, baseBatch, mask, out);
    if (!renumbered) return;
    const raw = out.slice();
    for (let i = 0; i < batch.n; i++) {
      if (!mask[i]) continue;
      const own = this.outputMap[raw[i] as number] as number;
      if (own >= 0) out[i] = own;
    }
    for (const ibin of [...this.children.keys()].sort((a, b) => a - b)) {
      const child = this.children.get(ibin) as RecursiveBinMapper;
      const offset = this.childOffsets.get(ibin) as number;
      const sub = new Uint8Array(batch.n);
      let any = false;
      for (let i = 0; i < batch.n; i++) {
        if (mask[i] && raw[i] === ibin) {
          sub[i] = 1;
          any = true;
        }
      }
      if (!any) continue;
      const childBatch: PointBatch = record
        ? { ...batch, record: (r: AdaptiveBinsRecord) => record({ ...r, firstBin: r.firstBin < 0 ? -1 : r.firstBin + offset }) }
        : batch;
      child.assignMasked(childBatch, sub, out);
      for (let i = 0; i < batch.n; i++) if (sub[i]) out[i] = (out[i] as number) + offset;
    }
  }

  labels(): string[] {
    const base = this.base.labels();
    const out = base.filter((_, i) => (this.outputMap[i] as number) >= 0);
    for (const ibin of [...this.children.keys()].sort((a, b) => a - b)) {
      for (const l of (this.children.get(ibin) as RecursiveBinMapper).labels()) out.push(`${base[ibin]} / ${l}`);
    }
    return out;
  }
}
