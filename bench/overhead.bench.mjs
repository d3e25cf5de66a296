// Orchestration overhead above the spawn floor, beside WESTPA 2022.16, in one run, on one fixture: the no-op
// propagator (bench/fixtures/noop) whose runseg.sh also stamps `$WEST_CURRENT_ITER $EPOCHREALTIME` (a bash
// builtin: no extra process) for every execution, for all contenders and for the floor alike.
// - wall-time overhead per segment above the floor (spawning the same script 3,000 times, 2 at a time):
//   westream local (2 slots) vs w_run's processes work manager (2 workers); westream BullMQ (2 worker
//   daemons × 1 slot, private redis-server) vs w_run's ZeroMQ work manager (2 workers);
// - CPU overhead per segment above the floor's CPU: every process involved (sim-manager, worker daemons and
//   their launchers, redis-server; w_run and its workers), children included;
// - the iteration barrier: last stamp of iteration n → first stamp of n+1, at 1,000 (3 iterations, every
//   contender) and at 10,000 segments per iteration (westream local and BullMQ, 2 iterations; w_run took
//   362 s there in the measurement and is not re-run).
// One command: `npm run build && node bench/overhead.bench.mjs` (ROUNDS=n for medians of n interleaved rounds;
// SKIP_10K=1 leaves out the 10,000-segment barrier).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, haveRedis, privateRedis, repo, westream, workerDaemons } from './lib/bullmq-run.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 1);
const SEGS = 1000;
const ITERS = 3;
const TOTAL = SEGS * ITERS;

function fixture(segs, iters) {
  const dir = mkdtempSync(join(tmpdir(), 'westream-overhead-'));
  cpSync(join(repo, 'bench/fixtures/noop'), dir, { recursive: true });
  const cfg = join(dir, 'west.cfg');
  writeFileSync(
    cfg,
    readFileSync(cfg, 'utf8')
      .replace('bin_target_counts: 1000', `bin_target_counts: ${segs}`)
      .replace('max_total_iterations: 3', `max_total_iterations: ${iters}`),
  );
  appendFileSync(join(dir, 'runseg.sh'), 'echo "${WEST_CURRENT_ITER:-0} $EPOCHREALTIME" >> "$WEST_SIM_ROOT/stamps"\n');
  return dir;
}

