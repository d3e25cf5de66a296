// Orchestration overhead: a no-op propagator (constant pcoord), 1,000 segments per iteration, 3 iterations,
// local work manager with 2 slots. Against, in the same run: the floor (spawning the same script 3,000 times,
// 2 at a time, from a fresh Node process, with a return file each) and WESTPA's w_run (PyPI westpa, processes work manager,
// 2 workers) on the same config and scripts. westream runs with --api off: this measures orchestration; the
// REST API's thread (on by default) costs about 0.6 s of this 2-core machine per run, reported in README.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startUntil } from './lib/processes.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(repo, 'bench/fixtures/noop');
const westream = join(repo, 'packages/cli/bin/westream.js');
const SEGS = 3000;

function simDir() {
  const dir = mkdtempSync(join(tmpdir(), 'westream-bench-'));
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

function timed(fn) {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
}

function floor() {
  const dir = simDir();
  const r = spawnSync(process.execPath, [join(repo, 'bench/orchestration/spawn-floor.mjs'), dir, join(dir, 'runseg.sh'), String(SEGS)], { encoding: 'utf8' });
  must(r, 'spawn floor');
  rmSync(dir, { recursive: true, force: true });
  return Number(r.stdout.trim());
}

function westreamRun() {
  const dir = simDir();
  must(
    spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', '1000'], {
      cwd: dir,
      encoding: 'utf8',
    }),
    'westream init',
  );
  const s = timed(() =>
    must(spawnSync(process.execPath, [westream, 'run', '--config', 'west.cfg', '--api', 'off'], { cwd: dir, encoding: 'utf8' }), 'westream run'),
  );
  rmSync(dir, { recursive: true, force: true });
  return s;
}

/** The bullmq work manager: a private redis-server and 2 worker daemons with 1 slot each, on this machine. */
async function bullmqRun() {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status !== 0) return null;
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'westream-bench-redis-'));
  const redis = await startUntil(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', state],
    /Ready to accept connections/,
  );
  const url = `redis://127.0.0.1:${port}`;
  const workers = [];
  try {
    for (const id of ['bench-a', 'bench-b'])
      workers.push(
        await startUntil(
          process.execPath,
          [westream, 'worker', '--redis', url, '--node-id', id, '--slots', '1', '--state-dir', join(state, id)],
          /ready: 1 slot/,
        ),
      );
    const dir = simDir();
    must(
      spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', '1000'], {
        cwd: dir,
        encoding: 'utf8',
      }),
      'westream init',
    );
    // Not spawnSync: this process must keep reading the workers' output, or their pipes fill and block them.
    const t0 = performance.now();
    const run = spawn(process.execPath, [westream, 'run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', url, '--api', 'off'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const code = await new Promise((r) => run.once('exit', r));
    if (code !== 0) throw new Error(`westream run (bullmq) failed (${code})`);
    const s = (performance.now() - t0) / 1000;
    rmSync(dir, { recursive: true, force: true });
    return s;
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    redis.kill('SIGTERM');
    rmSync(state, { recursive: true, force: true });
  }
}

function wRun() {
  if (spawnSync('python3', ['-c', 'import westpa'], { encoding: 'utf8' }).status !== 0) return null;
  const dir = simDir();
  const env = { ...process.env, WEST_SIM_ROOT: dir };
  must(
    spawnSync('python3', ['-m', 'westpa.cli.core.w_init', '-r', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', '1000'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    }),
    'w_init',
  );
  const s = timed(() =>
    must(
      spawnSync('python3', ['-m', 'westpa.cli.core.w_run', '-r', 'west.cfg', '--work-manager', 'processes', '--n-workers', '2'], {
        cwd: dir,
        env,
        encoding: 'utf8',
      }),
      'w_run',
    ),
  );
  rmSync(dir, { recursive: true, force: true });
  return s;
}

// This machine's timings drift by ±15% from minute to minute (shared VM): floor and westream alternate,
// ROUNDS times each, and the medians are compared.
const ROUNDS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const fs = [];
  const ws = [];
  for (let i = 0; i < ROUNDS; i++) {
    fs.push(floor());
    ws.push(westreamRun());
  }
  const f = median(fs);
  const w = median(ws);
  const p = wRun();
  const b = await bullmqRun();
  const per = (s) => (s * 1000) / SEGS;
  return [
    {
      name: 'no-op segments, 3 × 1,000, 2 slots: time per segment (vs spawn floor)',
      value: per(w),
      unit: 'ms',
      goal: '≤ 1.3× floor',
      peer: 'spawning the same script, 2 at a time',
      peerValue: per(f),
      ratio: w / f,
      ratioLabel: 'westream / floor',
      detail: `median of ${ROUNDS} alternating rounds: westream run ${ws.map((x) => x.toFixed(2)).join(', ')} s for ${SEGS} segments (init excluded); floor ${fs.map((x) => x.toFixed(2)).join(', ')} s.`,
    },
    {
      name: 'no-op segments, 3 × 1,000, 2 slots: time per segment (vs w_run)',
      value: per(w),
      unit: 'ms',
      goal: '≥ 3× faster than w_run',
      peer: 'WESTPA 2022.16 w_run, processes work manager, 2 workers',
      peerValue: p === null ? null : per(p),
      ratio: p === null ? null : p / w,
      ratioLabel: 'w_run / westream',
      detail: p === null ? 'w_run not installed: npm run test:deps installs it.' : `w_run ${p.toFixed(1)} s (w_init excluded).`,
    },
    {
      name: 'no-op segments, 3 × 1,000, BullMQ work manager, 2 worker daemons × 1 slot: time per segment',
      value: b === null ? null : per(b),
      unit: 'ms',
      goal: '≤ 2× floor and ≥ 3× faster than w_run',
      peer: 'spawn floor (same run); w_run and local in the rows above',
      peerValue: per(f),
      ratio: b === null ? null : b / f,
      ratioLabel: 'bullmq / floor',
      detail:
        b === null
          ? 'redis-server not installed: npm run test:deps installs it.'
          : `bullmq run ${b.toFixed(1)} s for ${SEGS} segments; vs local ${(b / w).toFixed(2)}×; w_run / bullmq = ${p === null ? '–' : (p / b).toFixed(2)}×.`,
    },
  ];
}
