/**
 * The live view of a run, for the REST API and its event stream: it is the loop's Reporter (passing every call
 * on to the terminal or log reporter) and the loop's RunControl (pause, resume, stop at the end of an
 * iteration). Everything here is in memory and about now; what is recorded lives in west.h5.
 */
import { EventEmitter } from 'node:events';
import type { SegmentResult, SegmentTask } from '@westream/propagator';
import type { IterationReport, Reporter } from '../reporter.js';
import type { RunControl } from '../run-loop.js';

export type RunState = 'initializing' | 'running' | 'paused' | 'stopping' | 'done' | 'failed';

/** One event of `GET /events`. */
export interface RunEvent {
  readonly type: 'run-state' | 'iteration-started' | 'iteration-finished' | 'segment-started' | 'segment-finished' | 'segment-failed' | 'worker-joined' | 'worker-left';
  readonly data: Record<string, unknown>;
}

export interface LiveSegment {
  status: 'pending' | 'running' | 'complete' | 'failed';
  node: string | null;
  cputime: number | null;
  walltime: number | null;
}

export class RunMonitor extends EventEmitter<{ event: [RunEvent] }> implements Reporter, RunControl {
  state: RunState = 'initializing';
  nIter = 0;
  lastIter: number | null = null;
  nSegs = 0;
  readonly startedAt = Date.now();
  lastIteration: IterationReport | null = null;
  /** The current iteration's segments, by id. */
  readonly segments = new Map<number, LiveSegment>();
  /** Wall time of every iteration this process ran, for the ETA and /metrics. */
  readonly iterationTimes: number[] = [];
  workManager = '';
  private pauseRequested = false;
  private stopRequested = false;
  private wake: (() => void) | undefined;

  constructor(private readonly inner: Reporter) {
    super();
    this.setMaxListeners(0); // one listener per open event stream
  }

  private emitEvent(type: RunEvent['type'], data: Record<string, unknown>): void {
    this.emit('event', { type, data });
  }

  private setState(s: RunState): void {
    if (this.state === s) return;
    this.state = s;
    this.emitEvent('run-state', { state: s });
  }

  // --- Reporter ---
  runStarted(info: { nIter: number; lastIter: number | null; westH5: string; workManager: string }): void {
    this.nIter = info.nIter;
    this.lastIter = info.lastIter;
    this.workManager = info.workManager;
    this.setState(this.pauseRequested ? 'paused' : 'running');
    this.inner.runStarted(info);
  }
  iterationStarted(nIter: number, nSegs: number, nToRun: number): void {
    this.nIter = nIter;
    this.nSegs = nSegs;
    this.segments.clear();
    for (let i = 0; i < nSegs; i++) this.segments.set(i, { status: i < nSegs - nToRun ? 'complete' : 'pending', node: null, cputime: null, walltime: null });
    this.emitEvent('iteration-started', { nIter, nSegs, nToRun });
    this.inner.iterationStarted(nIter, nSegs, nToRun);
  }
  segmentStarted(task: SegmentTask): void {
    const s = this.segments.get(task.segId);
    if (s) s.status = 'running';
    this.emitEvent('segment-started', { nIter: task.nIter, segId: task.segId, attempt: task.attempt });
    this.inner.segmentStarted(task);
  }
  segmentFinished(r: SegmentResult): void {
    const s = this.segments.get(r.segId);
    const ok = r.status === 'complete';
    if (s && r.status !== 'cancelled') Object.assign(s, { status: ok ? 'complete' : 'failed', node: r.node || null, cputime: r.cputime, walltime: r.walltime });
    this.emitEvent(ok ? 'segment-finished' : 'segment-failed', { nIter: r.nIter, segId: r.segId, attempt: r.attempt, status: r.status, node: r.node, walltime: r.walltime, ...(ok ? {} : { reason: r.reason }) });
    this.inner.segmentFinished(r);
  }
  iterationFinished(r: IterationReport): void {
    this.lastIteration = r;
    this.iterationTimes.push(r.walltime);
    this.emitEvent('iteration-finished', { ...r });
    this.inner.iterationFinished(r);
  }
  warn(message: string): void {
    this.inner.warn(message);
  }
  info(message: string): void {
    this.inner.info(message);
  }
  close(): void {
    this.inner.close();
  }

  /** The run ended: how. */
  finished(ok: boolean): void {
    this.setState(ok ? 'done' : 'failed');
  }

  // --- RunControl: asked by the loop before each iteration ---
  async beforeIteration(n: number, signal: AbortSignal): Promise<'go' | 'stop'> {
    if (this.pauseRequested && this.nIter !== n) {
      // Held before iteration n: that is the current one now, and none of its segments has started.
      this.nIter = n;
      this.segments.clear();
    }
    while (this.pauseRequested && !this.stopRequested && !signal.aborted) {
      this.setState('paused');
      await new Promise<void>((r) => {
        this.wake = r;
        signal.addEventListener('abort', () => r(), { once: true });
      });
    }
    if (this.stopRequested || signal.aborted) return 'stop';
    this.setState('running');
    return 'go';
  }

  // --- what the API asks for ---
  /** Pauses at the end of the running iteration (segments in flight finish and are recorded). */
  pause(): void {
    this.pauseRequested = true;
  }
  resume(): void {
    this.pauseRequested = false;
    if (this.state === 'paused') this.setState('running');
    this.wake?.();
  }
  /** Stops at the end of the running iteration: it is recorded; `westream run` continues from the next one. */
  stop(): void {
    this.stopRequested = true;
    this.setState('stopping');
    this.wake?.();
  }

  /** What the API asked for and the loop has not reached yet. */
  get requested(): 'pause' | 'stop' | null {
    if (this.stopRequested) return this.state === 'stopping' ? 'stop' : null;
    return this.pauseRequested && this.state === 'running' ? 'pause' : null;
  }

  counts(): { total: number; pending: number; running: number; complete: number; failed: number } {
    const c = { total: this.segments.size, pending: 0, running: 0, complete: 0, failed: 0 };
    for (const s of this.segments.values()) c[s.status]++;
    return c;
  }

  /** Seconds to max_total_iterations at the mean pace of the last five iterations; null when unknown. */
  eta(): number | null {
    if (this.lastIter === null || this.iterationTimes.length === 0) return null;
    const recent = this.iterationTimes.slice(-5);
    const per = recent.reduce((a, b) => a + b, 0) / recent.length;
    const c = this.counts();
    const doneHere = c.total > 0 ? c.complete / c.total : 0;
    return Math.max(0, (this.lastIter - this.nIter + 1 - doneHere) * per);
  }
}
