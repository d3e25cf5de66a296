// Scale: 10,000 segments per iteration for 200 iterations through the BullMQ work manager, with simulated
// workers (bench/scale/simulated-worker.mjs complete each job at once). Reports the sim-manager's resident
// memory and wall time per iteration (from its own "iteration finished" log lines), and whether either grows.
// Not part of `npm run bench` (it takes a while): `npm run bench:scale [-- SEGS ITERS]`, then see
// bench/SCALE.md.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startUntil } from './lib/processes.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const westream = join(repo, 'packages/cli/bin/westream.js');
const SEGS = Number(process.argv[2] ?? 10_000);
const ITERS = Number(process.argv[3] ?? 200);

const dir = mkdtempSync(join(tmpdir(), 'westream-scale-'));
cpSync(join(repo, 'bench/fixtures/noop'), dir, { recursive: true });
const cfg = join(dir, 'west.cfg');
writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('bin_target_counts: 1000', `bin_target_counts: ${SEGS}`).replace('max_total_iterations: 3', `max_total_iterations: ${ITERS}`));
const port = await freePort();
const redis = await startUntil('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], /Ready to accept connections/);
const url = `redis://127.0.0.1:${port}`;
const workers = [];
try {
  for (let i = 0; i < 2; i++) workers.push(await startUntil(process.execPath, [join(repo, 'bench/scale/simulated-worker.mjs'), url, '64'], /ready/));
  const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(SEGS)], { cwd: dir, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`init: ${init.stderr}`);
  const t0 = performance.now();
  const run = spawn(process.execPath, [westream, 'run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', url], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
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
      rows.push({ n: r.nIter, segs: r.nSegs, walltime: r.walltime, rss: r.rssMB });
      if (r.nIter % 10 === 0 || r.nIter === 1) process.stderr.write(`scale: iteration ${r.nIter}: ${r.nSegs} segments, ${r.walltime.toFixed(2)} s, RSS ${r.rssMB} MiB\n`);
    }
  });
  const code = await new Promise((r) => run.once('close', r));
  if (code !== 0) throw new Error(`westream run exited ${code}`);
  const total = (performance.now() - t0) / 1000;
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
  };
  const md = [
    '# Scale benchmark',
    '',
    `Written by \`npm run bench:scale\` on ${new Date().toISOString().slice(0, 10)}: ${SEGS} segments per iteration, ${rows.length} iterations, BullMQ work manager, 2 simulated workers (64 jobs at a time each, completing at once), local redis-server.`,
    '',
    `- Total: ${total.toFixed(0)} s; mean ${summary.perSegmentMs.toFixed(3)} ms of sim-manager + Redis time per segment.`,
    `- Wall time per iteration: ${summary.perIter.early.toFixed(2)} s in the second tenth of the run, ${summary.perIter.late.toFixed(2)} s in the last tenth (ratio ${(summary.perIter.late / summary.perIter.early).toFixed(2)}).`,
    `- Sim-manager RSS: ${summary.rss.early.toFixed(0)} MiB in the second tenth, ${summary.rss.late.toFixed(0)} MiB in the last tenth, at most ${summary.rss.max} MiB.`,
    '',
    '| iteration | segments | wall time (s) | RSS (MiB) |',
    '| --- | --- | --- | --- |',
    ...rows.filter((r) => r.n === 1 || r.n % 10 === 0).map((r) => `| ${r.n} | ${r.segs} | ${r.walltime.toFixed(2)} | ${r.rss} |`),
    '',
  ].join('\n');
  writeFileSync(new URL('SCALE.md', import.meta.url), md);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  for (const w of workers) w.kill('SIGKILL');
  redis.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
