/**
 * The GROMACS and LAMMPS examples (`westream example gromacs|lammps`: config/examples/NAME with
 * westpa-scripts/NAME) run for real, by the commands they print. GROMACS:
 * mdrun with -imdwait -imdport 0 in every segment, the port read from its log, the Na–Cl distance from the
 * IMD stream, equal to `gmx distance` on GROMACS's own trajectory. LAMMPS: a reserved port passed in
 * $WEST_STREAM_PORT, distances equal to its own dump.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { survivors } from './support/processes.js';
import { exampleSimDir, pcoordsOf, runPrinted } from './support/sim-dir.js';

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

const skip = skipWithoutPeer('GROMACS (Debian gromacs)', commandMissing('gmx', 'apt-get install gromacs')) || skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

describe('stream_trajectory with GROMACS 2022: Na+/Cl- in water, pcoord from the IMD stream', () => {
  it.skipIf(skip)('3 iterations × 4 segments; every distance equals gmx distance on the engine\'s own .trr', () => {
    // One bin, so every iteration has exactly 4 segments.
    const dir = runExample('gromacs', (c) => c.replace("[0.0, 0.4, 0.6, 0.8, 1.0, 1.2, 'inf']", "[0.0, 'inf']"));

    const h5 = pcoordsOf(dir);
    let compared = 0;
    for (const n of [1, 2, 3]) {
      const segs = h5[String(n)] as number[][][];
      expect(segs).toHaveLength(4);
      segs.forEach((rows, seg) => {
        const segDir = join(dir, 'traj_segs', String(n).padStart(6, '0'), String(seg).padStart(6, '0'));
        expect(readFileSync(join(dir, 'seg_logs', `${String(n).padStart(6, '0')}-${String(seg).padStart(6, '0')}.log`), 'utf8')).toMatch(/IMD: Listening for IMD connection on port \d+\./);
        // Atoms 658 and 659 (1-based) are Na and Cl; gmx distance uses the minimum image, as the builtin does.
        const r = spawnSync('gmx', ['-quiet', 'distance', '-s', 'seg.tpr', '-f', 'seg.trr', '-select', 'atomnr 658 plus atomnr 659', '-oall', 'dist.xvg'], { cwd: segDir, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const gmx = readFileSync(join(segDir, 'dist.xvg'), 'utf8').split('\n').filter((l) => l.trim() && !/^[#@]/.test(l)).map((l) => Number(l.trim().split(/\s+/)[1]));
        expect(gmx).toHaveLength(6);
        // gmx distance prints three decimals: equal within that rounding (and float32).
        rows.forEach((row, i) => expect(Math.abs((row[0] as number) - (gmx[i] as number)), `iteration ${n} segment ${seg} point ${i}`).toBeLessThanOrEqual(5.1e-4));
        compared++;
      });
    }
    expect(compared).toBe(12);
    // The walkers really moved apart: not one constant.
    expect(new Set((h5['3'] as number[][][]).map((rows) => rows.at(-1)?.[0])).size).toBeGreaterThan(1);
  }, 300_000);
});

describe('stream_trajectory with LAMMPS (Debian lammps): port_discovery reserve', () => {
  const noLmp = skipWithoutPeer('LAMMPS (Debian lammps)', commandMissing('lmp', 'apt-get install lammps')) || skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

  it.skipIf(noLmp)("LJ fluid, 2 iterations: the port reaches LAMMPS in $WEST_STREAM_PORT; distances equal LAMMPS's own dump", () => {
    const dir = runExample('lammps');
    const h5 = pcoordsOf(dir);
    let compared = 0;
    for (const n of [1, 2]) {
      (h5[String(n)] as number[][][]).forEach((rows, seg) => {
        const segDir = join(dir, 'traj_segs', String(n).padStart(6, '0'), String(seg).padStart(6, '0'));
        const port = readFileSync(join(dir, 'seg_logs', `${String(n).padStart(6, '0')}-${String(seg).padStart(6, '0')}.log`), 'utf8').match(/Waiting for IMD connection on port (\d+)\./)?.[1];
        expect(readFileSync(join(dir, 'seg_logs', `${String(n).padStart(6, '0')}-${String(seg).padStart(6, '0')}_analysis.log`), 'utf8')).toContain(`127.0.0.1:${port}:`);
        // dump.txt: the segment's steps 0, 10, …, 50; LAMMPS streams 10 … 50.
        const blocks = readFileSync(join(segDir, 'dump.txt'), 'utf8').split('ITEM: TIMESTEP\n').slice(2);
        expect(blocks).toHaveLength(5);
        blocks.forEach((b, i) => {
          const lines = b.trim().split('\n');
          const L = Number(lines[4]?.split(' ')[1]) - Number(lines[4]?.split(' ')[0]);
          const atom = (k: number): number[] => (lines[8 + k] as string).trim().split(/\s+/).slice(1).map(Number);
          const d = [0, 1, 2].map((c) => {
            const v = (atom(1)[c] as number) - (atom(0)[c] as number);
            return v - L * Math.round(v / L);
          });
          expect((rows[i] as number[])[0], `iteration ${n} segment ${seg} point ${i}`).toBeCloseTo(Math.hypot(...d), 5);
        });
        compared++;
      });
    }
    expect(compared).toBeGreaterThanOrEqual(4);
    const last = (h5['2'] as number[][][]).map((rows) => rows.at(-1)?.[0]);
    expect(new Set(last).size).toBe(last.length); // split walkers diverge: per-segment Langevin seeds
  }, 300_000);
});
