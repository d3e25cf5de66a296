/**
 * The BullMQ side of a run as an observer sees it: the worker registry (every daemon that joined this Redis,
 * alive or not) and the segments queue, on the observer's own connections. The REST API's thread uses one;
 * the work manager reads the registry the same way to find dead nodes.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { HEARTBEAT_KEY, NODES_KEY, QUEUE_PREFIX, readWorkerInfo, SEGMENT_QUEUE, type WorkerInfo } from './segment-job.js';
import { redisConnection } from './redis-connection.js';

/** A worker daemon as the registry knows it: its last heartbeat, and whether that is recent enough. */
export interface WorkerStatus extends WorkerInfo {
  readonly alive: boolean;
}

/** Every worker daemon that has joined this Redis, by node id; alive while its heartbeat key lives. */
export async function readWorkers(redis: Redis): Promise<WorkerStatus[]> {
  const known = await redis.hgetall(NODES_KEY);
  const ids = Object.keys(known).sort();
  const live = ids.length > 0 ? await redis.mget(...ids.map(HEARTBEAT_KEY)) : [];
  const out: WorkerStatus[] = [];
  ids.forEach((id, i) => {
    const beat = live[i] ?? null;
    const info = readWorkerInfo(beat) ?? readWorkerInfo(known[id] ?? null);
    if (info) out.push({ ...info, alive: beat !== null });
  });
  return out;
}

export class QueueObserver {
  private constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
  ) {}

  static connect(redisUrl: string): QueueObserver {
    const connection = redisConnection(redisUrl);
    // Fails a command after a few retries: a status page must answer even while Redis is away.
    const redis = new Redis({ ...connection, maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    // It only reads: it must not reset the queue's settings (the event stream's length) to BullMQ's defaults.
    const queue = new Queue(SEGMENT_QUEUE, { connection, prefix: QUEUE_PREFIX, skipMetasUpdate: true });
    queue.on('error', () => undefined);
    return new QueueObserver(redis, queue);
  }

  workers(): Promise<WorkerStatus[]> {
    return readWorkers(this.redis);
  }

  /** Jobs in the segments queue, by state. */
  jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  }

  /** The segments queue, for a board that shows it (node queues hold only short-lived stream jobs). */
  queues(): Queue[] {
    return [this.queue];
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await Promise.race([this.queue.close(), new Promise((r) => setTimeout(r, 2000))]);
  }
}
