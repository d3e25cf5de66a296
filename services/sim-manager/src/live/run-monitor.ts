/**
 * The loop's side of the live view: it is the loop's Reporter (passing every call on to the terminal or log
 * reporter) and its RunControl (pause, resume, stop at the end of an iteration), and it turns both into
 * RunEvents. Its own RunView applies them at once; the API's thread gets the same events.
 */
import type { SegmentResult, SegmentTask } from '@westream/propagator';
import type { IterationReport, Reporter } from '../reporter.js';
import type { RunControl } from '../run-loop.js';
import { RunView, type ControlRequest, type RunEvent, type RunState } from './run-view.js';
import { describeStraggler } from './stragglers.js';

export interface RunMonitorOptions {
  /** stragglers.ts: seconds a segment must have run to be named (west.westream.straggler_seconds). */
  readonly stragglerSeconds?: number;
  /** segment_timeout, for the straggler message (null: none). */
  readonly segmentTimeout?: number | null;
  /** How often stragglers are looked for (ms; default 5000). */
  readonly stragglerCheckMs?: number;
}

export class RunMonitor implements Reporter, RunControl {
  /** The run now, from this monitor's own events (also what a same-thread API would serve). */
  readonly view = new RunView((what) => Promise.resolve(this.request(what)));
  private pauseRequested = false;
  private stopRequested = false;
  private wake: (() => void) | undefined;

  private stragglerTimer: NodeJS.Timeout | undefined;
  /** `nIter:segId:startedAt` of the stragglers already named (once each). */
  private readonly named = new Set<string>();

  constructor(
    private readonly inner: Reporter,
    private readonly o: RunMonitorOptions = {},
  ) {}

  /** Names, in a log line, each segment that has become a straggler since the last look. */
  checkStragglers(now = Date.now()): void {
    for (const s of this.view.stragglers(this.o.stragglerSeconds ?? 60, now)) {
      const key = `${s.nIter}:${s.segId}:${this.view.segments.get(s.segId)?.startedAt ?? 0}`;
      if (this.named.has(key)) continue;
      this.named.add(key);
      this.inner.warn(describeStraggler(s, this.o.segmentTimeout ?? null));
    }
  }

  /** Every event, as it happens (the API thread subscribes here). */
  onEvent(listener: (e: RunEvent) => void): void {
    this.view.on('event', listener);
  }

  private setState(state: RunState, nIter = this.view.nIter): void {
    const requested = this.stopRequested ? (state === 'stopping' ? 'stop' : null) : this.pauseRequested && state === 'running' ? 'pause' : null;
    if (this.view.state === state && this.view.requested === requested && this.view.nIter === nIter) return;
    this.view.apply({ type: 'run-state', data: { state, requested, nIter } });
  }

  // --- Reporter ---
  runStarted(info: { nIter: number; lastIter: number | null; westH5: string; workManager: string }): void {
    this.view.apply({
      type: 'run-started',
      data: { nIter: info.nIter, lastIter: info.lastIter, workManager: info.workManager, startedAt: this.view.startedAt },
    });
    this.setState('running');
    this.inner.runStarted(info);
    this.stragglerTimer ??= setInterval(() => this.checkStragglers(), this.o.stragglerCheckMs ?? 5000);
    this.stragglerTimer.unref();
  }
  iterationStarted(nIter: number, nSegs: number, nToRun: number): void {
    this.view.apply({ type: 'iteration-started', data: { nIter, nSegs, nToRun } });
    this.inner.iterationStarted(nIter, nSegs, nToRun);
  }
  segmentStarted(task: SegmentTask): void {
    this.view.apply({ type: 'segment-started', data: { nIter: task.nIter, segId: task.segId, attempt: task.attempt } });
    this.inner.segmentStarted(task);
  }
  segmentFinished(r: SegmentResult): void {
    const ok = r.status === 'complete';
    this.view.apply({
      type: ok ? 'segment-finished' : 'segment-failed',
      data: {
        nIter: r.nIter,
        segId: r.segId,
        attempt: r.attempt,
        status: r.status,
        node: r.node,
        cputime: r.cputime,
        walltime: r.walltime,
        ...(ok ? {} : { reason: r.reason }),
      },
    });
    this.inner.segmentFinished(r);
  }
  iterationFinished(r: IterationReport): void {
    this.view.apply({ type: 'iteration-finished', data: { ...r } });
    this.inner.iterationFinished(r);
  }
  warn(message: string): void {
    this.inner.warn(message);
  }
  info(message: string): void {
    this.inner.info(message);
  }
  close(): void {
    if (this.stragglerTimer) clearInterval(this.stragglerTimer);
    this.stragglerTimer = undefined;
    this.inner.close();
  }

  /** The run ended: how. */
  finished(ok: boolean): void {
    if (this.stragglerTimer) clearInterval(this.stragglerTimer);
    this.stragglerTimer = undefined;
    this.setState(ok ? 'done' : 'failed');
  }

  /** No run: this monitor shows a record (`westream serve`). */
  recorded(): void {
    this.setState('recorded');
  }

  // --- RunControl: asked by the loop before each iteration ---
  async beforeIteration(n: number, signal: AbortSignal): Promise<'go' | 'stop'> {
    while (this.pauseRequested && !this.stopRequested && !signal.aborted) {
      this.setState('paused', n);
      await new Promise<void>((r) => {
        this.wake = r;
        signal.addEventListener('abort', () => r(), { once: true });
      });
    }
    if (this.stopRequested || signal.aborted) return 'stop';
    this.setState('running');
    return 'go';
  }

  /**
   * Pause and stop take effect at the end of the running iteration (its segments finish and are recorded);
   * stop ends the run there, and `westream run` continues from the next iteration.
   */
  request(what: ControlRequest): void {
    if (what === 'pause') this.pauseRequested = true;
    if (what === 'resume') this.pauseRequested = false;
    if (what === 'stop') this.stopRequested = true;
    const s = this.view.state;
    if (what === 'stop') this.setState('stopping');
    else if (what === 'resume' && s === 'paused') this.setState('running');
    else this.setState(s);
    if (what !== 'pause') this.wake?.();
  }
}
