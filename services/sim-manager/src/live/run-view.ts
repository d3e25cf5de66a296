/**
 * What the API shows of a run now, built only from the run's events. The sim-manager's RunMonitor produces
 * the events; the API's own thread keeps a RunView of them, so every state change crosses the thread boundary
 * as one small message and both sides agree by construction.
 */
import { EventEmitter } from 'node:events';
import type { IterationReport } from '../reporter.js';
import { findStragglers, type Straggler } from './stragglers.js';

/** `recorded`: no run, only its record (`westream serve`). */
export type RunState = 'initializing' | 'running' | 'paused' | 'stopping' | 'done' | 'failed' | 'recorded';

/** An event of the run: also what `GET /events` streams. */
export type RunEvent =
  | { readonly type: 'run-started'; readonly data: { nIter: number; lastIter: number | null; workManager: string; startedAt: number } }
  | { readonly type: 'run-state'; readonly data: { state: RunState; requested: 'pause' | 'stop' | null; nIter: number } }
  | { readonly type: 'iteration-started'; readonly data: { nIter: number; nSegs: number; nToRun: number } }
  | { readonly type: 'segment-started'; readonly data: { nIter: number; segId: number; attempt: number } }
  | {
      readonly type: 'segment-finished' | 'segment-failed';
      readonly data: { nIter: number; segId: number; attempt: number; status: string; node: string; cputime: number; walltime: number; reason?: string | null };
    }
  | { readonly type: 'iteration-finished'; readonly data: IterationReport }
  | { readonly type: 'worker-joined' | 'worker-left'; readonly data: { node: string } };

export interface LiveSegment {
  status: 'pending' | 'running' | 'complete' | 'failed';
  node: string | null;
  cputime: number | null;
  walltime: number | null;
  /** When it started (ms since the epoch, as this view saw the event), while it runs. */
  startedAt: number | null;
}

export type ControlRequest = 'pause' | 'resume' | 'stop';

export class RunView extends EventEmitter<{ event: [RunEvent] }> {
  state: RunState = 'initializing';
  requested: 'pause' | 'stop' | null = null;
  nIter = 0;
  lastIter: number | null = null;
  nSegs = 0;
  startedAt = Date.now();
  workManager = '';
  lastIteration: IterationReport | null = null;
  /** The current iteration's segments, by id. */
  readonly segments = new Map<number, LiveSegment>();
  /** Wall time of every iteration this run ran, for the ETA and /metrics. */
  readonly iterationTimes: number[] = [];

  constructor(
    /** Carries a pause/resume/stop to the loop; resolves once the loop's side has taken it (and said so in an event). */
    private readonly control: (what: ControlRequest) => Promise<void>,
  ) {
    super();
    this.setMaxListeners(0); // one listener per open event stream
  }

  /** Applies one event and passes it on to the listeners (the event stream). */
  apply(e: RunEvent): void {
    switch (e.type) {
      case 'run-started':
        Object.assign(this, { nIter: e.data.nIter, lastIter: e.data.lastIter, workManager: e.data.workManager, startedAt: e.data.startedAt });
        break;
      case 'run-state':
        if (e.data.state === 'paused' && e.data.nIter !== this.nIter) {
          // Held before iteration nIter: that is the current one now, and none of its segments has started.
          this.nIter = e.data.nIter;
          this.segments.clear();
        }
        this.state = e.data.state;
        this.requested = e.data.requested;
        break;
      case 'iteration-started':
        this.nIter = e.data.nIter;
        this.nSegs = e.data.nSegs;
        this.segments.clear();
        for (let i = 0; i < e.data.nSegs; i++)
          this.segments.set(i, {
            status: i < e.data.nSegs - e.data.nToRun ? 'complete' : 'pending',
            node: null,
            cputime: null,
            walltime: null,
            startedAt: null,
          });
        break;
      case 'segment-started': {
        const s = this.segments.get(e.data.segId);
        if (s) Object.assign(s, { status: 'running', startedAt: Date.now() });
        break;
      }
      case 'segment-finished':
      case 'segment-failed': {
        const s = this.segments.get(e.data.segId);
        if (s && e.data.status !== 'cancelled')
          Object.assign(s, {
            status: e.type === 'segment-finished' ? 'complete' : 'failed',
            node: e.data.node || null,
            cputime: e.data.cputime,
            walltime: e.data.walltime,
          });
        break;
      }
      case 'iteration-finished':
        this.lastIteration = e.data;
        this.iterationTimes.push(e.data.walltime);
        break;
      default:
        break;
    }
    this.emit('event', e);
  }

  request(what: ControlRequest): Promise<void> {
    return this.control(what);
  }

  /** Segments of the current iteration running far longer than its completed ones (see stragglers.ts). */
  stragglers(minSeconds: number, now = Date.now()): Straggler[] {
    return findStragglers(this.nIter, this.segments, minSeconds, now);
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
