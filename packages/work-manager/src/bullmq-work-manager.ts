/**
 * The distributed work manager: one BullMQ job per segment on the `segments` queue, run by `westream worker`
 * daemons on the cluster's nodes (each with the same SegmentRunner the local work manager uses).
 *
 * Results arrive through QueueEvents, and a periodic reconciliation reads each pending job's state too, so a
 * trimmed event stream, a sim-manager restart or a Redis that lost its data can never hang a run: a finished
 * job is read back, a missing one is enqueued again under the same id. The first result of a segment counts;
 * later ones are ignored.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { SegmentResult, SegmentTask } from '@westream/propagator';
import { QUEUE_PREFIX, readSegmentResult, SEGMENT_QUEUE, segmentJobId, type SegmentJob } from './segment-job.js';
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
}

/** Connection settings from a redis:// URL, for BullMQ (which makes its own connections) and ioredis alike. */
export interface RedisSettings {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password?: string;
  readonly username?: string;
  readonly tls?: object;
  /** null: BullMQ's blocking connections must never give up on a command. */
  readonly maxRetriesPerRequest: null;
}

export function redisConnection(url: string): RedisSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`redis URL '${url}' is not a URL; expected redis://host:port[/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`redis URL '${url}': expected redis:// or rediss://`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

export class BullmqWorkManager implements WorkManager {
  readonly name = 'bullmq';
  onStart?: (task: SegmentTask) => void;

  private constructor(
    private readonly o: BullmqWorkManagerOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
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
    return new BullmqWorkManager(o, queue, events);
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
        await this.queue.remove(jobId).catch(() => undefined); // frees the id for a retry
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
      await this.enqueue([...pending.entries()]);
      // Retries reuse their segment's id: replace the earlier attempt's finished job now, not 2 s from now.
      if (tasks.some((t) => t.attempt > 0)) await this.reconcile(pending, results, settle);
      while (results.size < pending.size && !signal.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          const t = setTimeout(resolve, this.o.reconcileMs ?? 2000);
          signal.addEventListener('abort', () => resolve(), { once: true });
          void t;
        });
        if (results.size < pending.size && !signal.aborted) await this.reconcile(pending, results, settle);
      }
      if (signal.aborted) {
        for (const [jobId, t] of pending) {
          if (results.has(jobId)) continue;
          await this.queue.remove(jobId).catch(() => undefined); // waiting jobs go; running ones finish on their nodes
          results.set(jobId, { ...failed(t, 'cancelled before it finished'), status: 'cancelled' });
        }
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
      const job = await this.queue.getJob(jobId);
      if (!job) {
        missing.push([jobId, t]);
        return;
      }
      const state = await job.getState();
      if ((job.data as SegmentJob).task.attempt !== t.attempt) {
        // An earlier attempt's job still holds the id: once it has finished, replace it with this attempt's.
        if (state !== 'active' && state !== 'waiting') {
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

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
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
