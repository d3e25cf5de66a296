/**
 * The sim-manager's Python helper, for the two WE pieces a user may write in Python: a bin mapper westream has
 * no twin of (FuncBinMapper, VoronoiBinMapper, a user's class …) and a subgroup function
 * (`west.drivers.subgroup_function`). One helper for the run holds the user's system; every point an
 * iteration needs is assigned in one batched call, and the subgroups of every bin in one call per WE step.
 * The pure WE core then sees an ordinary BinMapper that looks the answers up, and plain labels.
 */
import { dirname } from 'node:path';
import { mapperFromSpec, type WestConfig } from '@westream/config';
import { chooseInterpreter, describeSystem, PythonBridge, wire } from '@westream/python-bridge';
import type { BinMapper, StagedBin, SubgroupLabels } from '@westream/we';

/** Assigns `n` points (row-major, n × ndim) to bins. */
export type Assign = (points: Float64Array, n: number) => Promise<Uint32Array>;
/** Labels the walkers of each staged bin with their subgroup, for iteration `nIter` (the walkers' iteration). */
export type Subgroups = (nIter: number, bins: readonly StagedBin[]) => Promise<SubgroupLabels>;

export class SimManagerPython {
  /** Present when the bin mapper is a Python one. */
  readonly assign: Assign | undefined;
  /** Present when the config names a subgroup function. */
  readonly subgroups: Subgroups | undefined;

  private constructor(
    private readonly bridge: PythonBridge,
    private readonly config: WestConfig,
  ) {
    if (config.system.bins.type === 'python') this.assign = this.assignPoints;
    if (config.subgroup) this.subgroups = this.groupWalkers;
  }

  /** Null when the run never needs Python for WE (a native mapper, one group per bin). */
  static async forConfig(config: WestConfig, simRoot: string, onOutput?: (text: string) => void): Promise<SimManagerPython | null> {
    const pythonMapper = config.system.bins.type === 'python';
    if (!pythonMapper && !config.subgroup) return null;
    const purpose = pythonMapper
      ? `the bin mapper of west.system.driver '${config.system.driver ?? '?'}'`
      : `the subgroup function west.drivers.subgroup_function '${config.subgroup?.function ?? '?'}'`;
    const bridge = await PythonBridge.start({
      python: chooseInterpreter(config.westream.python),
      simRoot: simRoot || dirname(config.file),
      configFile: config.file,
      modulePath: config.system.modulePath,
      purpose,
      ...(onOutput ? { onOutput } : {}),
    });
    try {
      await describeSystem(bridge);
    } catch (e) {
      bridge.close();
      throw e;
    }
    return new SimManagerPython(bridge, config);
  }

  private readonly assignPoints: Assign = async (points, n) => {
    if (n === 0) return new Uint32Array(0);
    const ndim = this.config.system.pcoordNdim;
    const pts = points.subarray(0, n * ndim);
    // float32 pcoords travel as float32: exact (they are float32 values), half the bytes, no conversion there.
    const f32 = this.config.system.pcoordDtype === 'float32';
    const f = await this.bridge.request('assign', { where: `assigning ${n} point(s) to bins` }, [wire(f32 ? Float32Array.from(pts) : pts, [n, ndim])]);
    const bins = f.arrays[0]?.data;
    return bins instanceof Uint32Array ? bins : Uint32Array.from(bins as Uint16Array);
  };

  private readonly groupWalkers: Subgroups = async (nIter, bins) => {
    const sub = this.config.subgroup;
    const labels = new Map<number, Int32Array>();
    if (!sub || bins.length === 0) return labels;
    const ndim = this.config.system.pcoordNdim;
    let n = 0;
    let m = 0;
    for (const b of bins) {
      n += b.walkers.length;
      for (const w of b.walkers) m += w.wtgParentIds.length;
    }
    const weights = new Float64Array(n);
    const parents = new Int32Array(n);
    const offsets = new Int32Array(n + 1);
    const wtg = new Int32Array(m);
    const points = new Float64Array(n * ndim);
    let k = 0;
    for (const b of bins) {
      for (const w of b.walkers) {
        weights[k] = w.weight;
        parents[k] = w.parentId;
        wtg.set(w.wtgParentIds, offsets[k]);
        offsets[k + 1] = (offsets[k] as number) + w.wtgParentIds.length;
        for (let d = 0; d < ndim; d++) points[k * ndim + d] = w.initPoint[d] as number;
        k++;
      }
    }
    const f = await this.bridge.request(
      'subgroup',
      { function: sub.function, arguments: sub.arguments, n_iter: nIter, bins: bins.map((b) => b.bin), counts: bins.map((b) => b.walkers.length) },
      [wire(weights), wire(parents), wire(offsets), wire(wtg), wire(points, [n, ndim])],
    );
    const all = f.arrays[0]?.data as Int32Array;
    k = 0;
    for (const b of bins) {
      labels.set(b.bin, all.subarray(k, k + b.walkers.length));
      k += b.walkers.length;
    }
    return labels;
  };

  close(): void {
    this.bridge.close();
  }
}

/**
 * A BinMapper answering from assignments made in Python: the big array by identity (the iteration's final
 * points), single points (target and initial states) by value.
 */
export class AssignedBins implements BinMapper {
  readonly type: string;
  readonly ndim: number;
  readonly nbins: number;
  private readonly byValue = new Map<string, number>();
  private readonly names: () => string[];

  constructor(
    config: WestConfig,
    private readonly bulk: ArrayLike<number> | null,
    private readonly bulkBins: Uint32Array | null,
  ) {
    const m = mapperFromSpec(config.system.bins);
    this.type = m.type;
    this.ndim = m.ndim;
    this.nbins = m.nbins;
    this.names = () => m.labels();
  }

  /** Records the bins of single points (each `ndim` long). */
  add(points: readonly ArrayLike<number>[], bins: Uint32Array): this {
    points.forEach((p, i) => this.byValue.set(keyOf(p, 0, this.ndim), bins[i] as number));
    return this;
  }

  assignPoint(coords: ArrayLike<number>, offset: number): number {
    if (coords === this.bulk && this.bulkBins) return this.bulkBins[offset / this.ndim] as number;
    const b = this.byValue.get(keyOf(coords, offset, this.ndim));
    if (b === undefined) throw new Error(`point ${keyOf(coords, offset, this.ndim)} was not assigned through the Python bin mapper (a bug: please report it)`);
    return b;
  }

  labels(): string[] {
    return this.names();
  }
}

function keyOf(coords: ArrayLike<number>, offset: number, ndim: number): string {
  let k = '';
  for (let d = 0; d < ndim; d++) k += `${coords[offset + d] as number},`;
  return k;
}

/** Single points stacked into one array for one batched call. */
export function stack(points: readonly ArrayLike<number>[], ndim: number): Float64Array {
  const out = new Float64Array(points.length * ndim);
  points.forEach((p, i) => {
    for (let d = 0; d < ndim; d++) out[i * ndim + d] = p[d] as number;
  });
  return out;
}
