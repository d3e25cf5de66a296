/**
 * How the WE loop gets segments propagated. The loop neither knows nor cares where they run: in this process
 * (local) or on cluster nodes (BullMQ). Both hand each task to the same `SegmentRunner`.
 */
import type { SegmentResult, SegmentTask } from '@westream/propagator';

export interface WorkManager {
  readonly name: string;
  /**
   * Propagates every task; `onResult` is awaited for each result as it arrives (the loop journals it there).
   * Resolves with all results once every task has one. Aborting `signal` cancels what is still running.
   */
  propagate(tasks: readonly SegmentTask[], onResult: (r: SegmentResult) => Promise<void> | void, signal: AbortSignal): Promise<SegmentResult[]>;
  /** Called when a segment starts, for progress displays. */
  onStart?: (task: SegmentTask) => void;
  close(): Promise<void>;
}
