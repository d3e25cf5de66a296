// The REST API under load during a live run: autocannon at 500 requests/s on /status and on /iterations/:n
// while the run goes on (no-op segments, 200 per iteration, local work manager, 2 slots), in alternating
// rounds with a quiet phase and the floor (a bare node:http server in its own process, same load). Reported:
// the median p99 of each, and the run's mean iteration time under load against the quiet phases. Client,
// run and servers share this machine's 2 cores.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startUntil } from './lib/processes.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const westream = join(repo, 'packages/cli/bin/westream.js');
const PHASE_S = 5;
const ROUNDS = 3;
const RATE = 500;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function load(url, duration = PHASE_S) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 10, overallRate: RATE, duration }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'westream-bench-api-'));
  cpSync(join(repo, 'bench/fixtures/noop'), dir, { recursive: true });
  const cfg = join(dir, 'west.cfg');
  writeFileSync(
    cfg,
    readFileSync(cfg, 'utf8').replace('bin_target_counts: 1000', 'bin_target_counts: 200').replace('max_total_iterations: 3', 'max_total_iterations: 100000'),
  );
  const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', '200'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`init: ${init.stderr}`);
  const child = spawn(process.execPath, [westream, 'run', '--config', 'west.cfg', '--api', '127.0.0.1:0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const iters = []; // [time (ms, this process's clock), walltime (s)]
  let base = null;
  let buf = '';
  child.stdout.on('data', (b) => {
    buf += b;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /REST API on (http:\/\/\S+) /.exec(line);
      if (m) base = m[1];
      if (line.includes('"iteration finished"')) iters.push([performance.now(), JSON.parse(line).walltime]);
    }
  });
  const floorServer = await startUntil(process.execPath, [join(repo, 'bench/api/floor-server.mjs')], /http:\/\/\S+\n/);
  const floorUrl = /http:\/\/\S+/.exec(floorServer.printed)[0];
  try {
    while (base === null || iters.length < 3) await sleep(50);
    // Warm-up (JIT of the servers' and the load generator's paths), not measured: the first seconds of any
    // load measured 3-5x the steady p99 here.
    await load(`${base}/status`, 3);
    await load(`${base}/iterations/2`, 3);
    await load(`${floorUrl}/status`, 3);
    // This machine's speed drifts from minute to minute: ROUNDS alternating rounds of quiet, floor, /status,
    // /iterations/2, and the median of each.
    const rounds = [];
    const timed = async (fn) => {
      const start = performance.now();
      const res = await fn();
      return { res, start, end: performance.now() };
    };
    for (let r = 0; r < ROUNDS; r++) {
      rounds.push({
        quiet: await timed(() => sleep(PHASE_S * 1000)),
        floor: await timed(() => load(`${floorUrl}/status`)),
        status: await timed(() => load(`${base}/status`)),
        iteration: await timed(() => load(`${base}/iterations/2`)),
      });
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const itersIn = (p) => iters.filter(([t]) => t >= p.start && t <= p.end).map(([, w]) => w);
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
    const quiet = mean(rounds.flatMap((r) => itersIn(r.quiet)));
    const floorP99 = median(rounds.map((r) => r.floor.res.latency.p99));
    const row = (name, key) => {
      const p99s = rounds.map((r) => r[key].res.latency.p99);
      const loaded = mean(rounds.flatMap((r) => itersIn(r[key])));
      const all = rounds.map((r) => r[key].res);
      return {
        name,
        value: median(p99s),
        unit: 'ms',
        goal: `p99 ≤ 10 ms at ${RATE} req/s; iteration time unchanged`,
        peer: 'floor: bare node:http server, own process, same load',
        peerValue: floorP99,
        ratio: median(p99s) / floorP99,
        ratioLabel: 'westream / floor (p99)',
        detail: `${name}: median of ${ROUNDS} alternating rounds of ${PHASE_S} s at ${RATE} req/s: p99 ${p99s.join(', ')} ms (floor ${rounds.map((r) => r.floor.res.latency.p99).join(', ')} ms); ${all.reduce((a, x) => a + x.requests.total, 0)} requests, ${all.reduce((a, x) => a + x.non2xx + x.errors, 0)} non-2xx or errors; median latency ${median(all.map((x) => x.latency.p50))} ms; the run's mean iteration time ${loaded.toFixed(3)} s under this load vs ${quiet.toFixed(3)} s in the quiet phases (×${(loaded / quiet).toFixed(2)}; quiet phases ${rounds.map((r) => mean(itersIn(r.quiet)).toFixed(3)).join(', ')} s).`,
      };
    };
    return [row('REST /status during a live run', 'status'), row('REST /iterations/2 during a live run', 'iteration')];
  } finally {
    floorServer.kill('SIGKILL');
    child.kill('SIGINT');
    await new Promise((r) => child.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
