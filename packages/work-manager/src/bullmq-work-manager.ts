/**
 * The distributed work manager: one BullMQ job per segment on the `segments` queue, run by `westream worker`
 * daemons on the cluster's nodes (each with the same SegmentRunner the local work manager uses).
 *
 * Exactly once in normal operation: results arrive through QueueEvents, read from the stream position taken
 * at connect, so no event after it is missed; a job stays in Redis until its result is journaled, then goes
 * (in batches). Redis is asked about a job's state only when something changed that events cannot tell:
 * - a job id was already in Redis when added (a restarted sim-manager, a retry): its `duplicated` event;
 * - Redis lost data (FLUSHALL, a restart without persistence): this manager's epoch key is gone;
 * - a connection dropped (a Redis restart can lose the last second's writes even with AOF);
 * - the event stream was trimmed past what was read;
 * - and, as a net for what nobody foresaw, after long silence (backing off while it finds nothing).
 * A job is enqueued again only if Redis has no trace of it and it still has no result after the read: only
 * then is it truly lost. The first result of a segment counts; later ones are ignored.
 *
 * Node queues (`node:<id>`, stream analyses) are only watched for stalls by their own node's daemon; when a
 * node's heartbeat is gone, this side sweeps its queue instead (BullMQ's stall check moves what stalled out of
 * `active`; then the queue is emptied), so a dead node never leaves jobs active forever.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { adoptSegmentDir, discardSegmentDir, type SegmentResult, type SegmentTask } from '@westream/propagator';
import { readWorkers, type WorkerStatus } from './queue-observer.js';
import { deadline } from './deadline.js';
import { WORK_MANAGER_DEFAULTS } from './defaults.js';
import { redisConnection } from './redis-connection.js';
import { NODE_QUEUE_PREFIX, QUEUE_PREFIX, readSegmentResult, SEGMENT_QUEUE, segmentJobId, type SegmentJob } from './segment-job.js';
import { compareStreamIds, FinishedJobRemover, readJobs, STREAM_EVENTS, type JobRead } from './bullmq-redis.js';
import type { WorkManager } from './work-manager.js';

export interface BullmqWorkManagerOptions {
  readonly redisUrl: string;
  readonly runId: string;
  /** WEST_SIM_ROOT, as every node sees it. */
  readonly simRoot: string;
  /** Absolute path of the config file. */
  readonly config: string;
  readonly seed: bigint;
  /** How often Redis is probed for lost data, dropped connections and a trimmed event stream (default 2000 ms). */
  readonly reconcileMs?: number;
  /** Silence (no event at all) after which every open job is read back anyway (default 60,000 ms; doubles while nothing is found, up to 16×). */
  readonly idleCheckMs?: number;
  /** How often the nodes are checked for dead ones whose queues need sweeping (default 10,000 ms). */
  readonly sweepMs?: number;
}

/** How long a stop waits for Redis to take its last commands before giving up on it (a Redis that is down). */
const CLOSE_DEADLINE_MS = 2500;
/** Jobs read back per round trip (one script call). */
const CHECK_BATCH = 500;

/** `set`: where BullMQ keeps the finished job (a segment's own failure is a job that completed). */
type Settle = (jobId: string, set: 'completed' | 'failed', make: (t: SegmentTask) => SegmentResult) => void;

export class BullmqWorkManager implements WorkManager {
  readonly name = 'bullmq';
  onStart?: (task: SegmentTask) => void;
  /** Sweepers of dead nodes' queues, by node id: a worker without a processor, running only the stall check. */
  private readonly sweepers = new Map<string, { worker: Worker; queue: Queue }>();
  private lastSweep = 0;
  /** The id of the last event read from the stream (advanced by every listener). */
  private lastEventId: string;
  /** A stream trim already answered by a full check (so one gap is checked once). */
  private checkedGap = '0-0';
  /** Bumped on every reconnect of the probe connection; a tick that sees it move reads every open job. */
  private reconnects = 0;
  /** When the last event was read (any event: a quiet stream is what the idle net waits for). */
  private lastEventAt = Date.now();
  private readonly epochKey: string;
  private closed = false;

  private constructor(
    private readonly o: BullmqWorkManagerOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    /** For the registry and the probes: fails a command after a few retries rather than waiting for Redis forever. */
    private readonly redis: Redis,
    startId: string,
    private readonly remover: FinishedJobRemover,
  ) {
    this.lastEventId = startId;
    this.epochKey = `${QUEUE_PREFIX}:epoch:${o.runId}:${randomBytes(6).toString('hex')}`;
    let ready = 0;
    redis.on('ready', () => {
      if (++ready > 1) this.reconnects++;
    });
    const track = (...args: unknown[]): void => {
      const id = args.at(-1);
      this.lastEventAt = Date.now();
      if (typeof id === 'string' && compareStreamIds(id, this.lastEventId) > 0) this.lastEventId = id;
    };
    for (const e of STREAM_EVENTS) events.on(e as 'waiting', track);
  }

