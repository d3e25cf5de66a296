/**
 * Dataset loaders that are the user's own Python functions (`loader: module.function`), called on the worker
 * after the segment with WESTPA's signature `(fieldname, filename, segment, single_point)`. The segment
 * carries n_iter, seg_id, weight, parent_id and the pcoord just read; every array the loaders leave in
 * segment.data is recorded as auxdata/NAME, as WESTPA records it. One helper per runner, started once.
 */
import type { WestConfig } from '@westream/config';
import { chooseInterpreter, PythonBridge, wire } from '@westream/python-bridge';
import type { AuxArray, SegmentTask } from './types.js';

export class PythonLoaders {
  private bridge: Promise<PythonBridge> | undefined;

  constructor(
    private readonly config: WestConfig,
    private readonly simRoot: string,
  ) {}

  async load(task: SegmentTask, pcoord: Float64Array, datasets: readonly { name: string; loader: string; filename: string }[]): Promise<Record<string, AuxArray>> {
    this.bridge ??= PythonBridge.start({
      python: chooseInterpreter(this.config.westream.python),
      simRoot: this.simRoot,
      configFile: this.config.file,
      modulePath: this.config.system.modulePath,
      purpose: `the dataset loader(s) ${datasets.map((d) => `'${d.loader}'`).join(', ')}`,
    });
    let bridge: PythonBridge;
    try {
      bridge = await this.bridge;
    } catch (e) {
      this.bridge = undefined; // the next segment tries again (and fails the same way, naming the cause)
      throw e;
    }
    const { pcoordLen, pcoordNdim } = this.config.system;
    const f = await bridge.request(
      'load',
      { segment: { n_iter: task.nIter, seg_id: task.segId, weight: task.weight, parent_id: task.parentId }, datasets },
      [wire(pcoord, [pcoordLen, pcoordNdim])],
    );
    const out: Record<string, AuxArray> = {};
    ((f.header.data ?? []) as { name: string }[]).forEach((d, i) => {
      const a = f.arrays[i];
      if (a) out[d.name] = { shape: [...a.shape], data: Array.from(a.data as Float64Array) };
    });
    return out;
  }

  close(): void {
    void this.bridge?.then((b) => b.close(), () => undefined);
  }
}
