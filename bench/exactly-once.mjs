// Exactly once, at the size: RUNS runs × 3,000 no-op segments (3 × 1,000) through 2 and through 4
// westream worker daemons, each execution stamped by runseg.sh; prints executions per run and exits 1 if any
// segment ran more than once or not at all. Not part of `npm run bench` (it takes minutes; the test
// test/bullmq-exactly-once.test.ts runs a smaller version). Usage: npm run build && node bench/exactly-once.mjs [RUNS]
import { rmSync } from 'node:fs';
import { haveRedis, noopSimRoot, privateRedis, stampCounts, westreamBullmqRun, workerDaemons } from './lib/bullmq-run.mjs';

const RUNS = Number(process.argv[2] ?? 5);
if (!haveRedis()) throw new Error('redis-server is not installed: npm run test:deps installs it');
let bad = 0;
for (const n of [2, 4]) {
  for (let i = 0; i < RUNS; i++) {
    const redis = await privateRedis();
    const daemons = await workerDaemons(redis.url, n, redis.dir, `once${n}`);
    const dir = noopSimRoot({ segs: 1000, iters: 3, stamp: true });
    try {
      const run = await westreamBullmqRun(dir, redis.url);
      const s = stampCounts(dir);
      const ok = s.distinct === 3000 && s.executions === 3000;
      if (!ok) bad++;
      console.log(
        `${n} daemons, run ${i + 1}: ${s.executions} executions of ${s.distinct} segments (${s.repeated.length} more than once) in ${run.seconds.toFixed(1)} s${ok ? '' : '  <-- NOT exactly once'}`,
      );
    } finally {
      daemons.kill();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
process.exit(bad > 0 ? 1 : 0);
