// Redis work per segment through the BullMQ work manager, against BullMQ's own floor in the same run:
// INFO commandstats (which counts the calls inside Lua scripts as well as the scripts) and Redis's CPU time,
// for (a) a bare BullMQ Queue + Worker (concurrency 2) + QueueEvents on 3,000 no-op jobs with removeOnComplete
// (bench/bullmq/floor.mjs) and (b) `westream run --work-manager bullmq` on 3 × 1,000 no-op segments with 2
// worker daemons × 1 slot. Each execution of a segment is stamped, so duplicates are counted too.
// One command: `node bench/redis-commands.bench.mjs` (after npm run build), or as part of npm run bench.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  commandCount,
  cpuSeconds,
  haveRedis,
  noopSimRoot,
  privateRedis,
  repo,
  resetStats,
  stampCounts,
  westreamBullmqRun,
  workerDaemons,
} from './lib/bullmq-run.mjs';

const SEGS = 3000;

async function floor() {
  const redis = await privateRedis();
  try {
    const cpu0 = await resetStats(redis.client);
    const r = spawnSync(process.execPath, [join(repo, 'bench/bullmq/floor.mjs'), redis.url, String(SEGS)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`floor: ${r.stderr}`);
    const { total, by } = await commandCount(redis.client);
    return { perJob: total / SEGS, by, cpuMs: (((await cpuSeconds(redis.client)) - cpu0) * 1000) / SEGS, seconds: Number(r.stdout.trim()) };
  } finally {
    await redis.stop();
  }
}

async function westreamSide() {
  const redis = await privateRedis();
  const daemons = await workerDaemons(redis.url, 2, redis.dir);
  const dir = noopSimRoot({ segs: SEGS / 3, iters: 3, stamp: true });
  try {
    const cpu0 = await resetStats(redis.client);
    const run = await westreamBullmqRun(dir, redis.url);
    const { total, by } = await commandCount(redis.client);
    return { perSeg: total / SEGS, by, cpuMs: (((await cpuSeconds(redis.client)) - cpu0) * 1000) / SEGS, seconds: run.seconds, stamps: stampCounts(dir) };
  } finally {
    daemons.kill();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const top = (by, k = 6) =>
  Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([c, n]) => `${c} ${(n / SEGS).toFixed(1)}`)
    .join(', ');

export async function run() {
  if (!haveRedis())
    return [
      {
        name: 'Redis commands per segment, BullMQ work manager',
        value: null,
        unit: 'commands',
        goal: '≤ 1.5× BullMQ floor',
        peer: 'bare BullMQ',
        peerValue: null,
        ratio: null,
        ratioLabel: 'westream / floor',
        detail: 'redis-server not installed: npm run test:deps installs it.',
      },
    ];
  const f = await floor();
  const w = await westreamSide();
  return [
    {
      name: 'Redis commands per segment, BullMQ work manager, 3 × 1,000 no-op segments, 2 daemons × 1 slot (INFO commandstats, Lua-internal calls included)',
      value: w.perSeg,
      unit: 'commands',
      goal: '≤ 1.5× BullMQ floor',
      peer: 'bare BullMQ Queue + Worker (concurrency 2) + QueueEvents, 3,000 no-op jobs, removeOnComplete',
      peerValue: f.perJob,
      ratio: w.perSeg / f.perJob,
      ratioLabel: 'westream / floor',
      detail: `westream ${w.perSeg.toFixed(1)} commands and ${w.cpuMs.toFixed(3)} ms of Redis CPU per segment (top: ${top(w.by)}); floor ${f.perJob.toFixed(1)} commands and ${f.cpuMs.toFixed(3)} ms per job (top: ${top(f.by)}). Executions: ${w.stamps.executions} for ${w.stamps.distinct} segments (${w.stamps.repeated.length} ran more than once). Run ${w.seconds.toFixed(1)} s; floor ${f.seconds.toFixed(1)} s.`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  for (const r of await run()) console.log(`${r.name}: ${r.value?.toFixed(1)} vs ${r.peerValue?.toFixed(1)} (${r.ratio?.toFixed(2)}×)\n  ${r.detail}`);