  /** Connects (and checks that Redis answers, with a clear error if it does not). */
  static async connect(o: BullmqWorkManagerOptions): Promise<BullmqWorkManager> {
    const connection = redisConnection(o.redisUrl);
    await pingRedis(o.redisUrl);
    const queue = new Queue(SEGMENT_QUEUE, { connection, prefix: QUEUE_PREFIX });
    queue.on('error', () => undefined); // reconnects are ioredis's job; the probes cover what is missed
    await queue.waitUntilReady();
    const redis = new Redis({ ...connection, maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    // Events are read from here on, whenever QueueEvents's own first read happens: none is missed.
    const last = await redis.xrevrange(queue.toKey('events'), '+', '-', 'COUNT', 1);
    const startId = last[0]?.[0] ?? '0-0';
    const events = new QueueEvents(SEGMENT_QUEUE, { connection, prefix: QUEUE_PREFIX, lastEventId: startId });
    events.on('error', () => undefined);
    await events.waitUntilReady();
    return new BullmqWorkManager(o, queue, events, redis, startId, new FinishedJobRemover(redis, queue));
  }

  async propagate(tasks: readonly SegmentTask[], onResult: (r: SegmentResult) => Promise<void> | void, signal: AbortSignal): Promise<SegmentResult[]> {
    const pending = new Map<string, SegmentTask>(tasks.map((t) => [segmentJobId(this.o.runId, t), t]));
    const results = new Map<string, SegmentResult>();
    let chain = Promise.resolve(); // onResult calls (journal appends) one at a time, in arrival order
    let wake: () => void = () => undefined;
    const open = (jobId: string): boolean => pending.has(jobId) && !results.has(jobId);
    const checks: Promise<void>[] = []; // reads of single jobs under way (a duplicated add, an earlier attempt)
    const settle: Settle = (jobId, set, make) => {
      const t = pending.get(jobId);
      if (!t) return; // not ours
      let r: SegmentResult;
      try {
        r = make(t);
      } catch (e) {
        r = failed(t, (e as Error).message);
      }
      if (results.has(jobId) || r.attempt !== t.attempt) {
        // A late duplicate, or a result of an earlier attempt: a re-run's own directory goes, the segment's stays.
        discardSegmentDir(r);
        // An earlier attempt's job that finished only now holds this attempt's id: replace it.
        if (!results.has(jobId) && r.attempt < t.attempt)
          checks.push(
            this.check([jobId], pending, open, settle).then(
              () => undefined,
              () => undefined,
            ),
          );
        return;
      }
      try {
        r = adoptSegmentDir(r);
      } catch (e) {
        r = failed(t, (e as Error).message);
      }
      results.set(jobId, r);
      chain = chain.then(async () => {
        await onResult(r);
        // Journaled: the job may go (with others, in one call). Until now it was Redis's copy of the result.
        this.remover.add(jobId, set);
      });
      if (results.size === pending.size) wake();
    };
    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }): void =>
      settle(jobId, 'completed', () => readSegmentResult(jobId, typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue));
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void =>
      settle(jobId, 'failed', (t) => failed(t, `worker error: ${failedReason}`));
    const onActive = ({ jobId }: { jobId: string }): void => {
      const t = pending.get(jobId);
      if (t && !results.has(jobId)) this.onStart?.(t);
    };
    // Already in Redis when added: a job of an earlier incarnation of this run, or of an earlier attempt.
    const onDuplicated = ({ jobId }: { jobId: string }): void => {
      if (open(jobId))
        checks.push(
          this.check([jobId], pending, open, settle).then(
            () => undefined,
            () => undefined,
          ),
        );
    };
    this.events.on('completed', onCompleted);
    this.events.on('failed', onFailed);
    this.events.on('active', onActive);
    this.events.on('duplicated', onDuplicated);
    const tickMs = this.o.reconcileMs ?? WORK_MANAGER_DEFAULTS.reconcileMs;
    const idleBase = this.o.idleCheckMs ?? WORK_MANAGER_DEFAULTS.idleCheckMs;
    let idleMs = idleBase;
    let lastFull = Date.now();
    let seenReconnects = this.reconnects;
    try {
      // Every Redis round trip races the stop: with Redis down, a command waits for it forever (as it must, to
      // ride out a restart), but a stop must not.
      await untilAborted(
        this.redis.set(this.epochKey, '1', 'EX', EPOCH_TTL_S).catch(() => undefined),
        signal,
      );
      // The event stream must hold an iteration's events until they are read: BullMQ trims it to 10,000, and
      // a trim past what was read makes every open job be read back (at 100,000 segments: 66 s, not 15).
      await untilAborted(
        this.redis.hset(this.queue.toKey('meta'), 'opts.maxLenEvents', String(eventsToKeep(pending.size))).catch(() => undefined),
        signal,
      );
      await untilAborted(this.enqueue([...pending.entries()]), signal);
      while (results.size < pending.size && !signal.aborted) {
        await untilAborted(
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, tickMs);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          }),
          signal,
        );
        if (results.size >= pending.size || signal.aborted) break;
        const why = await untilAborted(this.probe(seenReconnects), signal);
        seenReconnects = this.reconnects;
        const idle = Date.now() - Math.max(lastFull, this.lastEventAt) >= idleMs;
        if ((why || idle) && !signal.aborted) {
          const ids = [...pending.keys()].filter(open);
          const found = await untilAborted(this.check(ids, pending, open, settle), signal);
          lastFull = Date.now();
          // The idle net backs off while it finds nothing; any finding resets it.
          idleMs = why || (found ?? 0) > 0 ? idleBase : Math.min(idleMs * 2, 16 * idleBase);
        }
        if (Date.now() - this.lastSweep >= (this.o.sweepMs ?? WORK_MANAGER_DEFAULTS.sweepMs) && !signal.aborted) await untilAborted(this.sweep(), signal);
      }
      if (signal.aborted) {
        const left = [...pending].filter(([jobId]) => !results.has(jobId));
        for (const [jobId, t] of left) results.set(jobId, { ...failed(t, 'cancelled before it finished'), status: 'cancelled' });
        // Waiting jobs go; running ones finish on their nodes. Bounded: a Redis that is down must not hold a stop.
        await deadline(Promise.all(left.map(([jobId]) => this.queue.remove(jobId).catch(() => undefined))), CLOSE_DEADLINE_MS);
      }
      await chain;
      await deadline(Promise.allSettled(checks), CLOSE_DEADLINE_MS);
      // Finished jobs go before the next attempt reuses their ids; a Redis that is down keeps them (a retry's
      // `duplicated` check replaces them then).
      await deadline(this.remover.flush(), CLOSE_DEADLINE_MS);
      this.remover.forget();
    } finally {
      this.events.off('completed', onCompleted);
      this.events.off('failed', onFailed);
      this.events.off('active', onActive);
      this.events.off('duplicated', onDuplicated);
    }
    return tasks.map((t) => results.get(segmentJobId(this.o.runId, t)) as SegmentResult);
  }

  /**
   * One round trip: has Redis lost data (the epoch key is gone), has a connection dropped, or has the event
   * stream been trimmed past what was read? Returns why every open job must be read back, or null.
   */
  private async probe(seenReconnects: number): Promise<string | null> {
    let epoch: string | null, first: [string, string[]][];
    try {
      [epoch, first] = await Promise.all([
        this.redis.set(this.epochKey, '1', 'EX', EPOCH_TTL_S, 'GET'),
        this.redis.xrange(this.queue.toKey('events'), '-', '+', 'COUNT', 1),
      ]);
    } catch {
      return 'Redis did not answer'; // the check then waits for it on the queue's connection, which never gives up
    }
    if (epoch === null) return 'Redis lost data';
    if (this.reconnects !== seenReconnects) return 'a connection to Redis dropped';
    const firstId = first[0]?.[0];
    if (firstId !== undefined && compareStreamIds(firstId, this.lastEventId) > 0 && compareStreamIds(firstId, this.checkedGap) > 0) {
      this.checkedGap = firstId;
      return 'events were trimmed before they were read';
    }
    return null;
  }

  /**
   * Adds the jobs in batches of ENQUEUE_BATCH: one transaction for 100,000 jobs would let no worker start
   * before the last was added. An id Redis already holds is not added again (BullMQ ignores the duplicate and
   * says so with a `duplicated` event, which `check` answers).
   */
  private async enqueue(entries: [string, SegmentTask][]): Promise<void> {
    for (let i = 0; i < entries.length; i += ENQUEUE_BATCH) {
      await this.queue.addBulk(
        entries.slice(i, i + ENQUEUE_BATCH).map(([jobId, task]) => ({
          name: 'segment',
          data: { runId: this.o.runId, simRoot: this.o.simRoot, config: this.o.config, seed: this.o.seed.toString(), task } satisfies SegmentJob,
          opts: { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false },
        })),
      );
    }
  }

  /**
   * Reads the given jobs back from Redis: settles the finished ones, replaces an earlier attempt's, and
   * enqueues again what Redis has no trace of. Returns how many it settled or enqueued.
   */
  private async check(ids: readonly string[], pending: Map<string, SegmentTask>, open: (jobId: string) => boolean, settle: Settle): Promise<number> {
    const missing: [string, SegmentTask][] = [];
    const stale: Record<'completed' | 'failed', string[]> = { completed: [], failed: [] };
    let found = 0;
    for (let i = 0; i < ids.length; i += CHECK_BATCH) {
      const batch = ids.slice(i, i + CHECK_BATCH).filter(open);
      if (batch.length === 0) continue;
      // One round trip per batch, each job read atomically (its state and result together). Over a connection
      // that fails after a few retries: a Redis that is away is waited for here, a batch at a time.
      let reads: JobRead[] | undefined;
      while (!reads) {
        try {
          reads = await readJobs(this.redis, this.queue, batch);
        } catch (e) {
          if (this.closed) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      batch.forEach((jobId, k) => {
        const t = pending.get(jobId);
        const j = reads[k];
        // Settled while this read was under way (its event came first, and its job may be gone): done.
        if (!t || !j || !open(jobId) || j.kind === 'open') return;
        if (j.kind === 'missing') {
          missing.push([jobId, t]);
          return;
        }
        let attempt: number | undefined;
        try {
          attempt = (JSON.parse(j.data) as SegmentJob).task.attempt;
        } catch {
          /* not a payload of ours: settled below as whatever it says, and the result check names it */
        }
        if (attempt !== undefined && attempt !== t.attempt) {
          // An earlier attempt's job still holds the id: it has finished, so replace it with this attempt's.
          stale[j.kind].push(jobId);
          missing.push([jobId, t]);
          return;
        }
        found++;
        if (j.kind === 'completed') settle(jobId, 'completed', () => readSegmentResult(jobId, JSON.parse(j.value)));
        else settle(jobId, 'failed', (task) => failed(task, `worker error: ${j.value}`));
      });
    }
    await this.remover.removeNow('completed', stale.completed);
    await this.remover.removeNow('failed', stale.failed);
    // Truly lost (a restart without AOF, FLUSHALL): but a result may have come in since its read.
    const lost = missing.filter(([jobId]) => open(jobId));
    if (lost.length > 0) await this.enqueue(lost);
    return found + lost.length;
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
        const worker = new Worker(n.node, null, {
          ...opts,
          lockDuration: n.lockDurationMs,
          stalledInterval: Math.min(n.lockDurationMs, this.o.sweepMs ?? WORK_MANAGER_DEFAULTS.sweepMs),
          maxStalledCount: 1,
          autorun: false,
        });
        const queue = new Queue(n.node, opts);
        worker.on('error', () => undefined);
        queue.on('error', () => undefined);
        // What the stall check moves back to `wait` is dropped at once, not at the next sweep: nobody will run it.
        worker.on('stalled', () => void queue.drain().catch(() => undefined));
        this.sweepers.set(n.node, { worker, queue });
        await worker.startStalledCheckTimer();
      }
      await this.sweepers
        .get(n.node)
        ?.queue.drain()
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await deadline(
      this.redis.del(this.epochKey).catch(() => undefined),
      1000,
    );
    const all = [this.events, this.queue, ...[...this.sweepers.values()].flatMap((s) => [s.worker, s.queue])];
    // A Redis that is down would hold close() forever: after the deadline, drop the connections.
    const closed = await deadline(Promise.allSettled(all.map((c) => c.close())), CLOSE_DEADLINE_MS);
    if (!closed) for (const c of all) void c.disconnect().catch(() => undefined);
    this.redis.disconnect();
  }
}

/** The epoch key outlives any pause between two probes: its absence means Redis lost it. */
const EPOCH_TTL_S = 6 * 3600;

/** Waits for `p`, or until `signal` aborts (then undefined; whatever `p` does later is left to it). */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<void>((r) => {
    onAbort = r;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted.then(() => undefined)]);
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
  return {
    nIter: t.nIter,
    segId: t.segId,
    attempt: t.attempt,
    status: 'failed',
    pcoord: [],
    auxdata: {},
    cputime: 0,
    walltime: 0,
    reason: `segment ${t.segId} of iteration ${t.nIter}: ${reason}`,
    log: null,
    node: '',
  };
}

/** Jobs per enqueue transaction: workers start on the first batch while the rest are added. */
const ENQUEUE_BATCH = 2_000;

/**
 * How many events the queue's stream keeps (BullMQ's `opts.maxLenEvents`) while `n` segments are open: each job
 * adds about four (waiting, active, completed, removed), and BullMQ's own 10,000 is the least.
 */
function eventsToKeep(n: number): number {
  return Math.max(10_000, 5 * n);
}
