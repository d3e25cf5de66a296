/**
 * Dataset loaders that are the user's own Python functions (`loader: module.function`), called on the worker
 * after the segment with WESTPA's signature `(fieldname, filename, segment, single_point)`. The segment
 * carries n_iter, seg_id, weight, parent_id and the pcoord just read; every array the loaders leave in
 * segment.data is recorded as auxdata/NAME, as WESTPA records it. One helper per runner, started once.
 */
import type { WestConfig } from '@westream/config';
import { chooseInterpreter, PythonBridge, wire } from '@westream/python-bridge';
import type { AuxArray, SegmentTask } from './types.js';
import type { LoadedTrajectory } from './wire-trajectory.js';

export class PythonLoaders {
  private bridge: Promise<PythonBridge> | undefined;

  constructor(
    private readonly config: WestConfig,
    private readonly simRoot: string,
  ) {}

  private async started(purpose: string): Promise<PythonBridge> {
    this.bridge ??= PythonBridge.start({
      python: chooseInterpreter(this.config.westream.python),
      simRoot: this.simRoot,
      configFile: this.config.file,
      modulePath: this.config.system.modulePath,
      purpose,
    });
    try {
      return await this.bridge;
    } catch (e) {
      this.bridge = undefined; // the next segment tries again (and fails the same way, naming the cause)
      throw e;
    }
  }

  /**
   * WESTPA's trajectory loader (`loader` of the 'trajectory' dataset; mdtraj's by default) on the segment's
   * WEST_TRAJECTORY_RETURN directory: the frames, in nm / ps / degrees, and the topology as mdtraj's JSON.
   */
  /** `task`: the segment's identity as the loader sees it (a basis state's is WESTPA's dummy segment of iteration 0). */
  async loadTrajectory(task: Pick<SegmentTask, 'nIter' | 'segId' | 'weight' | 'parentId'>, dir: string, loader: string): Promise<LoadedTrajectory> {
    const bridge = await this.started(`the trajectory loader '${loader}' (WESTPA's HDF5 framework)`);
    const f = await bridge.request(
      'load_trajectory',
      { segment: { n_iter: task.nIter, seg_id: task.segId, weight: task.weight, parent_id: task.parentId }, dir, loader },
      [],
    );
    const h = f.header as { topology: string; atoms: number; frames: number; time: boolean; cell: boolean };
    const arrays = f.arrays.map((a) => a.data as Float32Array);
    const coordinates = arrays[0] as Float32Array;
    const time = h.time ? arrays[1] : undefined;
    const at = h.time ? 2 : 1;
    const cell = h.cell ? { lengths: arrays[at] as Float32Array, angles: arrays[at + 1] as Float32Array } : undefined;
    return { topology: h.topology, atoms: h.atoms, coordinates, ...(time ? { time } : {}), ...(cell ? { cell } : {}) };
  }

  async load(
    task: SegmentTask,
    pcoord: Float64Array,
    datasets: readonly { name: string; loader: string; filename: string }[],
  ): Promise<Record<string, AuxArray>> {
    const bridge = await this.started(`the dataset loader(s) ${datasets.map((d) => `'${d.loader}'`).join(', ')}`);
    const { pcoordLen, pcoordNdim } = this.config.system;
    const f = await bridge.request('load', { segment: { n_iter: task.nIter, seg_id: task.segId, weight: task.weight, parent_id: task.parentId }, datasets }, [
      wire(pcoord, [pcoordLen, pcoordNdim]),
    ]);
    const out: Record<string, AuxArray> = {};
    ((f.header.data ?? []) as { name: string }[]).forEach((d, i) => {
      const a = f.arrays[i];
      if (a) out[d.name] = { shape: [...a.shape], data: Array.from(a.data as Float64Array) };
    });
    return out;
  }

  close(): void {
    void this.bridge?.then(
      (b) => b.close(),
      () => undefined,
    );
  }
}
