/**
 * The worked examples as a newcomer meets them: `westream example` lists them and makes a sim root from one,
 * and the commands it prints, run as printed, complete a run. The WESTPA tutorial's west.cfg runs unchanged
 * under westream and, in another copy, under PyPI westpa's w_init/w_run: both records pass the same checks.
 * (The GROMACS, LAMMPS and MDAnalysis examples run in stream-engines.test.ts and stream-trajectory.test.ts,
 * through the same `westream example`.)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { start, survivors } from './support/processes.js';
import { redisForSuite, startWorkerDaemons } from './support/redis.js';
import { exampleSimDir, python, REPO, runPrinted, runPrintedAsync, westream, westreamRun } from './support/sim-dir.js';

describe('westream example', () => {
  it('lists every example with a one-line title', () => {
    const r = westream(tmpdir(), ['example']);
    expect(r.code, r.stderr).toBe(0);
    const names = readdirSync(join(REPO, 'config/examples'));
    for (const n of names) expect(r.stdout).toMatch(new RegExp(`^  ${n} +\\S.{20,}$`, 'm'));
    expect(names).toEqual(expect.arrayContaining(['toy', 'toy-stream', 'gromacs', 'lammps', 'westpa-tutorial']));
  });

  it('refuses an unknown name, a missing directory or a non-empty one (exit 2, nothing copied)', () => {
    const base = mkdtempSync(join(tmpdir(), 'westream-example-'));
    const unknown = westream(base, ['example', 'amber', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no example named 'amber'; there are: .*gromacs.*toy/);
    const noDir = westream(base, ['example', 'toy']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/give the directory to make the sim root in, e\.g\. westream example toy \.\/toy/);
    mkdirSync(join(base, 'full'));
    writeFileSync(join(base, 'full/mine.txt'), 'keep me');
    const full = westream(base, ['example', 'toy', 'full']);
    expect(full.code).toBe(2);
    expect(full.stderr).toMatch(/full is not empty; give a new or empty directory \(nothing was copied\)/);
    expect(readdirSync(join(base, 'full'))).toEqual(['mine.txt']);
    expect(westream(base, ['example', 'toy', 'a', 'b']).stderr).toMatch(/unexpected argument 'b'/);
    const file = westream(base, ['example', 'toy', 'full/mine.txt']);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/mine\.txt is a file; give a new or empty directory/);
    for (const r of [unknown, noDir, full, file]) expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('toy: the printed commands, run as printed, complete a WE run (2 iterations here: a WE step, then walkers that continue)', () => {
    const { dir, commands } = exampleSimDir('toy', (c) => c.replace(/max_total_iterations: \d+/, 'max_total_iterations: 2'));
    expect(commands).toEqual(['westream init --bstates-from bstates.txt --tstates-from tstates.txt --segs-per-state 4', 'westream run']);
    runPrinted(dir, commands);
    expect(existsSync(join(dir, 'westpa_scripts/runseg.sh'))).toBe(true);
    const status = westream(dir, ['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ currentIteration: 3 });
  });
});

const noGmx = skipWithoutPeer('GROMACS (Debian gromacs)', commandMissing('gmx', 'apt-get install gromacs'));
const noWestpa = skipWithoutPeer('WESTPA (PyPI westpa)', pythonModuleMissing('westpa')) || skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const noRedis = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

/** What both records must show, read with h5py as WESTPA's tools read them. */
interface Record {
  current: number;
  istates: [number, number, number, number, number][];
  istatePcoord: number[];
  iters: { shape: number[]; dtype: string; status: number[]; weightSum: number; parents: number[]; first: number[]; last: number[] }[];
}

