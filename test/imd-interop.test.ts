/**
 * IMD against real peers: the toy engine serving westream's client, imdclient's IMDClient and MDAnalysis;
 * westream's client reading imdclient's own test server, GROMACS 2022 (port 0, read from its log line) and
 * LAMMPS (a fixed port). Every comparison is against what the peer itself wrote or sent.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectImd, type ImdClient, type ImdFrame } from '@westream/imd';
import { afterEach, describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { freePort, reapStarted, start, waitForLine, type Started } from './support/processes.js';
import { REPO, TOY_MD } from './support/sim-dir.js';

const FIXTURES = join(REPO, 'test/fixtures/imd');
const LISTENING = /IMD: Listening for IMD connection on port (\d+)\./;
afterEach(reapStarted);

async function collect(c: ImdClient): Promise<ImdFrame[]> {
  const out: ImdFrame[] = [];
  for await (const f of c) out.push(f);
  return out;
}

/**
 * Element-wise |a − b| ≤ tol (float32 arrays against numbers printed by a peer; tol 0 is equality with
 * −0 = +0, which JSON cannot keep apart). With `period`, differences by whole box lengths do not count
 * (an engine may send another periodic image of an atom than it writes).
 */
function expectClose(a: ArrayLike<number> | undefined, b: readonly number[], tol: number, what: string, period?: number): void {
  expect(a, what).toBeDefined();
  const x = a as ArrayLike<number>;
  expect(x.length, what).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    let d = (x[i] as number) - (b[i] as number);
    if (period) d -= period * Math.round(d / period);
    worst = Math.max(worst, Math.abs(d));
  }
  expect(worst, `${what}: largest difference`).toBeLessThanOrEqual(tol);
}

// ---------------------------------------------------------------------------------------------------------
// The toy engine as an IMD server

const TOY_IN = `system = pair
coefficients = 0 0 1
kT = 2.5
friction = 1
dt = 0.002
steps = 200
stride = 10
box = 3
solvent = 40
`;
const TOY_ATOMS = 42;
const TOY_FRAMES = 21;

interface TrajLine {
  step: number;
  time: number;
  dt: number;
  box: number[];
  positions: number[];
  velocities: number[];
  forces: number[];
  energies: { temperature: number; total: number; potential: number };
}

function toyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-imd-'));
  writeFileSync(join(dir, 'md.in'), TOY_IN);
  const r = spawnSync(process.execPath, [TOY_MD, 'init', '--input', 'md.in', '--pcoord', '0.6', '--out', 'start.rst', '--seed', '3'], { cwd: dir, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

/** Starts `westream-toy-md run` streaming on port 0 (waiting for a client); resolves with the port it printed. */
async function toyEngine(dir: string, version: 2 | 3, extra: string[] = ['--out-traj', 'traj.jsonl']): Promise<{ engine: Started; port: number }> {
  const engine = start(process.execPath, [TOY_MD, 'run', '--input', 'md.in', '--restart', 'start.rst', '--out-restart', 'end.rst', '--out-pcoord', 'pcoord.txt', '--seed', '11', '--imd-port', '0', '--imd-wait', '--imd-version', String(version), ...extra], { cwd: dir });
  const m = await waitForLine(engine, 'stderr', LISTENING);
  return { engine, port: Number(m[1]) };
}

/** A v3 frame (ours or a peer's, as received) equals the trajectory line the engine wrote: every field. */
function expectFullFrame(g: { step?: number; time?: number; dt?: number; box?: ArrayLike<number>; positions?: ArrayLike<number>; velocities?: ArrayLike<number>; forces?: ArrayLike<number> }, t: TrajLine, i: number): void {
  expect(g.step).toBe(t.step);
  expect(g.time).toBe(t.time);
  expect(g.dt).toBe(t.dt);
  for (const k of ['box', 'positions', 'velocities', 'forces'] as const) expectClose(g[k], t[k], 0, `${k} of frame ${i}`);
}

const trajOf = (dir: string): TrajLine[] => readFileSync(join(dir, 'traj.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrajLine);

describe('toy engine → westream client (IMD on port 0, the port read from the log line)', () => {
  for (const version of [3, 2] as const) {
    it(`v${version}: every frame equals the engine's own trajectory, and the segment equals an unstreamed run`, async () => {
      const dir = toyDir();
      const { engine, port } = await toyEngine(dir, version);
      expect(engine.stderr).toContain('IMD: Will wait until I have a connection and IMD_GO orders.');
      const client = await connectImd({ port, expectedAtoms: TOY_ATOMS });
      const frames = await collect(client);
      expect(await engine.exited).toBe(0);
      const traj = trajOf(dir);
      expect(traj).toHaveLength(TOY_FRAMES);
      expect(frames).toHaveLength(TOY_FRAMES);
      frames.forEach((f, i) => {
        const t = traj[i] as TrajLine;
        if (version === 3) expectFullFrame(f, t, i);
        else expectClose(f.positions, t.positions, 0, `positions of frame ${i}`);
        expect(f.energies?.step).toBe(t.step); // v2 carries the step in ENERGIES
        expect(f.energies?.potential).toBe(Math.fround(t.energies.potential));
      });
      // The pcoord rows are the frames' pair separations (Å → nm, minimum image in the 30 Å box).
      const pcoord = readFileSync(join(dir, 'pcoord.txt'), 'utf8').trim().split('\n').map(Number);
      frames.forEach((f, i) => {
        const x = f.positions as Float32Array;
        const d = [0, 1, 2].map((k) => {
          const r = (x[3 + k] as number) - (x[k] as number);
          return r - 30 * Math.round(r / 30);
        });
        expect(Math.hypot(...d) / 10).toBeCloseTo(pcoord[i] as number, 4);
      });
      // Streaming changes nothing: the same segment without IMD ends in the same restart, bit for bit.
      const plain = spawnSync(process.execPath, [TOY_MD, 'run', '--input', 'md.in', '--restart', 'start.rst', '--out-restart', 'plain.rst', '--out-pcoord', 'plain.txt', '--seed', '11'], { cwd: dir, encoding: 'utf8' });
      expect(plain.status, plain.stderr).toBe(0);
      expect(readFileSync(join(dir, 'plain.rst'), 'utf8')).toBe(readFileSync(join(dir, 'end.rst'), 'utf8'));
    });
  }

  it('KILL from the client stops the engine, which says so and writes no restart', async () => {
    const dir = toyDir();
    const { engine, port } = await toyEngine(dir, 3, ['--set', 'steps=10000000']); // far longer than the test
    const client = await connectImd({ port });
    const first = await client.next();
    expect(first.done).toBe(false);
    client.kill();
    await client.close();
    expect(await engine.exited).toBe(3);
    expect(engine.stderr).toMatch(/westream-toy-md: stopped by an IMD KILL at step \d+; no restart written/);
    expect(existsSync(join(dir, 'end.rst'))).toBe(false);
  });

  it('without --imd-wait the engine runs to the end with nobody listening', async () => {
    const dir = toyDir();
    const engine = start(process.execPath, [TOY_MD, 'run', '--input', 'md.in', '--restart', 'start.rst', '--out-restart', 'end.rst', '--out-pcoord', 'pcoord.txt', '--seed', '11', '--imd-port', '0'], { cwd: dir });
    expect(await engine.exited).toBe(0);
    expect(engine.stderr).toMatch(LISTENING);
    expect(readFileSync(join(dir, 'pcoord.txt'), 'utf8').trim().split('\n')).toHaveLength(TOY_FRAMES);
  });
});

describe('toy engine → imdclient IMDClient and MDAnalysis (PyPI)', () => {
  const skip = skipWithoutPeer('imdclient + MDAnalysis (PyPI)', pythonModuleMissing('imdclient') ?? pythonModuleMissing('MDAnalysis'));

  it.skipIf(skip)("imdclient's IMDClient: every frame's step, time, box, positions, velocities, forces equal what the engine wrote", async () => {
    const dir = toyDir();
    const { engine, port } = await toyEngine(dir, 3);
    const reader = start('python3', [join(FIXTURES, 'imdclient_read.py'), String(port), String(TOY_ATOMS)]);
    expect(await reader.exited, reader.stderr).toBe(0);
    expect(await engine.exited).toBe(0);
    const lines = reader.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('EOF');
    const got = lines.slice(0, -1).map((l) => JSON.parse(l) as TrajLine);
    const traj = trajOf(dir);
    expect(got).toHaveLength(TOY_FRAMES);
    got.forEach((g, i) => {
      expectFullFrame(g, traj[i] as TrajLine, i);
    });
  });

  it.skipIf(skip)('MDAnalysis Universe(topology, "imd://…"): frames, steps, times, box and positions', async () => {
    const dir = toyDir();
    const gro = ['toy engine', String(TOY_ATOMS), ...Array.from({ length: TOY_ATOMS }, (_, i) => `${'1'.padStart(5)}${'TOY'.padEnd(5)}${'X'.padStart(5)}${String(i + 1).padStart(5)}${'0.000'.padStart(8).repeat(3)}`), '   3.00000   3.00000   3.00000', ''].join('\n');
    writeFileSync(join(dir, 'toy.gro'), gro);
    const { engine, port } = await toyEngine(dir, 3);
    const reader = start('python3', [join(FIXTURES, 'mdanalysis_read.py'), join(dir, 'toy.gro'), String(port)]);
    expect(await reader.exited, reader.stderr).toBe(0);
    expect(await engine.exited).toBe(0);
    const got = reader.stdout.trim().split('\n').map((l) => JSON.parse(l) as { frame: number; step: number; time: number; dt: number; dimensions: number[]; positions: number[] });
    const traj = trajOf(dir);
    expect(got).toHaveLength(TOY_FRAMES);
    got.forEach((g, i) => {
      const t = traj[i] as TrajLine;
      expect(g.frame).toBe(i);
      expect(g.step).toBe(t.step);
      expect(g.time).toBeCloseTo(t.time, 12);
      expect(g.dimensions.slice(0, 3)).toEqual([t.box[0], t.box[4], t.box[8]]);
      expectClose(g.positions, t.positions, 0, `positions of frame ${i}`);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// westream's client against other servers

describe("westream client ← imdclient's InThreadIMDServer (PyPI imdclient), v3", () => {
  const skip = skipWithoutPeer('imdclient (PyPI)', pythonModuleMissing('imdclient'));
  for (const [endian, name] of [['<', 'little'], ['>', 'big']] as const) {
    it.skipIf(skip)(`${name}-endian: every field of 12 frames of 300 atoms`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'westream-imd-'));
      const expected = join(dir, 'expected.json');
      const server = start('python3', [join(FIXTURES, 'imdclient_server.py'), endian, '12', '300', expected]);
      const port = Number((await waitForLine(server, 'stdout', /PORT (\d+)/))[1]);
      const client = await connectImd({ port, expectedAtoms: 300 });
      expect(client.littleEndian).toBe(endian === '<');
      const frames = await collect(client);
      expect(await server.exited, server.stderr).toBe(0);
      const want = JSON.parse(readFileSync(expected, 'utf8')) as (TrajLine & { energy_base: number })[];
      expect(frames).toHaveLength(12);
      frames.forEach((f, i) => {
        const w = want[i] as TrajLine & { energy_base: number };
        expect(f.step).toBe(w.step);
        expect(f.time).toBe(w.time);
        expect(f.dt).toBe(w.dt);
        expect(f.box).toEqual(Float32Array.from(w.box));
        expect(f.positions).toEqual(Float32Array.from(w.positions));
        expect(f.velocities).toEqual(Float32Array.from(w.velocities));
        expect(f.forces).toEqual(Float32Array.from(w.forces));
        expect(f.energies?.step).toBe(w.energy_base); // the server's dummy energies: i, i+1, …, i+9
        expect(f.energies?.impropers).toBe(w.energy_base + 9);
      });
    });
  }
});

const GMX_MDP = `integrator     = md
nsteps         = 50
dt             = 0.002
nstxout        = 10
nstvout        = 0
nstenergy      = 10
nstcalcenergy  = 10
nstlog         = 0
cutoff-scheme  = Verlet
coulombtype    = PME
rcoulomb       = 0.9
rvdw           = 0.9
tcoupl         = no
pcoupl         = no
gen-vel        = yes
gen-temp       = 300
gen-seed       = 20261121
constraints    = h-bonds
IMD-group      = System
`;

describe('westream client ← GROMACS 2022 (Debian gromacs), IMDv2, -imdport 0', () => {
  const skip = skipWithoutPeer('GROMACS (Debian gromacs)', commandMissing('gmx', 'apt-get install gromacs')) || skipWithoutPeer('MDAnalysis (PyPI)', pythonModuleMissing('MDAnalysis'));

  it.skipIf(skip)("Na+/Cl- in water: streamed positions equal GROMACS's own .trr (nm → Å) at every written step", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-gmx-'));
    writeFileSync(join(dir, 'md.mdp'), GMX_MDP);
    // The energy-minimised system of the GROMACS example (solvating and placing ions afresh, unminimised,
    // sometimes gave overlaps that SETTLE could not handle and mdrun crashed).
    cpSync(join(REPO, 'config/examples/gromacs/bstates/nacl/conf.gro'), join(dir, 'conf.gro'));
    cpSync(join(REPO, 'config/examples/gromacs/topol.top'), join(dir, 'topol.top'));
    const gmx = (args: string[]): void => {
      const r = spawnSync('gmx', ['-quiet', ...args], { cwd: dir, encoding: 'utf8' });
      expect(r.status, `gmx ${args[0]}: ${r.stderr.slice(-2000)}`).toBe(0);
    };
    gmx(['grompp', '-f', 'md.mdp', '-c', 'conf.gro', '-p', 'topol.top', '-o', 'seg.tpr', '-maxwarn', '2']);
    const atoms = Number(readFileSync(join(dir, 'conf.gro'), 'utf8').split('\n')[1]);

    const mdrun = start('gmx', ['-quiet', 'mdrun', '-deffnm', 'seg', '-nt', '1', '-imdwait', '-imdport', '0'], { cwd: dir });
    const port = Number((await waitForLine(mdrun, 'stderr', LISTENING))[1]);
    const client = await connectImd({ port, expectedAtoms: atoms });
    expect(client.version).toBe(2);
    const frames = await collect(client);
    expect(await mdrun.exited, mdrun.stderr.slice(-2000)).toBe(0);
    expect(frames).toHaveLength(51); // nsteps + 1: an IMD frame every step (nstimd starts at 1)

    const dump = spawnSync('python3', [join(FIXTURES, 'trr_dump.py'), join(dir, 'seg.tpr'), join(dir, 'seg.trr')], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(dump.status, dump.stderr).toBe(0);
    const trr = JSON.parse(dump.stdout) as { step: number; positions: number[] }[];
    expect(trr.map((t) => t.step)).toEqual([0, 10, 20, 30, 40, 50]);
    for (const t of trr) {
      // GROMACS 2022 labels the frame holding step s's coordinates with step s + 1 in its ENERGIES packet.
      const f = frames.find((x) => x.energies?.step === t.step + 1);
      // IMD sends each molecule made whole, the .trr has it as integrated: equal up to whole 20 Å box vectors.
      expectClose(f?.positions, t.positions, 2e-4, `positions at step ${t.step}`, 20);
    }
  });
});

const LAMMPS_IN = `units           lj
atom_style      atomic
lattice         fcc 0.8442
region          box block 0 4 0 4 0 4
create_box      1 box
create_atoms    1 box
mass            1 1.0
velocity        all create 1.44 87287 loop geom
pair_style      lj/cut 2.5
pair_coeff      1 1 1.0 1.0 2.5
neighbor        0.3 bin
neigh_modify    every 20 delay 0 check no
fix             1 all nve
fix             2 all imd \${port} trate 1 unwrap off nowait off
dump            1 all custom 10 dump.txt id x y z
dump_modify     1 sort id format float %.9g
thermo          50
run             50
`;

describe('westream client ← LAMMPS (Debian lammps), IMDv2, a fixed port', () => {
  const skip = skipWithoutPeer('LAMMPS (Debian lammps)', commandMissing('lmp', 'apt-get install lammps'));

  it.skipIf(skip)("LJ fluid, 256 atoms: streamed positions equal LAMMPS's dump file (LJ units, no conversion)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-lmp-'));
    writeFileSync(join(dir, 'in.lj'), LAMMPS_IN);
    const port = await freePort(); // LAMMPS refuses ports below 1024, so port 0 is impossible: the worker picks one
    const lmp = start('lmp', ['-in', 'in.lj', '-var', 'port', String(port), '-log', 'lmp.log'], { cwd: dir });
    const client = await connectImd({ port, expectedAtoms: 256, timeoutMs: 15_000 });
    expect(client.version).toBe(2);
    const frames = await collect(client);
    expect(await lmp.exited, lmp.stdout.slice(-2000)).toBe(0);
    expect(frames).toHaveLength(50); // one per step after the first (trate 1)

    const blocks = readFileSync(join(dir, 'dump.txt'), 'utf8').split('ITEM: TIMESTEP\n').slice(1);
    expect(blocks).toHaveLength(6);
    for (const b of blocks) {
      const lines = b.trim().split('\n');
      const step = Number(lines[0]);
      if (step === 0) continue; // LAMMPS streams after each step: step s is frame s − 1
      const xyz = lines.slice(8).flatMap((l) => l.trim().split(/\s+/).slice(1).map(Number));
      expectClose(frames[step - 1]?.positions, xyz, 1e-5, `positions at step ${step}`);
    }
  });
});
