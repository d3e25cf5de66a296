/**
 * `westream worker`: one daemon per cluster node. It takes segment jobs from the shared `segments` queue,
 * `slots` at a time, and runs each with the same SegmentRunner as the local work manager (the engine as a child
 * process of this node; the event loop stays free to renew job locks).
 *
 * A streamed segment's analysis is a job on this node's own queue (`node:<id>`), which only this daemon
 * consumes: it always runs beside its engine, on the engine's 127.0.0.1. A heartbeat key
 * (`westream:worker:<node-id>`, with a TTL) says who is alive, with how many slots and which segments; the
 * nodes hash keeps the last heartbeat of every node, so the sim-manager can sweep the queues of dead ones.
 *
 * On start it takes the state directory's lock (a second daemon with it is refused while this one lives), and
 * kills what a dead previous incarnation of this node's daemon left running (its process registry);
 * first stop signal: drain (finish running segments, take no more); second: kill the running segments'
 * process groups and hand their jobs back for another node.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type WestConfig } from '@westream/config';
import { ProcessRegistry, RegistryLockedError, removeStaleReturnDirs, SegmentRunner, type SegmentResult, type SegmentTask } from '@westream/propagator';
import { pingRedis } from './bullmq-work-manager.js';
import { deadline } from './deadline.js';
import { WORK_MANAGER_DEFAULTS } from './defaults.js';
import { redisConnection } from './redis-connection.js';
import {
  HEARTBEAT_KEY,
  NODE_QUEUE_PREFIX,
  NODES_KEY,
  QUEUE_PREFIX,
  readSegmentJob,
  SEGMENT_QUEUE,
  segmentJobId,
  type StreamJob,
  type WorkerInfo,
} from './segment-job.js';

export interface WorkerDaemonOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  readonly slots: number;
  /** One device per slot: a segment in slot k gets CUDA_VISIBLE_DEVICES=gpus[k] (and WM_PROCESS_INDEX=k). */
  readonly gpus?: readonly string[];
  /** Where this node's process registry lives (kept across restarts of the daemon). */
  readonly stateDir: string;
  /** BullMQ job lock: a dead daemon's segments are handed on after about this long (default 30 s). */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly heartbeatMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Makes the runner for a run's segments (default: the executable propagator's SegmentRunner, from the run's
   * config file). The in-process test harness passes a function propagator here; the CLI never does.
   */
  readonly makeRunner?: (run: { readonly runId: string; readonly config: string; readonly simRoot: string; readonly seed: bigint }) => DaemonRunner;
}

/** What the daemon needs of a runner. */
export type DaemonRunner = Pick<SegmentRunner, 'runSegment' | 'close'>;

export class WorkerDaemon {
  private readonly running = new Map<string, { controller: AbortController; segment: string }>();
  private readonly runners = new Map<string, DaemonRunner>();
  /** Stream analyses waiting for their job on this node's queue, by stream job id. */
  private readonly streams = new Map<string, () => Promise<void>>();
  /** Slot indices not in use (a slot's GPU goes with it). */
  private readonly freeSlots: number[];
  private heartbeat: NodeJS.Timeout | undefined;
  private draining = false;
  private killing = false;

  private constructor(
    private readonly o: WorkerDaemonOptions,
    private readonly worker: Worker,
    private readonly nodeWorker: Worker,
    private readonly nodeQueue: Queue,
    private readonly redis: Redis,
    private readonly registry: ProcessRegistry,
    readonly reaped: number[],
    /** What the start cleaned up, one line each: processes a dead earlier daemon left, its return files. */
    readonly startReport: string[],
  ) {
    this.freeSlots = Array.from({ length: o.slots }, (_, i) => o.slots - 1 - i);
  }