function record(dir: string): Record {
  return JSON.parse(
    python(
      `import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
out = {'current': int(f.attrs['west_current_iteration']),
       'istates': [[int(r[k]) for k in ('iter_created', 'iter_used', 'basis_state_id', 'istate_type', 'istate_status')] for r in f['ibstates/0/istate_index'][:]],
       'istatePcoord': [float(x) for x in f['ibstates/0/istate_pcoord'][:, 0]], 'iters': []}
for n in range(1, out['current']):
    g = f['iterations/iter_%08d' % n]
    pc = g['pcoord']
    si = g['seg_index'][:]
    out['iters'].append({'shape': list(pc.shape), 'dtype': str(pc.dtype), 'status': [int(x) for x in si['status']],
        'weightSum': float(si['weight'].sum()), 'parents': [int(x) for x in si['parent_id']],
        'first': [float(x) for x in pc[:, 0, 0]], 'last': [float(x) for x in pc[:, -1, 0]]})
print(json.dumps(out))`,
      [join(dir, 'west.h5')],
    ),
  ) as Record;
}

/**
 * The HDF5 framework's files of a tutorial run, through WESTPA's readers: for every segment of iterations 1 and
 * 2, its frames (WESTIterationFile.read_as_traj), the Na-Cl distance mdtraj computes from them against the pcoord
 * west.h5 holds (gmx distance of the same frames, Å), and the restart files restart_writer gives back.
 */
const FRAMEWORK_READ = `
import json, os, sys, tempfile
import h5py, mdtraj, numpy as np
from westpa.core.h5io import WESTIterationFile
from westpa.core.segment import Segment
from westpa.core.propagators.loaders import restart_writer
root = sys.argv[1]
out = []
with h5py.File(os.path.join(root, 'west.h5'), 'r') as w:
    for n in (1, 2):
        pc = w['iterations/iter_%08d' % n]['pcoord'][:, :, 0]
        with WESTIterationFile(os.path.join(root, 'traj_segs', 'iter_%06d.h5' % n), 'r') as f:
            for s in range(pc.shape[0]):
                t = f.read_as_traj(n, s)
                d = mdtraj.compute_distances(t, [[657, 658]], periodic=True)[:, 0] * 10
                seg = Segment(n_iter=n, seg_id=s)
                f.read_restart(seg)
                dd = tempfile.mkdtemp()
                restart_writer(dd, seg)
                out.append({'n': n, 's': s, 'frames': int(t.n_frames), 'atoms': int(t.n_atoms), 'maxdiff': float(np.abs(d - pc[s]).max()), 'restart': sorted(os.listdir(dd))})
print(json.dumps(out))
`;

function expectFrameworkFiles(who: string, dir: string): void {
  const segs = JSON.parse(python(FRAMEWORK_READ, [dir])) as { n: number; s: number; frames: number; atoms: number; maxdiff: number; restart: string[] }[];
  expect(segs.length, who).toBeGreaterThanOrEqual(4);
  for (const g of segs) {
    const at = `${who} iteration ${g.n} segment ${g.s}`;
    expect([g.frames, g.atoms], at).toEqual([51, 659]);
    // gmx distance writes nm to 3 decimals: within half of 0.01 Å of the distance of the same float32 frames
    expect(g.maxdiff, at).toBeLessThan(0.0051);
    expect(g.restart, at).toEqual(['parent.cpt', 'parent.gro']);
  }
}

