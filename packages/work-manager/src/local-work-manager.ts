/**
 * Runs segments in this process, `slots` at a time (default: the number of CPU cores).
 *
 * When the runner can enforce the limit itself (its launcher queues segments), twice as many are handed to it:
 * the next segments are prepared while others run, and each starts the moment a slot frees, without waiting
 * for this process to finish recording the one that ended.
 */
import { availableParallelism } from 'node:os';
import { adoptSegmentDir, type SegmentResult, type SegmentRunner, type SegmentTask } from '@westream/propagator';
import type { WorkManager } from './work-manager.js';

export class LocalWorkManager implements WorkManager {
  readonly name = 'local';
  onStart?: (task: SegmentTask) => void;
  readonly slots: number;

  constructor(
    private readonly runner: Pick<SegmentRunner, 'runSegment'> & Partial<Pick<SegmentRunner, 'limitConcurrency' | 'lanesPerSlot' | 'holdQueue'>>,
    slots?: number | null,
  ) {
    this.slots = slots ?? availableParallelism();
  }

  async propagate(tasks: readonly SegmentTask[], onResult: (r: SegmentResult) => Promise<void> | void, signal: AbortSignal): Promise<SegmentResult[]> {
    const results: SegmentResult[] = new Array<SegmentResult>(tasks.length);
    let next = 0;
    // The segments see their own signal, aborted once the launcher holds its queue: killing the running ones
    // frees slots, and a segment queued there must not start in the moment before its own cancel arrives.
    const stop = new AbortController();
    const onAbort = (): void => {
      void (this.runner.holdQueue?.() ?? Promise.resolve()).then(() => stop.abort());
    };
    if (signal.aborted) stop.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const lane = async (): Promise<void> => {
      while (next < tasks.length) {
        const i = next++;
        const task = tasks[i] as SegmentTask;
        if (signal.aborted) {
          results[i] = cancelled(task);
          continue;
        }
        const r = accept(await this.runner.runSegment(task, stop.signal, () => this.onStart?.(task)));
        await onResult(r);
        results[i] = r;
      }
    };
    const lanes = this.runner.limitConcurrency?.(this.slots) === true ? (this.runner.lanesPerSlot?.() ?? 2) * this.slots : this.slots;
    try {
      await Promise.all(Array.from({ length: Math.min(lanes, tasks.length) }, lane));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return results;
  }

  async close(): Promise<void> {}
}

/** The one result of its segment: a re-run's staged directory (after a restart) takes the segment's place. */
function accept(r: SegmentResult): SegmentResult {
  try {
    return adoptSegmentDir(r);
  } catch (e) {
    const { stagedDir, ...rest } = r;
    void stagedDir;
    return { ...rest, status: 'failed', pcoord: [], auxdata: {}, reason: `segment ${r.segId} of iteration ${r.nIter}: ${(e as Error).message}` };
  }
}

function cancelled(t: SegmentTask): SegmentResult {
  return {
    nIter: t.nIter,
    segId: t.segId,
    attempt: t.attempt,
    status: 'cancelled',
    pcoord: [],
    auxdata: {},
    cputime: 0,
    walltime: 0,
    reason: 'cancelled before it started',
    log: null,
    node: '',
  };
}
