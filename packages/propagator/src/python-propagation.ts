/**
 * `west.propagation.propagator: module.Class` — the user's own WESTPropagator, constructed once per helper in
 * their Python (by westpa's run control, as w_run does) and handed blocks of up to block_size segments. Each
 * segment's pcoord[0] is its parent's last point (or its initial state's pcoord); what propagate() leaves in
 * pcoord, status and data comes back as an ordinary SegmentResult, so retries, halts, crash recovery and the
 * REST views are the executable propagator's. One helper per slot, started once, reused for the whole run.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WestConfig } from '@westream/config';
import { BridgeError, chooseInterpreter, PythonBridge, wire, type Frame } from '@westream/python-bridge';
import { RandomStream, type BasisState, type InitialState } from '@westream/we';
import { randomEnv } from './random-values.js';
import type { AuxArray, SegmentResult, SegmentTask } from './types.js';

const SEG_STATUS = { COMPLETE: 2, FAILED: 3 } as const;
const STATUS_NAMES: Record<number, string> = { 0: 'SEG_STATUS_UNSET', 1: 'SEG_STATUS_PREPARED', 2: 'SEG_STATUS_COMPLETE', 3: 'SEG_STATUS_FAILED' };

export interface PythonPropagationOptions {
  readonly config: WestConfig;
  readonly simRoot: string;
  readonly seed: bigint;
  readonly node: string;
}

interface Queued {
  readonly task: SegmentTask;
  readonly signal: AbortSignal | undefined;
  readonly onStarted: (() => void) | undefined;
  resolve(r: SegmentResult): void;
}

interface Helper {
  bridge: PythonBridge | null;
  busy: boolean;
}

export class PythonPropagation {
  private readonly helpers: Helper[] = [];
  private readonly queue: Queued[] = [];
  private flushScheduled = false;
  private size = 1;
  /** Where the user's prints go: seg_logs/python-<node>.log (one log per node, not per segment: blocks). */
  readonly logFile: string;

  constructor(private readonly o: PythonPropagationOptions) {
    this.logFile = join(o.simRoot, 'seg_logs', `python-${o.node.replace(/[^\w.-]/g, '_')}.log`);
  }

  /** Helpers running at once (the slots). */
  setSlots(n: number): void {
    this.size = Math.max(1, n);
  }

  /**
   * Starts a helper per slot, at once, and constructs the propagator in each: a broken set-up fails here,
   * before any segment runs, and no segment waits for a Python start-up later.
   */
  async prepare(): Promise<void> {
    while (this.helpers.length < this.size) this.helpers.push({ bridge: null, busy: false });
    const starting = this.helpers.filter((h) => !h.busy);
    for (const h of starting) h.busy = true;
    try {
      await Promise.all(starting.map((h) => this.ensure(h)));
    } finally {
      for (const h of starting) h.busy = false;
    }
    this.schedule();
  }

  runSegment(task: SegmentTask, signal?: AbortSignal, onStarted?: () => void): Promise<SegmentResult> {
    return new Promise((resolve) => {
      this.queue.push({ task, signal, onStarted, resolve });
      this.schedule();
    });
  }

  async getPcoord(bstate: BasisState, istate?: InitialState): Promise<Float64Array> {
    const f = await this.call('get_pcoord', {
      bstates: [wireBstate(bstate)],
      istates: istate ? [wireIstate(istate, null)] : [],
      bstate: bstate.id,
      istate: istate?.id ?? null,
    });
    return f.arrays[0]?.data as Float64Array;
  }

  async genIstate(istate: InitialState, bstate: BasisState): Promise<Float64Array> {
    const f = await this.call('gen_istate', { bstates: [wireBstate(bstate)], istates: [wireIstate(istate, null)], istate: istate.id });
    return f.arrays[0]?.data as Float64Array;
  }

  close(): void {
    for (const h of this.helpers) h.bridge?.close();
    this.helpers.length = 0;
  }

  /** A one-off request on a free helper (get_pcoord, gen_istate): waits for one to be free. */
  private async call(op: string, header: Record<string, unknown>): Promise<Frame> {
    for (;;) {
      const h = this.idle();
      if (h) {
        h.busy = true;
        try {
          return await (await this.ensure(h)).request(op, header);
        } finally {
          h.busy = false;
          this.schedule();
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private idle(): Helper | undefined {
    const free = this.helpers.find((h) => !h.busy);
    if (free) return free;
    if (this.helpers.length < this.size) {
      const h: Helper = { bridge: null, busy: false };
      this.helpers.push(h);
      return h;
    }
    return undefined;
  }

  private async ensure(h: Helper): Promise<PythonBridge> {
    if (h.bridge) return h.bridge;
    const { config } = this.o;
    const bridge = await PythonBridge.start({
      python: chooseInterpreter(config.westream.python),
      simRoot: this.o.simRoot,
      configFile: config.file,
      modulePath: config.system.modulePath,
      purpose: `west.propagation.propagator '${config.propagation.pythonPropagator ?? '?'}'`,
      onOutput: (text) => this.log(text),
    });
    try {
      await bridge.request('propagator');
    } catch (e) {
      bridge.close();
      throw e;
    }
    h.bridge = bridge;
    return bridge;
  }

  private log(text: string): void {
    try {
      mkdirSync(join(this.o.simRoot, 'seg_logs'), { recursive: true });
      appendFileSync(this.logFile, text);
    } catch {
      /* the log is a courtesy */
    }
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Wait for this tick's segments to queue up: they go out together, up to block_size.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const blockSize = this.o.config.propagation.blockSize;
    while (this.queue.length > 0) {
      const h = this.idle();
      if (!h) return;
      const block: Queued[] = [];
      while (block.length < blockSize && this.queue.length > 0) {
        const q = this.queue.shift() as Queued;
        if (q.signal?.aborted) q.resolve(outcome(q.task, this.o.node, 'cancelled', 'cancelled before it started'));
        else block.push(q);
      }
      if (block.length === 0) continue;
      h.busy = true;
      void this.propagate(h, block).finally(() => {
        h.busy = false;
        this.schedule();
      });
    }
  }

  private async propagate(h: Helper, block: Queued[]): Promise<void> {
    const { config } = this.o;
    const { pcoordLen: len, pcoordNdim: ndim } = config.system;
    const t0 = performance.now();
    let bridge: PythonBridge;
    try {
      bridge = await this.ensure(h);
    } catch (e) {
      for (const q of block) q.resolve(outcome(q.task, this.o.node, 'failed', (e as Error).message, this.logFile));
      return;
    }
    for (const q of block) q.onStarted?.();
    const init = new Float64Array(block.length * ndim);
    block.forEach((q, k) => {
      const p = q.task.initPcoord ?? [];
      for (let d = 0; d < ndim; d++) init[k * ndim + d] = p[d] ?? NaN;
    });
    const bstates = new Map<number, BasisState>();
    const istates = new Map<number, InitialState>();
    const istatePcoord = new Map<number, number[]>();
    for (const { task } of block) {
      if (task.bstate) bstates.set(task.bstate.id, task.bstate);
      if (task.istate) {
        istates.set(task.istate.id, task.istate);
        istatePcoord.set(task.istate.id, task.initPcoord ?? []);
      }
    }
    const first = block[0]?.task as SegmentTask;
    let f: Frame;
    try {
      f = await bridge.request(
        'propagate',
        {
          segments: block.map(({ task: t }) => ({ n_iter: t.nIter, seg_id: t.segId, weight: t.weight, parent_id: t.parentId })),
          bstates: [...bstates.values()].map(wireBstate),
          istates: [...istates.values()].map((i) => wireIstate(i, istatePcoord.get(i.id) ?? null)),
          // For a propagator that seeds itself from the environment, as an executable would.
          environ: { ...randomEnv(this.o.seed, RandomStream.SEGMENT, first.nIter, first.segId), WEST_CURRENT_ITER: String(first.nIter) },
        },
        [wire(init, [block.length, ndim])],
      );
    } catch (e) {
      if (e instanceof BridgeError && (e.kind === 'died' || e.kind === 'protocol')) h.bridge = null; // a new helper for the next block
      const why = e instanceof BridgeError ? e.message : `the Python bridge failed: ${(e as Error).message}`;
      for (const q of block) q.resolve(outcome(q.task, this.o.node, 'failed', why, this.logFile));
      return;
    }
    const walltime = (performance.now() - t0) / 1000;
    const results = (f.header.results ?? []) as {
      seg_id: number;
      status: number;
      walltime: number;
      cputime: number;
      data: { name: string; dtype: string }[];
    }[];
    let next = 0;
    block.forEach((q, k) => {
      const r = results[k];
      const pc = f.arrays[next++]?.data as Float64Array | undefined;
      const aux: Record<string, AuxArray> = {};
      for (const d of r?.data ?? []) {
        const a = f.arrays[next++];
        if (a) aux[d.name] = { shape: [...a.shape], data: Array.from(a.data as Float64Array) };
      }
      const name = `segment ${q.task.segId} of iteration ${q.task.nIter}`;
      if (!r || !pc) return q.resolve(outcome(q.task, this.o.node, 'failed', `${name}: the propagator returned no result for it`, this.logFile));
      if (r.status !== SEG_STATUS.COMPLETE) {
        return q.resolve(
          outcome(
            q.task,
            this.o.node,
            'failed',
            `${name}: ${config.propagation.pythonPropagator ?? 'the propagator'}.propagate() left its status ${STATUS_NAMES[r.status] ?? r.status}, not SEG_STATUS_COMPLETE`,
            this.logFile,
          ),
        );
      }
      if (pc.length !== len * ndim || !pc.every(Number.isFinite)) {
        const bad =
          pc.length !== len * ndim
            ? `${pc.length} values, expected pcoord_len × pcoord_ndim = ${len} × ${ndim}`
            : `a value that is not finite (${Array.from(pc).find((v) => !Number.isFinite(v))})`;
        return q.resolve(outcome(q.task, this.o.node, 'failed', `${name}: the pcoord the propagator left has ${bad}`, this.logFile));
      }
      q.resolve({
        nIter: q.task.nIter,
        segId: q.task.segId,
        attempt: q.task.attempt,
        status: 'complete',
        pcoord: Array.from(pc),
        auxdata: aux,
        cputime: r.cputime,
        walltime: r.walltime || walltime / block.length,
        reason: null,
        log: this.logFile,
        node: this.o.node,
      });
    });
  }
}

function wireBstate(b: BasisState): Record<string, unknown> {
  return { id: b.id, label: b.label, probability: b.probability, auxref: b.auxref };
}

function wireIstate(i: InitialState, pcoord: readonly number[] | null): Record<string, unknown> {
  return { ...i, pcoord };
}

function outcome(t: SegmentTask, node: string, status: 'failed' | 'cancelled', reason: string, log: string | null = null): SegmentResult {
  const name = `segment ${t.segId} of iteration ${t.nIter}`;
  return {
    nIter: t.nIter,
    segId: t.segId,
    attempt: t.attempt,
    status,
    pcoord: [],
    auxdata: {},
    cputime: 0,
    walltime: 0,
    reason: reason.startsWith(name) ? reason : `${name}: ${reason}`,
    log,
    node,
  };
}