  static async start(o: WorkerDaemonOptions): Promise<WorkerDaemon> {
    if (o.gpus && o.gpus.length !== o.slots) throw new Error(`${o.gpus.length} GPU(s) for ${o.slots} slot(s): give one GPU per slot`);
    mkdirSync(o.stateDir, { recursive: true });
    const registry = new ProcessRegistry(join(o.stateDir, 'pgids'));
    try {
      registry.lock(); // for this daemon's life: a second one with this state directory would kill our engines
    } catch (e) {
      registry.close();
      if (!(e instanceof RegistryLockedError)) throw e;
      const { pid, host } = e.holder;
      throw new Error(
        e.elsewhere
          ? `another westream worker (pid ${pid} on host ${host}) holds the state directory ${o.stateDir}; give this node its own --state-dir (or --node-id), or, if that daemon is gone, delete ${e.file}`
          : `another westream worker (pid ${pid}) is running with the state directory ${o.stateDir} (node id ${o.nodeId}): two daemons with one node id would kill each other's engines. Stop it first (kill -TERM ${pid} drains it), or give this one its own --node-id or --state-dir`,
      );
    }
    const reaped = registry.reapOrphans();
    const removedReturns = removeStaleReturnDirs();
    const connection = redisConnection(o.redisUrl);
    try {
      await pingRedis(o.redisUrl);
    } catch (e) {
      registry.close(); // the lock goes with a daemon that never started
      throw e;
    }
    const redis = new Redis({ ...connection, maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    const lockDuration = o.lockDurationMs ?? WORK_MANAGER_DEFAULTS.lockDurationMs;
    const locks = { lockDuration, stalledInterval: o.stalledIntervalMs ?? lockDuration };
    const ref: { daemon?: WorkerDaemon } = {}; // the processors need the daemon, which needs the workers
    const worker = new Worker(SEGMENT_QUEUE, (job: Job, token?: string) => (ref.daemon as WorkerDaemon).process(job, token), {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: o.slots,
      ...locks,
      // A node can die more than once under the same segment; the sim-manager's retry policy decides about
      // segments that fail, so stalls should not turn into failures quickly.
      maxStalledCount: 10,
      autorun: false,
    });
    // Stream jobs: at most one per running segment, plus leftovers of an earlier incarnation (done at once).
    const nodeWorker = new Worker(o.nodeId, (job: Job) => (ref.daemon as WorkerDaemon).stream(job), {
      connection,
      prefix: NODE_QUEUE_PREFIX,
      concurrency: 2 * o.slots + 2,
      ...locks,
      maxStalledCount: 10,
      autorun: false,
    });
    const nodeQueue = new Queue(o.nodeId, { connection, prefix: NODE_QUEUE_PREFIX });
    // Every connection retries every second while Redis is away: say so once per message and minute, not per retry.
    const said = new Map<string, number>();
    const onError = (err: Error): void => {
      const last = said.get(err.message);
      if (last !== undefined && Date.now() - last < 60_000) return;
      said.set(err.message, Date.now());
      o.log?.(`redis: ${err.message}${last === undefined ? ' (retrying; jobs resume when Redis is back)' : ''}`);
    };
    worker.on('error', onError);
    nodeWorker.on('error', onError);
    nodeQueue.on('error', onError);
    const daemon = new WorkerDaemon(o, worker, nodeWorker, nodeQueue, redis, registry, reaped, [
      ...registry.describeReaped('westream worker'),
      ...(removedReturns.length > 0
        ? [`removed ${removedReturns.length} return-file directory(ies) of westream processes that died: ${removedReturns.join(', ')}`]
        : []),
    ]);
    ref.daemon = daemon;
    await daemon.beat();
    daemon.heartbeat = setInterval(() => void daemon.beat(), o.heartbeatMs ?? WORK_MANAGER_DEFAULTS.heartbeatMs);
    void nodeWorker.run();
    void worker.run();
    await Promise.all([nodeWorker.waitUntilReady(), worker.waitUntilReady(), nodeQueue.waitUntilReady()]);
    return daemon;
  }

  private info(): WorkerInfo {
    return {
      node: this.o.nodeId,
      slots: this.o.slots,
      gpus: [...(this.o.gpus ?? [])],
      pid: process.pid,
      running: [...this.running.values()].map((r) => r.segment),
      draining: this.draining,
      lockDurationMs: this.o.lockDurationMs ?? WORK_MANAGER_DEFAULTS.lockDurationMs,
      at: new Date().toISOString(),
    };
  }

  private async beat(): Promise<void> {
    const ttl = Math.ceil((3 * (this.o.heartbeatMs ?? WORK_MANAGER_DEFAULTS.heartbeatMs)) / 1000);
    const json = JSON.stringify(this.info());
    await this.redis
      .multi()
      .set(HEARTBEAT_KEY(this.o.nodeId), json, 'EX', ttl)
      .hset(NODES_KEY, this.o.nodeId, json)
      .exec()
      .catch(() => undefined);
  }

  private runnerFor(runId: string, config: string, simRoot: string, seed: string): DaemonRunner {
    const key = `${runId}\0${config}\0${simRoot}\0${seed}`;
    let r = this.runners.get(key);
    if (!r && this.o.makeRunner) {
      r = this.o.makeRunner({ runId, config, simRoot, seed: BigInt(seed) });
      this.runners.set(key, r);
    }
    if (!r) {
      let cfg: WestConfig;
      try {
        cfg = loadConfig(config).config;
      } catch (e) {
        throw new Error(
          `cannot load the run's config ${config} on node ${this.o.nodeId}: ${(e as Error).message.split('\n')[0] ?? ''} (the sim root must be on a file system every node shares)`,
        );
      }
      const dispatchStream = (task: SegmentTask, port: number, run: () => Promise<void>): Promise<void> => this.dispatchStream(runId, task, port, run);
      const runner = new SegmentRunner({
        config: cfg,
        simRoot,
        seed: BigInt(seed),
        registry: this.registry,
        node: this.o.nodeId,
        dispatchStream,
        markCompleted: true,
      });
      runner.python?.setSlots(this.o.slots); // one Python helper per slot, each started once for the run
      r = runner;
      this.runners.set(key, r);
    }
    return r;
  }

  private async process(job: Job, token: string | undefined): Promise<SegmentResult> {
    const jobId = job.id ?? '?';
    const data = readSegmentJob(jobId, job.data);
    const runner = this.runnerFor(data.runId, data.config, data.simRoot, data.seed);
    const controller = new AbortController();
    const slot = this.freeSlots.pop() ?? 0; // BullMQ runs at most `slots` at once
    const gpu = this.o.gpus?.[slot];
    const slotEnv = { WM_PROCESS_INDEX: String(slot), ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}) };
    this.running.set(jobId, { controller, segment: jobId });
    try {
      this.o.log?.(`${jobId}: started${gpu !== undefined ? ` on GPU ${gpu}` : ''}`);
      const r = await runner.runSegment(data.task, controller.signal, undefined, slotEnv);
      this.o.log?.(`${jobId}: ${r.status}`);
      if (r.status === 'cancelled' && this.killing && token) {
        // Not a failure of the segment: hand the job back at once, for another node (DelayedError: BullMQ
        // neither completes nor fails it).
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (r.status === 'cancelled') throw new Error(`segment stopped on node ${this.o.nodeId} (the daemon is shutting down)`);
      return r;
    } finally {
      this.running.delete(jobId);
      this.freeSlots.push(slot);
    }
  }

  /** Puts a segment's stream analysis on this node's queue and waits until this daemon has run it from there. */
  private async dispatchStream(runId: string, task: SegmentTask, port: number, run: () => Promise<void>): Promise<void> {
    const segment = segmentJobId(runId, task);
    const id = `${segment}-stream-${randomBytes(4).toString('hex')}`; // one per engine start: never a duplicate
    // Settles as the analysis does (resolve adopts the run's promise), once the node queue's job started it.
    const done = new Promise<void>((resolve) => {
      this.streams.set(id, () => {
        const ran = run();
        resolve(ran);
        return ran;
      });
    });
    try {
      const data: StreamJob = { segment, node: this.o.nodeId, port };
      await this.nodeQueue.add('stream', data, { jobId: id, removeOnComplete: true, removeOnFail: { count: 1000 } });
      return await done;
    } finally {
      this.streams.delete(id);
    }
  }

  private async stream(job: Job): Promise<{ ran: boolean }> {
    const run = this.streams.get(job.id ?? '');
    // Left by an earlier incarnation of this daemon: its engine was killed with it, nothing to read.
    if (!run) return { ran: false };
    this.streams.delete(job.id ?? '');
    await run();
    return { ran: true };
  }

  /** Stops taking segments and waits for the running ones (first stop signal). */
  async drain(): Promise<void> {
    this.draining = true;
    await deadline(this.beat(), 2000);
    // close() stops fetching and waits for the running jobs; with Redis away it would also wait for Redis,
    // forever. So: wait for our own segments to end, then give the close a deadline.
    const closed = this.worker.close();
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 100));
    if (!(await deadline(closed, 3000)))
      this.o.log?.("Redis does not answer: leaving without it (the jobs this node finished are reported again by the sim-manager's reconciliation)");
    await this.shutdown(false);
  }

  /** Kills the running segments' process groups and exits without finishing their jobs (second signal). */
  async kill(): Promise<void> {
    this.killing = true;
    for (const r of this.running.values()) r.controller.abort();
    await this.worker.close(true);
    await this.shutdown(true);
  }

  private async shutdown(force: boolean): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await deadline(Promise.allSettled([this.nodeWorker.close(force), this.nodeQueue.close()]), 3000);
    await deadline(
      this.redis.del(HEARTBEAT_KEY(this.o.nodeId)).catch(() => undefined),
      1000,
    );
    this.redis.disconnect();
    for (const r of this.runners.values()) r.close();
    this.registry.close();
  }
}
