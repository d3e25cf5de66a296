/**
 * The little the BullMQ work manager does in Redis beside BullMQ's own API: comparing event-stream ids, and
 * removing finished jobs in batches (BullMQ's `remove` is one script per job doing a dozen calls: checks for
 * locks, parents and schedulers that a finished segment job never has).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Every event BullMQ writes to a queue's stream: listening to all of them tells how far the stream was read. */
export const STREAM_EVENTS = [
  'waiting',
  'active',
  'completed',
  'failed',
  'drained',
  'removed',
  'duplicated',
  'stalled',
  'delayed',
  'added',
  'progress',
  'retries-exhausted',
  'cleaned',
  'deduplicated',
  'waiting-children',
] as const;

/** Orders two Redis stream ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/**
 * For each id in ARGV[2..]: only if it is in the finished set KEYS[1] (completed or failed: never a job that
 * waits or runs, which may be a newer attempt's), take it out and delete its keys (BullMQ's layout: the job
 * hash `<queue key prefix><id>` and its `:logs`, `:dependencies`, `:processed`, `:failed`, `:unsuccessful`).
 */
const REMOVE_FINISHED = `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local k = ARGV[1] .. id
    redis.call('DEL', k, k .. ':logs', k .. ':dependencies', k .. ':processed', k .. ':failed', k .. ':unsuccessful')
    n = n + 1
  end
end
return n`;

/**
 * For each id in ARGV[2..], one HMGET, atomically: 0 when Redis has no such job, 1 when it waits or runs, else
 * 2 (completed: its return value) or 3 (failed: its reason), each with its payload (to tell its attempt).
 * BullMQ writes finishedOn with the return value or the failure in the same script that finishes the job.
 */
const READ_JOBS = `
local out = {}
for i = 2, #ARGV do
  local v = redis.call('HMGET', ARGV[1] .. ARGV[i], 'finishedOn', 'returnvalue', 'failedReason', 'data')
  if not v[4] then out[#out + 1] = {0}
  elseif not v[1] then out[#out + 1] = {1}
  elseif v[2] then out[#out + 1] = {2, v[2], v[4]}
  else out[#out + 1] = {3, v[3] or '', v[4]} end
end
return out`;

/** A job as `readJobs` finds it. */
export type JobRead =
  { readonly kind: 'missing' } | { readonly kind: 'open' } | { readonly kind: 'completed' | 'failed'; readonly value: string; readonly data: string };

type WithRemove = Redis & {
  westreamRemoveFinished(set: string, prefix: string, ...ids: string[]): Promise<number>;
  westreamReadJobs(prefix: string, ...ids: string[]): Promise<[number, string?, string?][]>;
};

/** Reads jobs by id in one round trip (one HMGET each inside Redis). */
export async function readJobs(redis: Redis, queue: Queue, ids: readonly string[]): Promise<JobRead[]> {
  const r = redis as WithRemove;
  if (typeof r.westreamReadJobs !== 'function') redis.defineCommand('westreamReadJobs', { numberOfKeys: 0, lua: READ_JOBS });
  const rows = await r.westreamReadJobs(queue.toKey(''), ...ids);
  return rows.map(([kind, value = '', data = '']) =>
    kind === 0 ? { kind: 'missing' } : kind === 1 ? { kind: 'open' } : { kind: kind === 2 ? 'completed' : 'failed', value, data },
  );
}

/** Collects journaled jobs and removes them, a few hundred per call. */
export class FinishedJobRemover {
  private readonly due: Record<'completed' | 'failed', string[]> = { completed: [], failed: [] };
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly redis: WithRemove;

  constructor(
    redis: Redis,
    private readonly queue: Queue,
  ) {
    redis.defineCommand('westreamRemoveFinished', { numberOfKeys: 1, lua: REMOVE_FINISHED });
    this.redis = redis as WithRemove;
  }

  /** Removes these finished jobs now (an earlier attempt's, before this attempt's job takes the id). */
  async removeNow(set: 'completed' | 'failed', ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.westreamRemoveFinished(this.queue.toKey(set), this.queue.toKey(''), ...ids);
  }

  add(jobId: string, set: 'completed' | 'failed'): void {
    this.due[set].push(jobId);
    if (this.due.completed.length + this.due.failed.length >= 500) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), 50);
  }

  /** Removes what is due; a Redis that does not answer keeps it due (for the next flush, or `forget`). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = { completed: this.due.completed.splice(0), failed: this.due.failed.splice(0) };
    this.flushing = this.flushing.then(async () => {
      for (const set of ['completed', 'failed'] as const) {
        const ids = batch[set];
        if (ids.length === 0) continue;
        try {
          await this.redis.westreamRemoveFinished(this.queue.toKey(set), this.queue.toKey(''), ...ids);
        } catch {
          this.due[set].push(...ids);
        }
      }
    });
    return this.flushing;
  }

  /** Drops what could not be removed: between attempts a stale job is found by its `duplicated` check instead. */
  forget(): void {
    this.due.completed.length = 0;
    this.due.failed.length = 0;
  }
}