/** Runs a command to its end under /usr/bin/time: wall seconds and CPU seconds (user + sys, waited-for children included). */
async function timed(cmd, args, o) {
  const out = join(o.cwd, '.time');
  const child = spawn('/usr/bin/time', ['-o', out, '-f', '%U %S', cmd, ...args], {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const t0 = performance.now();
  const code = await new Promise((r) => child.once('close', r));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.slice(-2000)}`);
  const [u, s] = readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, cpu: u + s };
}

/** Mean barrier (s) between consecutive iterations, from the stamps. */
function barrier(dir) {
  const first = new Map();
  const last = new Map();
  for (const line of readFileSync(join(dir, 'stamps'), 'utf8').split('\n')) {
    if (!line) continue;
    const [it, t] = line.split(' ').map(Number);
    first.set(it, Math.min(first.get(it) ?? Infinity, t));
    last.set(it, Math.max(last.get(it) ?? -Infinity, t));
  }
  const iters = [...first.keys()].sort((a, b) => a - b);
  const gaps = iters.slice(1).map((n) => first.get(n) - last.get(n - 1));
  return gaps.reduce((a, b) => a + b, 0) / gaps.length;
}

const CLK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
/** CPU seconds of a process and its children so far (utime + stime + cutime + cstime), and of its live children. */
function treeCpu(pid) {
  let total = 0;
  const visit = (p) => {
    try {
      const st = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK;
      for (const t of readdirSync(`/proc/${p}/task`))
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(' ').filter(Boolean)) visit(Number(c));
    } catch {
      /* gone */
    }
  };
  visit(pid);
  return total;
}

async function floor() {
  const dir = fixture(SEGS, ITERS);
  try {
    return await timed(process.execPath, [join(repo, 'bench/orchestration/spawn-floor.mjs'), dir, join(dir, 'runseg.sh'), String(TOTAL)], { cwd: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function local(segs = SEGS, iters = ITERS) {
  const dir = fixture(segs, iters);
  try {
    const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(segs)], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`westream init: ${init.stderr}`);
    const r = await timed(process.execPath, [westream, 'run', '--config', 'west.cfg', '--api', 'off'], { cwd: dir });
    return { ...r, barrier: barrier(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bullmq(segs = SEGS, iters = ITERS) {
  const redis = await privateRedis();
  const daemons = await workerDaemons(redis.url, 2, redis.dir, 'overhead');
  const dir = fixture(segs, iters);
  try {
    const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(segs)], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`westream init: ${init.stderr}`);
    const w0 = daemons.procs.reduce((a, p) => a + treeCpu(p.pid), 0);
    const r0 = await cpuSeconds(redis.client);
    const r = await timed(process.execPath, [westream, 'run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis.url, '--api', 'off'], {
      cwd: dir,
    });
    const workers = daemons.procs.reduce((a, p) => a + treeCpu(p.pid), 0) - w0;
    const redisCpu = (await cpuSeconds(redis.client)) - r0;
    return { seconds: r.seconds, cpu: r.cpu + workers + redisCpu, parts: { simManager: r.cpu, workers, redis: redisCpu }, barrier: barrier(dir) };
  } finally {
    daemons.kill();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * BullMQ's own CPU floor for the same number of jobs: a bare Queue + Worker (concurrency 2, no-op processor) +
 * QueueEvents (bench/bullmq/floor.mjs) in one process, plus its redis-server's CPU. Any work manager built on
 * BullMQ pays this per segment on top of the spawn floor; the rest of the CPU overhead is westream's own.
 */
async function bullmqFloor() {
  const redis = await privateRedis();
  const dir = mkdtempSync(join(tmpdir(), 'westream-overhead-bullmq-'));
  try {
    const r0 = await cpuSeconds(redis.client);
    const r = await timed(process.execPath, [join(repo, 'bench/bullmq/floor.mjs'), redis.url, String(TOTAL)], { cwd: dir });
    return { seconds: r.seconds, cpu: r.cpu + (await cpuSeconds(redis.client)) - r0, process: r.cpu };
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function wRun(wm) {
  const dir = fixture(SEGS, ITERS);
  const env = { ...process.env, WEST_SIM_ROOT: dir };
  try {
    const init = spawnSync('python3', ['-m', 'westpa.cli.core.w_init', '-r', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', String(SEGS)], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`w_init: ${init.stderr}`);
    const r = await timed('python3', ['-m', 'westpa.cli.core.w_run', '-r', 'west.cfg', '--work-manager', wm, '--n-workers', '2'], { cwd: dir, env });
    return { ...r, barrier: barrier(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (s) => (s * 1000) / TOTAL;

export async function run() {
  const haveWestpa = spawnSync('python3', ['-c', 'import westpa'], { encoding: 'utf8' }).status === 0;
  const redisOk = haveRedis();
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    process.stderr.write(`overhead: round ${i + 1}/${ROUNDS}\n`);
    const f = await floor();
    const l = await local();
    const b = redisOk ? await bullmq() : null;
    const q = redisOk ? await bullmqFloor() : null;
    const f2 = await floor(); // the floor before and after: the machine drifts
    const p = haveWestpa ? await wRun('processes') : null;
    const z = haveWestpa ? await wRun('zmq') : null;
    rounds.push({ f: { seconds: (f.seconds + f2.seconds) / 2, cpu: (f.cpu + f2.cpu) / 2 }, l, b, q, p, z });
    // As it goes: a run on a loaded machine can take long, and what was measured should not wait for the rest.
    process.stderr.write(`overhead: round ${i + 1}: ${JSON.stringify(rounds.at(-1))}\n`);
  }
  if (process.env.SKIP_10K) return rowsOf(rounds, null, null);
  process.stderr.write('overhead: 2 × 10,000 segments\n');
  const l10 = await local(10_000, 2);
  process.stderr.write(`overhead: 10,000 local: ${JSON.stringify(l10)}\n`);
  const b10 = redisOk ? await bullmq(10_000, 2) : null;
  return rowsOf(rounds, l10, b10);
}

function rowsOf(rounds, l10, b10) {
  const pick = (k, f) => (rounds.every((r) => r[k]) ? median(rounds.map((r) => f(r[k], r.f))) : null);
  const over = (x, fl) => ms(x.seconds - fl.seconds);
  const cpuOver = (x, fl) => ms(x.cpu - fl.cpu);
  const lo = pick('l', over);
  const po = pick('p', over);
  const bo = pick('b', over);
  const zo = pick('z', over);
  const bc = pick('b', cpuOver);
  const zc = pick('z', cpuOver);
  const lc = pick('l', cpuOver);
  const qc = rounds.every((r) => r.q) ? median(rounds.map((r) => ms(r.q.cpu))) : null;
  const fl = median(rounds.map((r) => ms(r.f.seconds)));
  const flc = median(rounds.map((r) => ms(r.f.cpu)));
  const r0 = rounds[Math.floor(rounds.length / 2)];
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const note = `${ROUNDS} round(s), load average ${load} at the end (absolute figures swing with the machine's load; the ratios are from the same minutes)`;
  const s = (x) => (x == null ? '–' : x.toFixed(2));
  return [
    {
      name: 'Overhead above the spawn floor per segment, local work manager, 3 × 1,000 no-op segments, 2 slots',
      value: lo,
      unit: 'ms',
      goal: '≤ 0.2 ms',
      peer: 'WESTPA 2022.16 w_run, processes work manager, 2 workers: its overhead above the same floor',
      peerValue: po,
      ratio: lo != null && po != null ? po / lo : null,
      ratioLabel: 'w_run / westream',
      detail: `floor ${s(fl)} ms/segment (${s(flc)} ms CPU); westream local ${s(ms(r0.l.seconds))} ms/segment, CPU overhead ${s(lc)} ms; w_run ${s(r0.p && ms(r0.p.seconds))} ms/segment. ${note}.`,
    },
    {
      name: 'Overhead above the spawn floor per segment, BullMQ, 2 worker daemons × 1 slot, 3 × 1,000 no-op segments',
      value: bo,
      unit: 'ms',
      goal: "≤ 1 ms and ≤ ⅒ of zmq's",
      peer: 'WESTPA 2022.16 w_run, ZeroMQ work manager, 2 workers: its overhead above the same floor',
      peerValue: zo,
      ratio: bo != null && zo != null ? zo / bo : null,
      ratioLabel: 'zmq / westream',
      detail: `westream BullMQ ${s(r0.b && ms(r0.b.seconds))} ms/segment, zmq ${s(r0.z && ms(r0.z.seconds))} ms/segment, floor ${s(fl)}. ${note}.`,
    },
    {
      name: "CPU overhead above the floor's CPU per segment, BullMQ, 2 worker daemons × 1 slot (sim-manager + daemons + launchers + redis-server)",
      value: bc,
      unit: 'ms',
      goal: '≤ 2 ms',
      peer: 'w_run, ZeroMQ work manager, 2 workers (w_run and its workers)',
      peerValue: zc,
      ratio: bc != null && zc != null ? zc / bc : null,
      ratioLabel: 'zmq / westream',
      detail: r0.b
        ? `per segment: sim-manager ${s(ms(r0.b.parts.simManager))} ms, daemons ${s(ms(r0.b.parts.workers))} ms, redis ${s(ms(r0.b.parts.redis))} ms; floor CPU ${s(flc)} ms. BullMQ's own CPU floor (bare Queue + Worker + QueueEvents, ${TOTAL} no-op jobs, its redis-server included) ${s(qc)} ms per job: of the CPU overhead, that much any BullMQ work manager pays, ${bc != null && qc != null ? s(bc - qc) : '–'} ms is westream's own. ${note}.`
        : 'redis-server not installed.',
    },
    {
      name: 'Iteration barrier (last stamp of n → first stamp of n+1), 1,000 segments per iteration, local work manager',
      value: median(rounds.map((r) => r.l.barrier)),
      unit: 's',
      goal: '≤ 0.1 s',
      peer: 'w_run, processes work manager',
      peerValue: pick('p', (x) => x.barrier),
      ratio: rounds.every((r) => r.p) ? median(rounds.map((r) => r.p.barrier)) / median(rounds.map((r) => r.l.barrier)) : null,
      ratioLabel: 'w_run / westream',
      detail: `BullMQ ${s(pick('b', (x) => x.barrier))} s; zmq ${s(pick('z', (x) => x.barrier))} s. ${note}.`,
    },
    ...(l10
      ? [
          {
            name: 'Iteration barrier, 10,000 segments per iteration (2 iterations), local work manager',
            value: l10.barrier,
            unit: 's',
            goal: '≤ 0.5 s',
            peer: 'the same through BullMQ, 2 worker daemons × 1 slot',
            peerValue: b10?.barrier ?? null,
            ratio: b10 ? b10.barrier / l10.barrier : null,
            ratioLabel: 'bullmq / local',
            detail: `run ${l10.seconds.toFixed(1)} s local, ${b10 ? b10.seconds.toFixed(1) : '–'} s BullMQ, for 20,000 segments; w_run not re-run at this size (the issue measured 362 s). ${note}.`,
          },
        ]
      : []),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  for (const r of await run())
    console.log(`${r.name}: ${r.value?.toFixed(3)} ${r.unit} | peer ${r.peerValue?.toFixed(3)} | ${r.ratioLabel} ${r.ratio?.toFixed(2)}\n  ${r.detail}`);