describe('the WESTPA tutorial west.cfg, unchanged', () => {
  it.skipIf(noGmx || noWestpa)(
    'runs under westream and under w_run: same layout, every segment continues its parent, the logs archived by post_iter.sh',
    async () => {
      const original = readFileSync(join(REPO, 'config/examples/westpa-tutorial/west.cfg'), 'utf8');
      const a = exampleSimDir('westpa-tutorial');
      expect(readFileSync(join(a.dir, 'west.cfg'), 'utf8')).toBe(original);
      const b = exampleSimDir('westpa-tutorial');
      const env = { ...process.env, WEST_SIM_ROOT: b.dir };
      for (const d of ['traj_segs', 'seg_logs', 'istates']) mkdirSync(join(b.dir, d));
      // the two runs share nothing, so they run at once; what is left of westream's is looked for as it ends
      const [left, steps] = await Promise.all([
        runPrintedAsync(a.dir, a.commands).then(() => survivors(a.dir)),
        (async () => {
          const done: { module: string; code: number | string; out: string }[] = [];
          for (const args of [['westpa.cli.core.w_init', '--bstates-from', 'bstates.txt', '--segs-per-state', '2'], ['westpa.cli.core.w_run']]) {
            const p = start('python3', ['-m', ...args], { cwd: b.dir, env });
            done.push({ module: args[0] as string, code: await p.exited, out: p.stdout + p.stderr });
            if (done.at(-1)?.code !== 0) break;
          }
          return done;
        })(),
      ]);
      expect(left).toEqual([]);
      expect(steps.map((s) => s.module)).toEqual(['westpa.cli.core.w_init', 'westpa.cli.core.w_run']);
      for (const s of steps) expect(s.code, `${s.module}: ${s.out}`).toBe(0);

      const ours = record(a.dir);
      const theirs = record(b.dir);
      for (const [who, rec, dir] of [
        ['westream', ours, a.dir],
        ['w_run', theirs, b.dir],
      ] as const) {
        expect(rec.current, who).toBe(3); // max_total_iterations: 2, and the next one prepared
        // gen_istate.sh made each initial state from the basis state, in istates/1/ (created for iteration 1).
        expect(rec.istates, who).toEqual([
          [1, 1, 0, 2, 1],
          [1, 1, 0, 2, 1],
        ]);
        expect(readdirSync(join(dir, 'istates/1')).sort(), who).toEqual(['0', '1']);
        rec.iters.forEach((it, i) => {
          const n = i + 1;
          expect(it.shape.slice(1), `${who} iteration ${n}`).toEqual([51, 1]);
          expect(it.dtype, who).toBe('float32');
          expect(
            it.status.every((s) => s === 2),
            `${who} iteration ${n}: every segment complete`,
          ).toBe(true);
          expect(it.weightSum, who).toBeCloseTo(1, 12);
          // Å, from gmx distance: a plausible Na-Cl distance in a 2 nm box.
          for (const v of [...it.first, ...it.last]) expect(v > 2 && v < 18, `${who} iteration ${n}: ${v} Å`).toBe(true);
          it.parents.forEach((p, s) => {
            // A segment starts where its parent ended (gmx writes nm to 3 decimals: 0.01 Å), or at its istate.
            const start = p >= 0 ? (rec.iters[i - 1]?.last[p] as number) : (rec.istatePcoord[-(p + 1)] as number);
            expect(Math.abs((it.first[s] as number) - start), `${who} iteration ${n} segment ${s}`).toBeLessThan(0.011);
          });
        });
        expect(rec.iters[0]?.shape[0], who).toBe(2);
        // post_iter.sh archived each iteration's logs; none is left loose.
        expect(readdirSync(join(dir, 'seg_logs')).sort(), who).toEqual(['000001.tar.gz', '000002.tar.gz']);
        // WESTPA's HDF5 framework (data_refs.iteration): each segment's trajectory and restart in the iteration files.
        expectFrameworkFiles(who, dir);
      }
    },
    600_000,
  );
});

describe.skipIf(noGmx || noWestpa || noRedis)('the WESTPA tutorial through BullMQ worker daemons', () => {
  const redis = redisForSuite();

  it('the same HDF5-framework files, each restart handed from node to node through the iteration files', async () => {
    await startWorkerDaemons(redis(), ['tutorial-a', 'tutorial-b']);
    const a = exampleSimDir('westpa-tutorial');
    const [init, ...rest] = a.commands;
    expect(rest).toEqual(['westream run']);
    runPrinted(a.dir, [init as string]);
    const r = await westreamRun(a.dir, ['run', '--work-manager', 'bullmq', '--redis', redis().url]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(record(a.dir).current).toBe(3);
    expectFrameworkFiles('westream (BullMQ)', a.dir);
  }, 600_000);
});
