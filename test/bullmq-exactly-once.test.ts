/**
 * Exactly once through BullMQ: every execution of a segment stamps `$WEST_CURRENT_ITER $WEST_CURRENT_SEG_ID`
 * to a file, and 3 × 500 no-op segments through 2 and through 4 worker daemons must leave exactly one stamp
 * per segment. No-op segments finish in milliseconds, so results arrive while the work manager is reading
 * Redis: the race that used to re-enqueue a job that settled during a read as "lost by Redis" (2–3 % of
 * segments ran twice, every run). The five-run version is `node bench/exactly-once.mjs`.
 */
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { BullmqWorkManager, QUEUE_PREFIX, SEGMENT_QUEUE, segmentJobId, type SegmentJob } from '@westream/work-manager';
import { COMPLETE_MARKER, type SegmentResult, type SegmentTask } from '@westream/propagator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, waitForLine, type Started } from './support/processes.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, REPO, WESTREAM, westream, westreamRun } from './support/sim-dir.js';

const skip = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));
const SEGS = 500;
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
  writeFileSync(
    cfg,
    readFileSync(cfg, 'utf8')
      .replace('bin_target_counts: 1000', `bin_target_counts: ${SEGS}`)
      .replace('max_total_iterations: 3', `max_total_iterations: ${ITERS}`),
  );
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
  const ws = Array.from({ length: n }, (_, i) =>
    start(
      process.execPath,
      [WESTREAM, 'worker', '--redis', redis.url, '--node-id', `${tag}-${i}`, '--slots', '1', '--state-dir', join(redis.dir, `state-${tag}-${i}`)],
      { env: childEnv() },
    ),
  );
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

describe.skipIf(skip)('bullmq: a segment handed out again after its result was accepted', () => {
  it('the re-run works beside the accepted directory, never in it, and its own directory is deleted', async () => {
    await daemons(2, 'race');
    const dir = mkdtempSync(join(tmpdir(), 'westream-race-'));
    cpSync(join(REPO, 'bench/fixtures/noop'), dir, { recursive: true });
    // Each execution leaves a token of its own in its directory and a stamp; segment 1 keeps the run open.
    appendFileSync(
      join(dir, 'runseg.sh'),
      'echo "$$-$RANDOM" > token\necho "$WEST_CURRENT_SEG_ID $PWD" >> "$WEST_SIM_ROOT/stamps"\n[ "$WEST_CURRENT_SEG_ID" = 1 ] && sleep 6\nexit 0\n',
    );
    const runId = 'race';
    const o = { redisUrl: redis.url, runId, simRoot: dir, config: join(dir, 'west.cfg'), seed: 1n };
    const wm = await BullmqWorkManager.connect(o);
    const queue = new Queue(SEGMENT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null }, prefix: QUEUE_PREFIX });
    const task = (segId: number): SegmentTask => ({ nIter: 2, segId, weight: 0.5, parentId: 0, istate: null, bstate: null, attempt: 0 });
    const segDir = join(dir, 'traj_segs/000002/000000');
    const seen = new Set<string>();
    let forced: Promise<void> = Promise.resolve();
    try {
      const results = await wm.propagate(
        [task(0), task(1)],
        (r: SegmentResult) => {
          if (r.segId !== 0) return;
          const accepted = readFileSync(join(segDir, 'token'), 'utf8');
          seen.add(accepted);
          // The fault: once its job has gone (the result is journaled), Redis hands segment 0 out again,
          // while a child of the next iteration would be reading its directory.
          const jobId = segmentJobId(runId, task(0));
          forced = (async () => {
            while ((await queue.getJobState(jobId)) !== 'unknown') await new Promise((res) => setTimeout(res, 20));
            const data: SegmentJob = { runId, simRoot: dir, config: o.config, seed: '1', task: task(0) };
            await queue.add('segment', data, { jobId, attempts: 1 });
            while (executionsOf(dir, 0).length < 2) {
              seen.add(readFileSync(join(segDir, 'token'), 'utf8'));
              await new Promise((res) => setTimeout(res, 10));
            }
          })();
        },
        new AbortController().signal,
      );
      await forced;
      expect(results.map((r) => r.status)).toEqual(['complete', 'complete']);
      const [first, second] = executionsOf(dir, 0);
      expect(first).toBe(segDir);
      expect(second, 'the second execution ran beside the accepted directory').toMatch(/\/000000\.westream-rerun-0-[0-9a-f]{8}$/);
      expect(seen.size, 'what a reader of the accepted directory saw').toBe(1);
      expect(readFileSync(join(segDir, 'token'), 'utf8')).toBe([...seen][0]);
      expect(existsSync(join(segDir, COMPLETE_MARKER))).toBe(true);
      // The duplicate's result reached the work manager while it was open: it was ignored, its directory deleted.
      for (let i = 0; i < 200 && existsSync(second as string); i++) await new Promise((res) => setTimeout(res, 25));
      expect(readdirSync(join(dir, 'traj_segs/000002')).sort()).toEqual(['000000', '000001']);
    } finally {
      await queue.close();
      await wm.close();
    }
  }, 120_000);
});

/** Where each execution of segment `segId` ran, in order (from the race test's stamps). */
function executionsOf(dir: string, segId: number): string[] {
  const file = join(dir, 'stamps');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${segId} `))
    .map((l) => l.slice(l.indexOf(' ') + 1));
}
