import { createHash } from 'node:crypto';

/** The run's id (job ids, queues): west.westream.run_id, else derived from the sim root's path. */
export function runIdOf(configured: string | null, simRoot: string): string {
  return configured ?? `run-${createHash('sha1').update(simRoot).digest('hex').slice(0, 10)}`;
}
