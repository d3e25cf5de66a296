// Helpers for the BullMQ benches: a private redis-server, westream worker daemons, a no-op sim root whose
// runseg.sh stamps every execution, and Redis's own accounting (INFO commandstats, which counts the calls a Lua
// script makes as well as the scripts themselves; INFO cpu).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startUntil } from './processes.mjs';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const westream = join(repo, 'packages/cli/bin/westream.js');

export const haveRedis = () => spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status === 0;

/** A private redis-server (no persistence), stopped by `stop()`. */
export async function privateRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'westream-bench-redis-'));
  const server = await startUntil(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    /Ready to accept connections/,
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    url,
    port,
    dir,
    client,
    async stop() {
      client.disconnect();
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resets Redis's counters (commands and CPU are then read as differences). */
export async function resetStats(client) {
  await client.config('RESETSTAT');
  return cpuSeconds(client);
}

/** Every command Redis ran since the last reset, Lua-internal calls included, less the bench's own INFO/CONFIG. */
export async function commandCount(client) {
  const text = await client.info('commandstats');
  const by = {};
  let total = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [name, calls] = [m[1], Number(m[2])];
    if (name === 'info' || name.startsWith('config')) continue;
    by[name] = calls;
    total += calls;
  }
  return { total, by };
}

export async function cpuSeconds(client) {
  const text = await client.info('cpu');
  const get = (k) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(text)?.[1] ?? 0);
  return get('used_cpu_sys') + get('used_cpu_user');
}

/** `n` westream worker daemons with one slot each. */
export async function workerDaemons(url, n, stateDir, tag = 'bench') {
  const ws = [];
  for (let i = 0; i < n; i++)
    ws.push(
      await startUntil(
        process.execPath,
        [westream, 'worker', '--redis', url, '--node-id', `${tag}-${i}`, '--slots', '1', '--state-dir', join(stateDir, `${tag}-${i}`)],
        /ready: 1 slot/,
      ),
    );
  return { procs: ws, kill: () => ws.forEach((w) => w.kill('SIGKILL')) };
}

/**
 * The no-op fixture (bench/fixtures/noop) with `segs` segments per iteration and `iters` iterations; its
 * runseg.sh also appends `$WEST_CURRENT_ITER $WEST_CURRENT_SEG_ID` to `stamps` when `stamp` is set.
 */
export function noopSimRoot({ segs = 1000, iters = 3, stamp = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'westream-bench-'));
  cpSync(join(repo, 'bench/fixtures/noop'), dir, { recursive: true });
  const cfg = join(dir, 'west.cfg');
  writeFileSync(
    cfg,
    readFileSync(cfg, 'utf8')
      .replace('bin_target_counts: 1000', `bin_target_counts: ${segs}`)
      .replace('max_total_iterations: 3', `max_total_iterations: ${iters}`),
  );
  if (stamp) appendFileSync(join(dir, 'runseg.sh'), 'echo "$WEST_CURRENT_ITER $WEST_CURRENT_SEG_ID" >> "$WEST_SIM_ROOT/stamps"\n');
  const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(segs)], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`westream init: ${init.stderr}`);
  return dir;
}

/** Executions per segment from the stamps file: total, distinct, and the segments that ran more than once. */
export function stampCounts(dir) {
  let text = '';
  try {
    text = readFileSync(join(dir, 'stamps'), 'utf8');
  } catch {
    /* none ran */
  }
  const counts = new Map();
  for (const line of text.split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  const repeated = [...counts].filter(([, c]) => c > 1);
  return { executions: [...counts.values()].reduce((a, b) => a + b, 0), distinct: counts.size, repeated };
}

/** `westream run --work-manager bullmq` to the end; seconds taken and the process's CPU seconds (user + sys). */
export async function westreamBullmqRun(dir, url, extraEnv = {}) {
  const t0 = performance.now();
  const run = spawn(
    '/usr/bin/time',
    ['-f', '%U %S', process.execPath, westream, 'run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', url, '--api', 'off'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...extraEnv } },
  );
  let err = '';
  run.stderr.on('data', (b) => (err += b));
  const code = await new Promise((r) => run.once('close', r));
  if (code !== 0) throw new Error(`westream run (bullmq) failed (${code}): ${err}`);
  const seconds = (performance.now() - t0) / 1000;
  const [u, s] = err.trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, cpu: u + s };
}
