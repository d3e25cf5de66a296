// Scale: SEGS segments per iteration (default 100,000) for ITERS iterations (20) through the BullMQ work
// manager, with NODES simulated workers (16), each in its own network namespace (a "node" reaching Redis over
// a veth pair, as on a cluster; on the host's loopback where namespaces cannot be made). The workers
// (bench/scale/simulated-worker.mjs) complete each job at once, so what is measured is the sim-manager and
// Redis. Reports per iteration: wall time, the barrier (last job of n ends → first job of n+1 starts, from the
// workers' own clocks), the sim-manager's RSS and Redis's used_memory; and every execution, so a segment run
// twice or never is counted. Not part of `npm run bench` (it takes a while):
// `npm run bench:scale [-- SEGS ITERS NODES]`, then see bench/SCALE.md (SCALE_PROF=DIR: a CPU profile of the
// sim-manager in DIR).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeNodes, netnsMissing } from './lib/netns.mjs';
import { freePort, startUntil } from './lib/processes.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const westream = join(repo, 'packages/cli/bin/westream.js');
const SEGS = Number(process.argv[2] ?? 100_000);
const ITERS = Number(process.argv[3] ?? 20);
const NODES = Number(process.argv[4] ?? 16);

const dir = mkdtempSync(join(tmpdir(), 'westream-scale-'));
cpSync(join(repo, 'bench/fixtures/noop'), dir, { recursive: true });
const cfg = join(dir, 'west.cfg');
writeFileSync(
  cfg,
  readFileSync(cfg, 'utf8')
    .replace('bin_target_counts: 1000', `bin_target_counts: ${SEGS}`)
    .replace('max_total_iterations: 3', `max_total_iterations: ${ITERS}`),
);
const port = await freePort();
const whyNoNetns = netnsMissing();
if (whyNoNetns) process.stderr.write(`scale: ${whyNoNetns}; the workers run on the host's loopback instead\n`);
const nodes = whyNoNetns ? null : makeNodes(NODES);
const bind = nodes ? `127.0.0.1 ${nodes.hostAddress}` : '127.0.0.1';
const redis = await startUntil(
  'redis-server',
  [
    '--port',
    String(port),
    '--bind',
    ...bind.split(' '),
    '--protected-mode',
    'no',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--dir',
    dir,
  ],
  /Ready to accept connections/,
);
const url = `redis://127.0.0.1:${port}`;
const nodeUrl = nodes ? `redis://${nodes.hostAddress}:${port}` : url;
const workers = [];
const outs = [];
const redisMemory = () =>
  Number(/used_memory:(\d+)/.exec(spawnSync('redis-cli', ['-p', String(port), 'info', 'memory'], { encoding: 'utf8' }).stdout)?.[1] ?? NaN) / 2 ** 20;
