// IMD decode throughput and latency on loopback: 100,000-atom v3 frames with time, energies, box, positions,
// velocities and forces, served by a separate process (bench/imd/serve-frames.mjs) to westream's client and,
// in the same run, to imdclient's IMDClient (PyPI). Throughput counts the frames after the first, from the
// first's arrival to the last's; latency is the wall time from the server writing a frame to the client
// handing it out, with frames paced (20 ms apart) so it is not queueing.
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connectImd } from '../packages/imd/dist/index.js';

const here = fileURLToPath(new URL('./imd/', import.meta.url));
const ATOMS = 100_000;
const FRAMES = 300;
const ROUNDS = 3;
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

async function westream(frames, pace) {
  const { port, child } = await serve(frames, pace);
  const client = await connectImd({ port, expectedAtoms: ATOMS, timeoutMs: 10_000, bufferFrames: 4 });
  let n = 0;
  let t0 = 0;
  const lat = [];
  for await (const f of client) {
    const t = now();
    if (n === 0) t0 = performance.now();
    lat.push(t - f.time);
    n++;
  }
  const seconds = (performance.now() - t0) / 1000;
  child.kill();
  return { frames: n, seconds, lat };
}

/** The floor: the same server's bytes read into one frame-sized buffer and dropped (no parsing, no frames). */
async function rawRead(frames) {
  const { port, child } = await serve(frames, 0);
  const buf = new Uint8Array(FRAME_BYTES);
  let total = 0;
  let t0 = 0;
  await new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', onread: { buffer: buf, callback: (n) => {
      if (t0 === 0) {
        t0 = performance.now();
        s.write(Buffer.from('0000000300000000', 'hex')); // GO
      }
      total += n;
    } } });
    s.once('end', resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  child.kill();
  return total / seconds / 1e6;
}

async function imdclient(frames, pace) {
  if (spawnSync('python3', ['-c', 'import imdclient'], { encoding: 'utf8' }).status !== 0) return null;
  const { port, child } = await serve(frames, pace);
  const r = spawnSync('python3', [`${here}read-imdclient.py`, String(port), String(ATOMS)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  child.kill();
  if (r.status !== 0) throw new Error(`imdclient reader failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { frames: j.frames, seconds: j.seconds, lat: j.latencies_ms };
}

const rate = (r) => (r.frames - 1) / r.seconds;

export async function run() {
  const ours = [];
  const theirs = [];
  const floors = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await westream(FRAMES, 0));
    const p = await imdclient(FRAMES, 0);
    if (p) theirs.push(p);
    floors.push(await rawRead(FRAMES));
  }
  for (const r of [...ours, ...theirs]) if (r.frames !== FRAMES) throw new Error(`a reader got ${r.frames} of ${FRAMES} frames`);
  const fps = median(ours.map(rate));
  const peerFps = theirs.length ? median(theirs.map(rate)) : null;
  const mb = (f) => (f * FRAME_BYTES) / 1e6;
  const paced = await westream(200, 20);
  const pacedPeer = await imdclient(200, 20);
  const latDetail = (r) => `median ${median(r.lat).toFixed(2)} ms, p99 ${pct(r.lat, 99).toFixed(2)} ms`;
  return [
    {
      name: 'IMD v3 decode on loopback, 100,000 atoms (x, v, f): throughput',
      value: mb(fps),
      unit: 'MB/s',
      goal: '≥ 1,000 MB/s and ≥ 3× imdclient',
      peer: 'imdclient 0.2.4 IMDClient (PyPI), same server',
      peerValue: peerFps === null ? null : mb(peerFps),
      ratio: peerFps === null ? null : fps / peerFps,
      ratioLabel: 'westream / imdclient',
      detail: `median of ${ROUNDS} rounds of ${FRAMES} frames of ${(FRAME_BYTES / 1e6).toFixed(2)} MB: westream ${fps.toFixed(0)} frames/s (${ours.map((r) => mb(rate(r)).toFixed(0)).join(', ')} MB/s)` +
        (peerFps === null ? '; imdclient not installed (npm run test:deps).' : `, imdclient ${peerFps.toFixed(0)} frames/s (${theirs.map((r) => mb(rate(r)).toFixed(0)).join(', ')} MB/s).`),
    },
    {
      name: 'IMD v3 decode, 100,000 atoms: throughput against the loopback floor',
      value: mb(fps),
      unit: 'MB/s',
      goal: 'reported: how close to the floor',
      peer: 'floor: the same bytes read into one frame-sized buffer, unparsed',
      peerValue: median(floors),
      ratio: mb(fps) / median(floors),
      ratioLabel: 'westream / floor',
      detail: `raw loopback read ${floors.map((x) => x.toFixed(0)).join(', ')} MB/s: no client can decode faster than this machine's loopback delivers.`,
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
