// IMD decode throughput and latency on loopback: 100,000-atom v3 frames with time, energies, box, positions,
// velocities and forces, served by a separate process (bench/imd/serve-frames.mjs) to westream's client (a
// consumer that releases each frame when done, and one that keeps every frame), to imdclient's IMDClient
// (PyPI), and to the floor: the same bytes read raw into one frame-sized buffer, each at its place (and, for
// comparison, the read-and-drop floor used before: every read into the buffer's start). The five take turns, round after round,
// in a rotating order, so that the load of this shared machine falls on all alike; each ratio is the median
// of the ratios within a round. Throughput counts the frames after the first, from the first's arrival to the
// last's; latency is the wall time from the server writing a frame to the client handing it out, with frames
// paced (20 ms apart) so it is not queueing.
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connectImd } from '../packages/imd/dist/index.js';

const here = fileURLToPath(new URL('./imd/', import.meta.url));
const ATOMS = 100_000;
const FRAMES = 300;
const ROUNDS = 7;
const FRAME_BYTES = 8 + 24 + 8 + 40 + 8 + 36 + 3 * (8 + 12 * ATOMS);
const now = () => performance.timeOrigin + performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function serve(frames, pace) {
  const child = spawn(process.execPath, [`${here}serve-frames.mjs`, String(frames), String(ATOMS), String(pace)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
}

/** westream's client; `release`: the consumer gives each frame back when done (ImdClient.release), else keeps it. */
async function westream(frames, pace, release = true) {
  const { port, child } = await serve(frames, pace);
  const client = await connectImd({ port, expectedAtoms: ATOMS, timeoutMs: 10_000, bufferFrames: 4 });
  let n = 0;
  let t0 = 0;
  let touched = 0;
  let cpu0 = 0;
  const lat = [];
  for await (const f of client) {
    const t = now();
    if (n === 0) {
      t0 = performance.now();
      cpu0 = cpuMs();
    }
    lat.push(t - f.time);
    touched += f.positions[0] + f.forces[3 * ATOMS - 1]; // the consumer reads the frame
    if (release) client.release(f);
    n++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (cpuMs() - cpu0) / (n - 1);
  child.kill();
  if (!Number.isFinite(touched)) throw new Error('frames held non-finite values');
  return { frames: n, seconds, lat, reused: client.reusedBuffers, cpu };
}

/**
 * The floor: the same server's bytes read raw into one frame-sized buffer, unparsed, each byte at its place in
 * the frame (the read goes where the frame's next bytes belong, wrapping at the frame's end): what any decoder
 * pays to have a whole frame in memory. `drop`: every read into the start of that buffer instead, so reads keep
 * rewriting its first few hundred kB, which stay in the CPU's cache: cheaper than landing 3.6 MB per frame, and
 * the floor this bench used before 2026-12-04 (reported beside it).
 */
async function rawRead(frames, drop = false) {
  const { port, child } = await serve(frames, 0);
  const buf = new Uint8Array(FRAME_BYTES);
  const place = () => buf.subarray(total % FRAME_BYTES);
  let total = 0;
  let t0 = 0;
  let cpu0 = 0;
  await new Promise((resolve) => {
    const s = connect({
      port,
      host: '127.0.0.1',
      onread: {
        buffer: drop ? buf : place,
        callback: (n) => {
          if (t0 === 0) {
            t0 = performance.now();
            cpu0 = cpuMs();
            s.write(Buffer.from('0000000300000000', 'hex')); // GO
          }
          total += n;
        },
      },
    });
    s.once('end', resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (cpuMs() - cpu0) / frames;
  child.kill();
  return { mbps: total / seconds / 1e6, cpu };
}

async function imdclient(frames, pace) {
  if (spawnSync('python3', ['-c', 'import imdclient'], { encoding: 'utf8' }).status !== 0) return null;
  const { port, child } = await serve(frames, pace);
  const r = spawnSync('python3', [`${here}read-imdclient.py`, String(port), String(ATOMS)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  child.kill();
  if (r.status !== 0) throw new Error(`imdclient reader failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { frames: j.frames, seconds: j.seconds, lat: j.latencies_ms, cpu: j.cpu_ms / (j.frames - 1) };
}

const rate = (r) => (r.frames - 1) / r.seconds;
/** CPU time of this process (user + system, all threads), ms: the reader's own cost, which the load of the
 * machine delays but does not change (wall-clock rates swing with it). */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function run() {
  const readers = {
    released: () => westream(FRAMES, 0, true),
    kept: () => westream(FRAMES, 0, false),
    imdclient: () => imdclient(FRAMES, 0),
    floor: () => rawRead(FRAMES),
    drop: () => rawRead(FRAMES, true),
  };
  const names = Object.keys(readers);
  const rounds = [];
  // One warm-up round first, not counted: every reader's code compiled (the JIT's first round is slower for
  // westream's parser, not for the floor's three-line callback) and the server's frames built.
  for (const name of names) await readers[name]();
  for (let i = 0; i < ROUNDS; i++) {
    const round = {};
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]; // rotate who goes first
      round[name] = await readers[name]();
    }
    for (const name of ['released', 'kept', 'imdclient']) {
      const r = round[name];
      if (r === null) continue;
      if (r.frames !== FRAMES) throw new Error(`${name} got ${r.frames} of ${FRAMES} frames`);
      r.mbps = (rate(r) * FRAME_BYTES) / 1e6;
    }
    rounds.push(round);
  }
  const mbps = (name) => median(rounds.map((r) => r[name].mbps));
  const within = (a, b) => median(rounds.map((r) => r[a].mbps / r[b].mbps));
  const list = (name) => rounds.map((r) => r[name].mbps.toFixed(0)).join(', ');
  const hasPeer = rounds[0].imdclient !== null;
  const reuse = rounds[0].released.reused;
  const paced = await westream(200, 20);
  const pacedPeer = await imdclient(200, 20);
  const latDetail = (r) => `median ${median(r.lat).toFixed(2)} ms, p99 ${pct(r.lat, 99).toFixed(2)} ms`;
  const perRound = (a, b) => rounds.map((r) => (r[a].mbps / r[b].mbps).toFixed(2)).join(', ');
  const cpu = (name) => median(rounds.map((r) => r[name].cpu));
  const cpuWithin = (a, b) => median(rounds.map((r) => r[b].cpu / r[a].cpu));
  const cpuList = (name) => rounds.map((r) => r[name].cpu.toFixed(2)).join(', ');
  return [
    {
      name: 'IMD v3 decode, 100,000 atoms (x, v, f), consumer releases frames: throughput against the loopback raw-read floor',
      value: mbps('released'),
      unit: 'MB/s',
      goal: '≥ 0.95× the floor (same run)',
      peer: "floor: the same server's bytes read raw into one frame-sized buffer, unparsed, each at its place in the frame",
      peerValue: mbps('floor'),
      ratio: within('released', 'floor'),
      ratioLabel: 'westream / floor (median of per-round ratios)',
      detail: `${ROUNDS} rounds of ${FRAMES} frames of ${(FRAME_BYTES / 1e6).toFixed(2)} MB, the five readers in rotating order each round, after one uncounted warm-up round; per-round ratios ${perRound('released', 'floor')}. MB/s: westream releasing ${list('released')}; floor ${list('floor')}; the read-and-drop floor (every read into the buffer's first bytes, which stay in cache: the floor before 2026-12-04) ${list('drop')}, westream / it ${within('released', 'drop').toFixed(2)} (per round ${perRound('released', 'drop')}). ${reuse} of ${FRAMES} frames' memory was recycled in round 1. Absolute MB/s swing with the load of this shared machine; ratios are within a round.`,
    },
    {
      name: 'IMD v3 decode, 100,000 atoms (x, v, f), consumer releases frames: CPU time per frame against the floor',
      value: cpu('released'),
      unit: 'ms',
      goal: 'floor / westream ≥ 0.95',
      peer: 'floor: the raw read, CPU time of the same process (user + system), same rounds',
      peerValue: cpu('floor'),
      ratio: cpuWithin('released', 'floor'),
      ratioLabel: 'floor CPU / westream CPU (median of per-round ratios)',
      detail: `CPU ms per frame, westream releasing ${cpuList('released')}; keeping ${cpuList('kept')}; floor ${cpuList('floor')}; read-and-drop floor ${cpuList('drop')} (floor CPU / westream CPU against it ${cpuWithin('released', 'drop').toFixed(2)}). CPU time is the reader's own cost, which the machine's load delays but does not change.`,
    },
    {
      name: 'IMD v3 decode, 100,000 atoms (x, v, f), consumer keeps every frame (the default): throughput against the floor',
      value: mbps('kept'),
      unit: 'MB/s',
      goal: 'reported: the cost of fresh memory per frame',
      peer: 'floor (same rounds)',
      peerValue: mbps('floor'),
      ratio: within('kept', 'floor'),
      ratioLabel: 'westream / floor (median of per-round ratios)',
      detail: `per-round ratios ${perRound('kept', 'floor')}; MB/s ${list('kept')}.`,
    },
    {
      name: 'IMD v3 decode, 100,000 atoms (x, v, f), consumer releases frames: against imdclient',
      value: mbps('released'),
      unit: 'MB/s',
      goal: '≥ imdclient',
      peer: 'imdclient 0.2.4 IMDClient (PyPI), same server, same rounds',
      peerValue: hasPeer ? mbps('imdclient') : null,
      ratio: hasPeer ? within('released', 'imdclient') : null,
      ratioLabel: 'westream / imdclient (median of per-round ratios)',
      detail: hasPeer
        ? `per-round ratios ${perRound('released', 'imdclient')}; imdclient MB/s ${list('imdclient')}; CPU ms per frame imdclient ${cpuList('imdclient')} (floor CPU / imdclient CPU ${cpuWithin('imdclient', 'floor').toFixed(2)}).`
        : 'imdclient not installed (npm run test:deps).',
    },
    {
      name: 'IMD v3 latency, server write → iterator yields, 100,000-atom frames every 20 ms',
      value: median(paced.lat),
      unit: 'ms',
      goal: 'reported (median, p99)',
      peer: 'imdclient 0.2.4 get_imdframe()',
      peerValue: pacedPeer === null ? null : median(pacedPeer.lat),
      ratio: pacedPeer === null ? null : median(pacedPeer.lat) / median(paced.lat),
      ratioLabel: 'imdclient / westream',
      detail: `200 paced frames: westream ${latDetail(paced)}${pacedPeer === null ? '' : `; imdclient ${latDetail(pacedPeer)}`}.`,
    },
  ];
}
