/**
 * Frame memory a consumer has given back (`ImdClient.release`), reused for later frames' positions, velocities
 * and forces (the ArrayBuffers behind them: one per whole v3 frame, see the parser's WholeFrame).
 *
 * Why: a 100,000-atom v3 frame is 3.6 MB. Fresh memory per frame costs the kernel's copy page faults on memory
 * just mapped and a cold cache; memory just released is mapped and warm (the most recent is handed back first).
 *
 * Safety: only arrays of a frame the consumer explicitly released are reused. A frame it keeps (never
 * releases) is never written again; by default nothing is released, and every frame has memory of its own.
 * Releasing a frame twice, or one this client did not hand out, throws: it would give one array to two frames.
 */
import type { ImdFrame } from './protocol.js';
import { freshMemory } from './stream-parser.js';

export class FramePool {
  /** Released memory by byte length, most recent last. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Frames handed out and not released. */
  private readonly live = new WeakSet<ImdFrame>();
  private reused = 0;

  /** @param capacity buffers kept per byte length; more released ones are left to the garbage collector. */
  constructor(private readonly capacity: number) {}

  /** `bytes` bytes for the parser to fill: released memory when there is some of that size, else fresh. */
  take(bytes: number): ArrayBuffer {
    const m = this.free.get(bytes)?.pop();
    if (m) {
      this.reused++;
      return m;
    }
    return freshMemory(bytes);
  }

  /** A frame the client hands out: only such frames may be released. */
  issued(frame: ImdFrame): void {
    this.live.add(frame);
  }

  release(frame: ImdFrame): void {
    if (!this.live.has(frame))
      throw new TypeError(`ImdClient.release: frame ${frame.index} (step ${frame.step}) was not handed out by this client, or was released already`);
    this.live.delete(frame);
    const buffers = new Set<ArrayBuffer>();
    for (const a of [frame.positions, frame.velocities, frame.forces]) if (a && a.length > 0) buffers.add(a.buffer as ArrayBuffer);
    for (const m of buffers) {
      let list = this.free.get(m.byteLength);
      if (!list) this.free.set(m.byteLength, (list = []));
      if (list.length < this.capacity) list.push(m);
    }
  }

  /** Buffers handed out again so far (for tests and benchmarks). */
  get reusedBuffers(): number {
    return this.reused;
  }
}
