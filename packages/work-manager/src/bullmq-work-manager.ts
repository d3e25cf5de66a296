/**
 * The distributed work manager: one BullMQ job per segment on the `segments` queue, run by `westream worker`
 * daemons on the cluster's nodes (each with the same SegmentRunner the local work manager uses).
 *
 * Results arrive through QueueEvents, and a periodic reconciliation reads each pending job's state too, so a
 * trimmed event stream, a sim-manager restart or a Redis that lost its data can never hang a run: a finished
 * job is read back, a missing one is enqueued again under the same id. The first result of a segment counts;
 * later ones are ignored.
 *
 * Node queues (`node:<id>`, stream analyses) are only watched for stalls by their own node's daemon; when a
 * node's heartbeat is gone, this side sweeps its queue instead (BullMQ's stall check moves what stalled out of
 * `active`; then the queue is emptied), so a dead node never leaves jobs active forever.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { SegmentResult, SegmentTask } from '@westream/propagator';
import { readWorkers, type WorkerStatus } from './queue-observer.js';
import { deadline } from './deadline.js';
import { redisConnection } from './redis-connection.js';
import { NODE_QUEUE_PREFIX, QUEUE_PREFIX, readSegmentResult, SEGMENT_QUEUE, segmentJobId, type SegmentJob } from './segment-job.js';
import type { WorkManager } from './work-manager.js';

export interface BullmqWorkManagerOptions {
  readonly redisUrl: string;
  readonly runId: string;
  /** WEST_SIM_ROOT, as every node sees it. */
  readonly simRoot: string;
  /** Absolute path of the config file. */
  readonly config: string;
  readonly seed: bigint;
  /** How often pending jobs are checked directly in Redis (default 2000 ms). */
  readonly reconcileMs?: number;
  /** How often the nodes are checked for dead ones whose queues need sweeping (default 10,000 ms). */
  readonly sweepMs?: number;
}

/** How long a stop waits for Redis to take its last commands before giving up on it (a Redis that is down). */
const CLOSE_DEADLINE_MS = 2500;

export class BullmqWorkManager implements WorkManager {
  readonly name = 'bullmq';
  onStart?: (task: SegmentTask) => void;
  /** Sweepers of dead nodes' queues, by node id: a worker without a processor, running only the stall check. */
  private readonly sweepers = new Map<string, { worker: Worker; queue: Queue }>();
  private lastSweep = 0;

  private constructor(
    private readonly o: BullmqWorkManagerOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    /** For the registry: fails a command after a few retries rather than waiting for Redis forever. */
    private readonly redis: Redis,
  ) {}

