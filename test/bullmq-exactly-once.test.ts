/**
 * Exactly once through BullMQ: every execution of a segment stamps `$WEST_CURRENT_ITER $WEST_CURRENT_SEG_ID`
 * to a file, and 3 × 1,000 no-op segments through 2 and through 4 worker daemons must leave exactly one stamp
 * per segment. No-op segments finish in milliseconds, so results arrive while the work manager is reading
 * Redis: the race that used to re-enqueue a job that settled during a read as "lost by Redis" (2–3 % of
 * segments ran twice, every run). The five-run version is `node bench/exactly-once.mjs`.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, waitForLine, type Started } from './support/processes.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, REPO, WESTREAM, westream, westreamRun } from './support/sim-dir.js';

const skip = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));
const SEGS = 1000;
const ITERS = 3;

let redis: PrivateRedis;
beforeAll(async () => {
  if (!skip) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(reapStarted);

/** The bench's no-op sim root (1,000 segments per iteration), its runseg.sh stamping each execution. */
function stampingSimRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-once-'));
  cpSync(join(REPO, 'bench/fixtures/noop'), dir, { recursive: true });
  const cfg = join(dir, 'west.cfg');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('max_total_iterations: 3', `max_total_iterations: ${ITERS}`));
  appendFileSync(join(dir, 'runseg.sh'), 'echo "$WEST_CURRENT_ITER $WEST_CURRENT_SEG_ID" >> "$WEST_SIM_ROOT/stamps"\n');
  const init = westream(dir, ['init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(SEGS)]);
  expect(init.code, init.stderr).toBe(0);
  return dir;
}

/** Executions per segment, from the stamps. */
function executions(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(join(dir, 'stamps'), 'utf8').split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

async function daemons(n: number, tag: string): Promise<Started[]> {
  const ws = Array.from({ length: n }, (_, i) => start(process.execPath, [WESTREAM, 'worker', '--redis', redis.url, '--node-id', `${tag}-${i}`, '--slots', '1', '--state-dir', join(redis.dir, `state-${tag}-${i}`)], { env: childEnv() }));
  for (const w of ws) await waitForLine(w, 'stdout', /ready: 1 slot/);
  return ws;
}

describe.skipIf(skip)('bullmq: every segment runs exactly once', () => {
  for (const n of [2, 4]) {
    it(`${ITERS} × ${SEGS} no-op segments through ${n} worker daemons: one execution per segment`, async () => {
      await daemons(n, `once${n}`);
      const dir = stampingSimRoot();
      const r = await westreamRun(dir, ['run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis.url]);
      expect(r.code, r.stderr).toBe(0);
      const counts = executions(dir);
      const twice = [...counts].filter(([, c]) => c > 1).map(([seg, c]) => `iteration/segment ${seg}: ${c} executions`);
      expect(twice, 'segments that ran more than once').toEqual([]);
      expect(counts.size).toBe(ITERS * SEGS); // and none was skipped
    }, 300_000);
  }
});