try {
  for (let i = 0; i < NODES; i++) {
    const out = join(dir, `worker-${i}.json`);
    outs.push(out);
    const args = [join(repo, 'bench/scale/simulated-worker.mjs'), nodeUrl, '64', out];
    workers.push(await startUntil(nodes ? 'ip' : process.execPath, nodes ? ['netns', 'exec', nodes.names[i], process.execPath, ...args] : args, /ready/));
  }
  const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(SEGS)], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`init: ${init.stderr}`);
  const t0 = performance.now();
  const run = spawn(
    process.execPath,
    [
      ...(process.env.SCALE_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.SCALE_PROF] : []),
      westream,
      'run',
      '--config',
      'west.cfg',
      '--work-manager',
      'bullmq',
      '--redis',
      url,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const rows = [];
  let buf = '';
  run.stdout.on('data', (b) => {
    buf += b;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.includes('"iteration finished"')) continue;
      const r = JSON.parse(line);
      rows.push({ n: r.nIter, segs: r.nSegs, walltime: r.walltime, rss: r.rssMB, redisMB: redisMemory() });
      if (r.nIter % 10 === 0 || r.nIter === 1 || ITERS <= 30)
        process.stderr.write(
          `scale: iteration ${r.nIter}: ${r.nSegs} segments, ${r.walltime.toFixed(2)} s, RSS ${r.rssMB} MiB, Redis ${rows.at(-1).redisMB.toFixed(0)} MiB\n`,
        );
    }
  });
  const code = await new Promise((r) => run.once('close', r));
  if (code !== 0) throw new Error(`westream run exited ${code}`);
  const total = (performance.now() - t0) / 1000;
  // Every execution the workers saw, per iteration: the barrier between iterations, segments run twice or never.
  await Promise.all(workers.map((w) => new Promise((r) => (w.once('exit', r), w.kill('SIGTERM')))));
  const seen = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  let executions = 0;
  let duplicates = 0;
  let missing = 0;
  for (const row of rows) {
    const runs = new Uint8Array(SEGS);
    let first = Infinity;
    let last = 0;
    for (const w of seen) {
      const it = w[row.n];
      if (!it) continue;
      first = Math.min(first, it.first);
      last = Math.max(last, it.last);
      for (const id of it.ids) {
        executions++;
        if (runs[id]++ > 0) duplicates++;
      }
    }
    for (const c of runs) if (c === 0) missing++;
    row.first = first;
    row.last = last;
  }
  for (let k = 1; k < rows.length; k++) rows[k].barrier = (rows[k].first - rows[k - 1].last) / 1000;
  const barriers = rows.slice(1).map((r) => r.barrier);
  const decile = (k) => rows.slice(Math.floor((k * rows.length) / 10), Math.floor(((k + 1) * rows.length) / 10));
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = decile(1); // skip the first tenth: warm-up (JIT, the first iteration's initial states)
  const last = decile(9);
  const summary = {
    segs: SEGS,
    iters: rows.length,
    total,
    perIter: { early: mean(first.map((r) => r.walltime)), late: mean(last.map((r) => r.walltime)) },
    rss: { early: mean(first.map((r) => r.rss)), late: mean(last.map((r) => r.rss)), max: Math.max(...rows.map((r) => r.rss)) },
    perSegmentMs: (1000 * mean(rows.map((r) => r.walltime))) / SEGS,
    barrier: { mean: mean(barriers), max: Math.max(...barriers) },
    redisMB: { early: mean(first.map((r) => r.redisMB)), late: mean(last.map((r) => r.redisMB)), max: Math.max(...rows.map((r) => r.redisMB)) },
    executions,
    duplicates,
    missing,
    nodes: nodes ? NODES : 0,
  };
  const where = nodes
    ? `${NODES} simulated workers, each in its own network namespace (reaching Redis over veth at ${nodes.hostAddress})`
    : `${NODES} simulated workers on the host's loopback`;
  const md = [
    '# Scale benchmark',
    '',
    `Written by \`npm run bench:scale -- ${SEGS} ${ITERS} ${NODES}\` on ${new Date().toISOString().slice(0, 10)}: ${SEGS} segments per iteration, ${rows.length} iterations, BullMQ work manager, ${where}, 64 jobs at a time each, completing at once; a local redis-server.`,
    '',
    `- Total: ${total.toFixed(0)} s; mean ${summary.perSegmentMs.toFixed(3)} ms of sim-manager + Redis time per segment.`,
    `- Executions: ${executions} for ${SEGS * rows.length} segments; run twice: ${duplicates}; never run: ${missing}.`,
    `- Barrier (last job of iteration n ends → first job of n+1 starts, the workers' clocks): mean ${summary.barrier.mean.toFixed(2)} s, at most ${summary.barrier.max.toFixed(2)} s.`,
    `- Wall time per iteration: ${summary.perIter.early.toFixed(2)} s in the second tenth of the run, ${summary.perIter.late.toFixed(2)} s in the last tenth (ratio ${(summary.perIter.late / summary.perIter.early).toFixed(2)}).`,
    `- Sim-manager RSS: ${summary.rss.early.toFixed(0)} MiB in the second tenth, ${summary.rss.late.toFixed(0)} MiB in the last tenth, at most ${summary.rss.max} MiB.`,
    `- Redis used_memory (at each "iteration finished"): ${summary.redisMB.early.toFixed(0)} MiB in the second tenth, ${summary.redisMB.late.toFixed(0)} MiB in the last tenth, at most ${summary.redisMB.max.toFixed(0)} MiB.`,
    '',
    '| iteration | segments | wall time (s) | barrier before it (s) | RSS (MiB) | Redis (MiB) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows
      .filter((r) => rows.length <= 30 || r.n === 1 || r.n % 10 === 0)
      .map(
        (r) =>
          `| ${r.n} | ${r.segs} | ${r.walltime.toFixed(2)} | ${r.barrier === undefined ? '–' : r.barrier.toFixed(2)} | ${r.rss} | ${r.redisMB.toFixed(0)} |`,
      ),
    '',
  ].join('\n');
  writeFileSync(new URL('SCALE.md', import.meta.url), md);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  redis.kill('SIGTERM');
  nodes?.teardown();
  rmSync(dir, { recursive: true, force: true });
}
