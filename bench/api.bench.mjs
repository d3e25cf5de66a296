// The REST API under load during a live run: autocannon at 500 requests/s on /status, then on
// /iterations/:n, while the run goes on (no-op segments, 200 per iteration, local work manager, 2 slots).
// Reported: p99 latency of each beside the floor (a bare node:http server in its own process, same load), and
// the run's mean iteration time under load against the quiet phases before and after (same run). Client,
// run and server share this machine's 2 cores.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startUntil } from './lib/processes.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const westream = join(repo, 'packages/cli/bin/westream.js');
const PHASE_S = 10;
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
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('bin_target_counts: 1000', 'bin_target_counts: 200').replace('max_total_iterations: 3', 'max_total_iterations: 100000'));
  const init = spawnSync(process.execPath, [westream, 'init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', '200'], { cwd: dir, encoding: 'utf8' });
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
  try {
    while (base === null || iters.length < 3) await sleep(50);
    // Warm-up (JIT of the server's and the load generator's paths), not measured: the first seconds of any
    // load measured 3-5x the steady p99 here.
    await load(`${base}/status`, 3);
    await load(`${base}/iterations/2`, 3);
    const phases = {};
    const mark = (name) => (phases[name] = { start: performance.now() });
    const end = (name) => (phases[name].end = performance.now());
    mark('quiet1');
    await sleep(PHASE_S * 1000);
    end('quiet1');
    mark('status');
    const st = await load(`${base}/status`);
    end('status');
    mark('iteration');
    const it = await load(`${base}/iterations/2`);
    end('iteration');
    mark('quiet2');
    await sleep(PHASE_S * 1000);
    end('quiet2');
    const floorServer = await startUntil(process.execPath, [join(repo, 'bench/api/floor-server.mjs')], /http:\/\/\S+\n/);
    const floorUrl = /http:\/\/\S+/.exec(floorServer.printed)[0];
    const floor = await load(`${floorUrl}/status`);
    floorServer.kill('SIGKILL');
    const meanIn = (p) => {
      const xs = iters.filter(([t]) => t >= p.start && t <= p.end).map(([, w]) => w);
      return { mean: xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1), n: xs.length };
    };
    const q1 = meanIn(phases.quiet1);
    const q2 = meanIn(phases.quiet2);
    const quiet = (q1.mean * q1.n + q2.mean * q2.n) / Math.max(q1.n + q2.n, 1);
    const ls = meanIn(phases.status);
    const li = meanIn(phases.iteration);
    const row = (name, res, loaded) => ({
      name,
      value: res.latency.p99,
      unit: 'ms',
      goal: `p99 ≤ 10 ms at ${RATE} req/s; iteration time unchanged`,
      peer: 'floor: bare node:http server, own process, same load',
      peerValue: floor.latency.p99,
      ratio: res.latency.p99 / floor.latency.p99,
      ratioLabel: 'westream / floor (p99)',
      detail: `${name}: ${res.requests.total} requests in ${PHASE_S} s (${res.requests.average.toFixed(0)}/s), ${res.non2xx} non-2xx, ${res.errors} errors; latency median ${res.latency.p50} ms, p99 ${res.latency.p99} ms, max ${res.latency.max} ms; iteration time ${loaded.mean.toFixed(3)} s under load (${loaded.n} iterations) vs ${quiet.toFixed(3)} s quiet (${q1.mean.toFixed(3)} s over ${q1.n} before, ${q2.mean.toFixed(3)} s over ${q2.n} after): ×${(loaded.mean / quiet).toFixed(2)}; floor p50 ${floor.latency.p50} ms, p99 ${floor.latency.p99} ms (measured while the run went on).`,
    });
    return [row('REST /status during a live run', st, ls), row('REST /iterations/2 during a live run', it, li)];
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
