/**
 * Bins of a Python mapper (FuncBinMapper, VoronoiBinMapper, a user's class …): the sim-manager keeps one helper
 * for the run, holding the user's system, and assigns every point an iteration needs in one batched call. The
 * pure WE core then sees an ordinary BinMapper that looks the answers up.
 */
import { dirname } from 'node:path';
import { mapperFromSpec, type WestConfig } from '@westream/config';
import { chooseInterpreter, describeSystem, PythonBridge, wire } from '@westream/python-bridge';
import type { BinMapper } from '@westream/we';

/** Assigns `n` points (row-major, n × ndim) to bins. */
export type Assign = (points: Float64Array, n: number) => Promise<Uint32Array>;

export class PythonAssigner {
  private constructor(
    private readonly bridge: PythonBridge,
    private readonly ndim: number,
    /** float32 pcoords travel as float32: exact (they are float32 values), half the bytes, no conversion there. */
    private readonly f32: boolean,
  ) {}

  /** Null when the config's mapper is native (the run never calls Python for it). */
  static async forConfig(config: WestConfig, simRoot: string, onOutput?: (text: string) => void): Promise<PythonAssigner | null> {
    if (config.system.bins.type !== 'python') return null;
    const bridge = await PythonBridge.start({
      python: chooseInterpreter(config.westream.python),
      simRoot: simRoot || dirname(config.file),
      configFile: config.file,
      modulePath: config.system.modulePath,
      purpose: `the bin mapper of west.system.driver '${config.system.driver ?? '?'}'`,
      ...(onOutput ? { onOutput } : {}),
    });
    try {
      await describeSystem(bridge);
    } catch (e) {
      bridge.close();
      throw e;
    }
    return new PythonAssigner(bridge, config.system.pcoordNdim, config.system.pcoordDtype === 'float32');
  }

  readonly assign: Assign = async (points, n) => {
    if (n === 0) return new Uint32Array(0);
    const pts = points.subarray(0, n * this.ndim);
    const f = await this.bridge.request('assign', { where: `assigning ${n} point(s) to bins` }, [wire(this.f32 ? Float32Array.from(pts) : pts, [n, this.ndim])]);
    const bins = f.arrays[0]?.data;
    return bins instanceof Uint32Array ? bins : Uint32Array.from(bins as Uint16Array);
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
