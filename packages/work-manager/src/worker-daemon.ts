/**
 * `westream worker`: one daemon per cluster node. It takes segment jobs from the `segments` queue, `slots` at
 * a time, and runs each with the same SegmentRunner as the local work manager (the engine and its stream task
 * as child processes of this node, so streaming always stays on the node that runs the engine; the event
 * loop stays free to renew job locks).
 *
 * A heartbeat key (`westream:worker:<node-id>`, with a TTL) says who is alive, with how many slots and which
 * segments. On start it kills what a previous incarnation of this node's daemon left running (its process
 * registry); first stop signal: drain (finish running segments, take no more); second: kill the running
 * segments' process groups and leave their jobs to BullMQ's stall check, which hands them to another node.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DelayedError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type WestConfig } from '@westream/config';
import { ProcessRegistry, SegmentRunner, type SegmentResult } from '@westream/propagator';
import { pingRedis, redisConnection } from './bullmq-work-manager.js';
import { QUEUE_PREFIX, readSegmentJob, SEGMENT_QUEUE } from './segment-job.js';

export interface WorkerDaemonOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  readonly slots: number;
  /** Where this node's process registry lives (kept across restarts of the daemon). */
  readonly stateDir: string;
  /** BullMQ job lock: a dead daemon's segments are handed on after about this long (default 30 s). */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly heartbeatMs?: number;
  readonly log?: (line: string) => void;
}

export const HEARTBEAT_KEY = (nodeId: string): string => `${QUEUE_PREFIX}:worker:${nodeId}`;

export class WorkerDaemon {
  private readonly running = new Map<string, { controller: AbortController; segment: string }>();
  private readonly runners = new Map<string, SegmentRunner>();
  private heartbeat: NodeJS.Timeout | undefined;
  private draining = false;

  private constructor(
    private readonly o: WorkerDaemonOptions,
    private readonly worker: Worker,
    private readonly redis: Redis,
    private readonly registry: ProcessRegistry,
    readonly reaped: number[],
  ) {}

  static async start(o: WorkerDaemonOptions): Promise<WorkerDaemon> {
    mkdirSync(o.stateDir, { recursive: true });
    const registry = new ProcessRegistry(join(o.stateDir, 'pgids'));
    const reaped = registry.reapOrphans();
    const connection = redisConnection(o.redisUrl);
    await pingRedis(o.redisUrl);
    const redis = new Redis({ ...connection, maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    const ref: { daemon?: WorkerDaemon } = {}; // the processor needs the daemon, which needs the worker
    const worker = new Worker(SEGMENT_QUEUE, (job: Job, token?: string) => (ref.daemon as WorkerDaemon).process(job, token), {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: o.slots,
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? o.lockDurationMs ?? 30_000,
      // A node can die more than once under the same segment; the sim-manager's retry policy decides about
      // segments that fail, so stalls should not turn into failures quickly.
      maxStalledCount: 10,
      autorun: false,
    });
    worker.on('error', (e) => o.log?.(`worker: ${e.message}`));
    const daemon = new WorkerDaemon(o, worker, redis, registry, reaped);
    ref.daemon = daemon;
    await daemon.beat();
    daemon.heartbeat = setInterval(() => void daemon.beat(), o.heartbeatMs ?? 5000);
    void worker.run();
    await worker.waitUntilReady();
    return daemon;
  }

  private async beat(): Promise<void> {
    const ttl = Math.ceil(3 * (this.o.heartbeatMs ?? 5000) / 1000);
    const info = { node: this.o.nodeId, slots: this.o.slots, pid: process.pid, running: [...this.running.values()].map((r) => r.segment), draining: this.draining, at: new Date().toISOString() };
    await this.redis.set(HEARTBEAT_KEY(this.o.nodeId), JSON.stringify(info), 'EX', ttl).catch(() => undefined);
  }

  private runnerFor(config: string, simRoot: string, seed: string): SegmentRunner {
    const key = `${config}\0${simRoot}\0${seed}`;
    let r = this.runners.get(key);
    if (!r) {
      let cfg: WestConfig;
      try {
        cfg = loadConfig(config).config;
      } catch (e) {
        throw new Error(`cannot load the run's config ${config} on node ${this.o.nodeId}: ${(e as Error).message.split('\n')[0] ?? ''} (the sim root must be on a file system every node shares)`);
      }
      r = new SegmentRunner({ config: cfg, simRoot, seed: BigInt(seed), registry: this.registry, node: this.o.nodeId });
      this.runners.set(key, r);
    }
    return r;
  }

  private killing = false;

  private async process(job: Job, token: string | undefined): Promise<SegmentResult> {
    const jobId = job.id ?? '?';
    const data = readSegmentJob(jobId, job.data);
    const runner = this.runnerFor(data.config, data.simRoot, data.seed);
    const controller = new AbortController();
    this.running.set(jobId, { controller, segment: jobId });
    try {
      this.o.log?.(`${jobId}: started`);
      const r = await runner.runSegment(data.task, controller.signal);
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
    }
  }

  /** Stops taking segments and waits for the running ones (first stop signal). */
  async drain(): Promise<void> {
    this.draining = true;
    await this.beat();
    await this.worker.close();
    await this.shutdown();
  }

  /** Kills the running segments' process groups and exits without finishing their jobs (second signal). */
  async kill(): Promise<void> {
    this.killing = true;
    for (const r of this.running.values()) r.controller.abort();
    await this.worker.close(true);
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.redis.del(HEARTBEAT_KEY(this.o.nodeId)).catch(() => undefined);
    this.redis.disconnect();
    for (const r of this.runners.values()) r.close();
    this.registry.close();
  }
}