  /** Connects (and checks that Redis answers, with a clear error if it does not). */
  static async connect(o: BullmqWorkManagerOptions): Promise<BullmqWorkManager> {
    const connection = redisConnection(o.redisUrl);
    await pingRedis(o.redisUrl);
    const queue = new Queue(SEGMENT_QUEUE, { connection, prefix: QUEUE_PREFIX });
    const events = new QueueEvents(SEGMENT_QUEUE, { connection, prefix: QUEUE_PREFIX });
    queue.on('error', () => undefined); // reconnects are ioredis's job; the reconciliation covers what is missed
    events.on('error', () => undefined);
    await queue.waitUntilReady();
    await events.waitUntilReady();
    const redis = new Redis({ ...connection, maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    return new BullmqWorkManager(o, queue, events, redis);
  }

  async propagate(tasks: readonly SegmentTask[], onResult: (r: SegmentResult) => Promise<void> | void, signal: AbortSignal): Promise<SegmentResult[]> {
    const pending = new Map<string, SegmentTask>(tasks.map((t) => [segmentJobId(this.o.runId, t), t]));
    const results = new Map<string, SegmentResult>();
    let chain = Promise.resolve(); // onResult calls (journal appends) one at a time, in arrival order
    let wake: () => void = () => undefined;
    const settle = (jobId: string, make: (t: SegmentTask) => SegmentResult): void => {
      const t = pending.get(jobId);
      if (!t || results.has(jobId)) return; // not ours, or a late duplicate
      let r: SegmentResult;
      try {
        r = make(t);
      } catch (e) {
        r = failed(t, (e as Error).message);
      }
      if (r.attempt !== t.attempt) return; // a result of an earlier attempt
      results.set(jobId, r);
      chain = chain.then(async () => {
        await onResult(r);
        // Frees the id for a retry. Not awaited: with Redis down, a stop must not wait for it (a retry's
        // reconciliation replaces a finished earlier attempt anyway).
        void this.queue.remove(jobId).catch(() => undefined);
      });
      wake();
    };
    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }): void =>
      settle(jobId, () => readSegmentResult(jobId, typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue));
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void => settle(jobId, (t) => failed(t, `worker error: ${failedReason}`));
    const onActive = ({ jobId }: { jobId: string }): void => {
      const t = pending.get(jobId);
      if (t && !results.has(jobId)) this.onStart?.(t);
    };
    this.events.on('completed', onCompleted);
    this.events.on('failed', onFailed);
    this.events.on('active', onActive);
    try {
      // Every Redis round trip races the stop: with Redis down, a command waits for it forever (as it must, to
      // ride out a restart), but a stop must not.
      await untilAborted(this.enqueue([...pending.entries()]), signal);
      // Retries reuse their segment's id: replace the earlier attempt's finished job now, not 2 s from now.
      if (tasks.some((t) => t.attempt > 0)) await untilAborted(this.reconcile(pending, results, settle), signal);
      while (results.size < pending.size && !signal.aborted) {
        await untilAborted(new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.o.reconcileMs ?? 2000);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        }), signal);
        if (results.size < pending.size && !signal.aborted) await untilAborted(this.reconcile(pending, results, settle), signal);
        if (Date.now() - this.lastSweep >= (this.o.sweepMs ?? 10_000) && !signal.aborted) await untilAborted(this.sweep(), signal);
      }
      if (signal.aborted) {
        const open = [...pending].filter(([jobId]) => !results.has(jobId));
        for (const [jobId, t] of open) results.set(jobId, { ...failed(t, 'cancelled before it finished'), status: 'cancelled' });
        // Waiting jobs go; running ones finish on their nodes. Bounded: a Redis that is down must not hold a stop.
        await deadline(Promise.all(open.map(([jobId]) => this.queue.remove(jobId).catch(() => undefined))), CLOSE_DEADLINE_MS);
      }
      await chain;
    } finally {
      this.events.off('completed', onCompleted);
      this.events.off('failed', onFailed);
      this.events.off('active', onActive);
    }
    return tasks.map((t) => results.get(segmentJobId(this.o.runId, t)) as SegmentResult);
  }

  /**
   * Adds the jobs in one call. An id Redis already holds is not added again (BullMQ ignores the duplicate):
   * after a restart that is this very segment; a job of an earlier attempt is replaced by `reconcile`.
   */
  private async enqueue(entries: [string, SegmentTask][]): Promise<void> {
    await this.queue.addBulk(
      entries.map(([jobId, task]) => ({
        name: 'segment',
        data: { runId: this.o.runId, simRoot: this.o.simRoot, config: this.o.config, seed: this.o.seed.toString(), task } satisfies SegmentJob,
        opts: { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false },
      })),
    );
  }

  /** Reads the state of every pending job from Redis: what the events missed, and what Redis lost. */
  private async reconcile(pending: Map<string, SegmentTask>, results: Map<string, SegmentResult>, settle: (id: string, make: (t: SegmentTask) => SegmentResult) => void): Promise<void> {
    const missing: [string, SegmentTask][] = [];
    const check = async (jobId: string, t: SegmentTask): Promise<void> => {
      // The state first, then the job: a job read first and found completed a moment later would carry no
      // result yet (it was read while active). Completed and failed are final, so what is read after is whole.
      const state = await this.queue.getJobState(jobId);
      const job = state === 'unknown' ? undefined : await this.queue.getJob(jobId);
      if (!job) {
        missing.push([jobId, t]);
        return;
      }
      if ((job.data as SegmentJob).task.attempt !== t.attempt) {
        // An earlier attempt's job still holds the id: once it has finished, replace it with this attempt's.
        if (state === 'completed' || state === 'failed') {
          await job.remove().catch(() => undefined);
          missing.push([jobId, t]);
        }
        return;
      }
      if (state === 'completed') settle(jobId, () => readSegmentResult(jobId, job.returnvalue));
      else if (state === 'failed') settle(jobId, (task) => failed(task, `worker error: ${job.failedReason}`));
    };
    // Concurrently, a few hundred at a time: one round trip after another would take seconds per thousand.
    const open = [...pending].filter(([jobId]) => !results.has(jobId));
    for (let i = 0; i < open.length; i += 200) await Promise.all(open.slice(i, i + 200).map(([jobId, t]) => check(jobId, t)));
    if (missing.length > 0) await this.enqueue(missing); // Redis lost them (restart without AOF, FLUSHALL)
  }

  /** Every worker daemon that has joined this Redis, alive or not, by node id. */
  workers(): Promise<WorkerStatus[]> {
    return readWorkers(this.redis);
  }

  /**
   * Sweeps the queues of nodes whose heartbeat has expired: BullMQ's stall check takes their stream jobs out of
   * `active` once the locks lapse, and what waits there is dropped: a stream job is worth nothing without its
   * engine, and the segment itself is re-run from the shared queue, with a new stream job on its new node.
   * A node that comes back takes its queue over again.
   */
  async sweep(): Promise<void> {
    this.lastSweep = Date.now();
    let nodes: WorkerStatus[];
    try {
      nodes = await this.workers();
    } catch {
      return; // Redis away: next time
    }
    for (const n of nodes) {
      const sweeper = this.sweepers.get(n.node);
      if (n.alive) {
        if (sweeper) {
          this.sweepers.delete(n.node);
          await Promise.allSettled([sweeper.worker.close(), sweeper.queue.close()]);
        }
        continue;
      }
      if (!sweeper) {
        const connection = redisConnection(this.o.redisUrl);
        const opts = { connection, prefix: NODE_QUEUE_PREFIX };
        const worker = new Worker(n.node, null, { ...opts, lockDuration: n.lockDurationMs, stalledInterval: Math.min(n.lockDurationMs, this.o.sweepMs ?? 10_000), maxStalledCount: 1, autorun: false });
        const queue = new Queue(n.node, opts);
        worker.on('error', () => undefined);
        queue.on('error', () => undefined);
        this.sweepers.set(n.node, { worker, queue });
        await worker.startStalledCheckTimer();
      }
      await this.sweepers.get(n.node)?.queue.drain().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [this.events, this.queue, ...[...this.sweepers.values()].flatMap((s) => [s.worker, s.queue])];
    // A Redis that is down would hold close() forever: after the deadline, drop the connections.
    const closed = await deadline(Promise.allSettled(all.map((c) => c.close())), CLOSE_DEADLINE_MS);
    if (!closed) for (const c of all) void c.disconnect().catch(() => undefined);
    this.redis.disconnect();
  }
}

/** Waits for `p`, or until `signal` aborts (whatever `p` does later is left to it). */
async function untilAborted(p: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<void>((r) => {
    onAbort = r;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * One PING without retries: BullMQ's own connections retry forever (as they must, to ride out a Redis
 * restart), which would turn a wrong URL into a silent hang.
 */
export async function pingRedis(url: string): Promise<void> {
  const c = new Redis({ ...redisConnection(url), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  let cause: Error | undefined;
  c.on('error', (e: Error) => (cause ??= e));
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    throw new Error(`cannot reach Redis at ${url} (${(cause ?? (e as Error)).message}); start redis-server, or pass --redis redis://host:port`);
  } finally {
    c.disconnect();
  }
}

function failed(t: SegmentTask, reason: string): SegmentResult {
  return { nIter: t.nIter, segId: t.segId, attempt: t.attempt, status: 'failed', pcoord: [], auxdata: {}, cputime: 0, walltime: 0, reason: `segment ${t.segId} of iteration ${t.nIter}: ${reason}`, log: null, node: '' };
}
