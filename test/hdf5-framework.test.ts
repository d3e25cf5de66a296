/**
 * WESTPA's HDF5 framework (`data_refs.iteration`) with the executable propagator, as WESTPA's NaCl tutorial
 * uses it: runseg.sh puts its restart files, renamed `parent.*`, in WEST_RESTART_RETURN and its log in
 * WEST_LOG_RETURN; the child finds `parent.*` in its own directory, extracted from the parent's iteration
 * file before it starts (the script never looks in its parent's directory, and `set -e` fails it if the file
 * is missing). WESTPA's own readers open the iteration files: `read_restart` + `restart_writer` give back
 * each segment's files, whose values are the pcoords west.h5 holds. Locally and through BullMQ daemons.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { redisForSuite, startWorkerDaemons } from './support/redis.js';
import { frameworkSimRoot, RUNSEG } from './support/hdf5-framework.js';
import { python, REPO, script, streamSimDir, westream, westreamRun } from './support/sim-dir.js';

const noPeers = skipWithoutPeer('python westpa + h5py', pythonModuleMissing('westpa') ?? pythonModuleMissing('h5py'));
const noRedis = noPeers || skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

const ITERS = 3;
const simRoot = (): string => frameworkSimRoot({ iterations: ITERS });

interface Iteration {
  parents: number[];
  pcoord: number[][];
  na: number[][];
  atoms: string[];
  last: number[];
  restarts: Record<string, string>[];
  logs: string[];
}

/** Per iteration: parents and last pcoords from west.h5, and each segment's restart and log as WESTPA reads them. */
const READ = `
import io, json, os, sys, tarfile, tempfile, h5py
from westpa.core.h5io import WESTIterationFile
from westpa.core.segment import Segment
from westpa.core.propagators.loaders import restart_writer
root, iters = sys.argv[1], int(sys.argv[2])
out = []
with h5py.File(os.path.join(root, 'west.h5'), 'r') as w:
    for n in range(1, iters + 1):
        g = w['iterations/iter_%08d' % n]
        it = {'parents': g['seg_index']['parent_id'].tolist(), 'last': g['pcoord'][:, -1, 0].astype(float).tolist(), 'pcoord': g['pcoord'][:, :, 0].astype(float).tolist(), 'na': [], 'restarts': [], 'logs': []}
        path = os.path.join(root, 'traj_segs', 'iter_%06d.h5' % n)
        with WESTIterationFile(path, 'r') as f:
            for seg_id in range(len(it['parents'])):
                t = f.read_as_traj(n, seg_id)
                it['na'].append(t.xyz[:, 0, 0].astype(float).tolist())
                it['atoms'] = [a.name for a in t.topology.atoms]
                seg = Segment(n_iter=n, seg_id=seg_id)
                f.read_restart(seg)
                d = tempfile.mkdtemp()
                restart_writer(d, seg)
                it['restarts'].append({name: open(os.path.join(d, name)).read() for name in sorted(os.listdir(d))})
        with h5py.File(path, 'r') as f:
            for seg_id in range(len(it['parents'])):
                raw = bytes(f['log/%d_%d/data' % (n, seg_id)][...])
                with tarfile.open(fileobj=io.BytesIO(raw[:-1]), mode='r:gz') as t:
                    it['logs'].append(t.extractfile('seg.log').read().decode())
        out.append(it)
# westpa.analysis: iteration -> walker -> trajectory, through west.h5's external link; with the initial point
# (the parent's last frame) for a walker of the last iteration.
from westpa.analysis import HDF5MDTrajectory, Run
run = Run.open(os.path.join(root, 'west.h5'))
walker = run.iteration(iters).walker(0)
t = HDF5MDTrajectory()(walker, include_initpoint=True)
print(json.dumps({'iterations': out, 'analysis': {'na': t.xyz[:, 0, 0].astype(float).tolist(), 'parent': int(walker.parent.index)}}))
`;

function expectFramework(root: string): void {
  const read = JSON.parse(python(READ, [root, String(ITERS)])) as { iterations: Iteration[]; analysis: { na: number[]; parent: number } };
  const its = read.iterations;
  const last = its[ITERS - 1] as Iteration;
  const parentLast = ((its[ITERS - 2] as Iteration).na[read.analysis.parent] as number[]).at(-1) as number;
  expect(read.analysis.na.map((x) => x.toFixed(5))).toEqual([parentLast, ...(last.na[0] as number[])].map((x) => x.toFixed(5)));
  expect(its).toHaveLength(ITERS);
  its.forEach((it, k) => {
    const n = k + 1;
    expect(it.atoms).toEqual(['NA', 'CL']);
    it.restarts.forEach((files, s) => {
      // The frames WESTPA's read_as_traj gives back are the engine's: the walk, frame for frame (XYZ: 1e-4 Å).
      expect(it.na[s]).toHaveLength(5);
      (it.na[s] as number[]).forEach((x, f) => expect(x).toBeCloseTo((it.pcoord[s] as number[])[f] as number, 4));
      expect(Object.keys(files)).toEqual(['parent.history', 'parent.last']);
      expect(Number(files['parent.last'])).toBeCloseTo(it.last[s] as number, 5);
      // The lineage, carried only through restart files: one line per ancestor, this segment last.
      const history = (files['parent.history'] as string).trim().split('\n');
      expect(history).toHaveLength(n);
      expect(history.at(-1)).toBe(`${n}:${s}`);
      if (n > 1) {
        const parent = it.parents[s] as number;
        expect(history.at(-2)).toBe(`${n - 1}:${parent}`);
        expect(history.slice(0, -1).join('\n')).toBe(((its[k - 1] as Iteration).restarts[parent]?.['parent.history'] as string).trim());
      }
      expect(it.logs[s]).toBe(`engine log of segment ${s}, iteration ${n}\n`);
    });
  });
}

describe.skipIf(noPeers)("WESTPA's HDF5 framework, local work manager", () => {
  it("restores each child's parent restart from the iteration file, stores restarts and logs WESTPA's readers read", () => {
    const root = simRoot();
    const r = westream(root, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expectFramework(root);
    // westream truncate keeps the iterations' external links (it used to copy each link's target as an empty
    // group: WESTPA's readers then found no trajectories); the run then redoes iteration 3 through them.
    const t = westream(root, ['truncate', '--config', 'west.cfg', '-n', String(ITERS)]);
    expect(t.code, t.stderr + t.stdout).toBe(0);
    const links = python(
      "import h5py,json,sys\nw=h5py.File(sys.argv[1],'r')\nprint(json.dumps([[type(l).__name__, getattr(l, 'filename', None)] for l in (w['iterations/iter_%08d' % n].get('trajectories', getlink=True) for n in range(1, int(sys.argv[2])))]))",
      [join(root, 'west.h5'), String(ITERS)],
    );
    expect(JSON.parse(links)).toEqual([...Array(ITERS - 1).keys()].map((k) => ['ExternalLink', `traj_segs/iter_${String(k + 1).padStart(6, '0')}.h5`]));
    const again = westream(root, ['run', '--config', 'west.cfg']);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expectFramework(root);
  }, 300_000);

  it('a child whose parent left no restart fails, naming itself, and the committed iterations stay', () => {
    const root = simRoot();
    // Iteration 2's segment 1 writes no restart files: its children in iteration 3 find no parent.last.
    script(
      root,
      'runseg.sh',
      RUNSEG.replace(
        'tail -n 1 pcoord.txt > "$WEST_RESTART_RETURN/parent.last"',
        'if [ "$WEST_CURRENT_ITER:$WEST_CURRENT_SEG_ID" != 2:1 ]; then tail -n 1 pcoord.txt > "$WEST_RESTART_RETURN/parent.last"; fi',
      ),
    );
    const r = westream(root, ['run', '--config', 'west.cfg']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/segment \d+ of iteration 3( \(attempt \d+\))?: .*exited with status 1/);
    expect(r.stderr).toMatch(/parent\.last: No such file/);
    const done = python("import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs['west_current_iteration'])", [join(root, 'west.h5')]).trim();
    expect(Number(done)).toBe(3);
  }, 300_000);
});

// Iteration 0: the basis states' get_pcoord returns restart files too (WESTPA's get_pcoord sets up the
// returns for them), init stores them in iter_000000.h5, and every walker that starts from a basis state — in
// iteration 1 and recycled later — finds them in its directory. This runseg.sh reads `parent.*` only from its
// own directory whatever its initpoint, so `set -e` fails any segment that was not given them.
const BASIS_GET_PCOORD = `set -euo pipefail
cat "$WEST_STRUCT_DATA_REF" > "$WEST_PCOORD_RETURN"
cat "$WEST_STRUCT_DATA_REF" > "$WEST_RESTART_RETURN/parent.last"
echo "basis $WEST_BSTATE_ID" > "$WEST_RESTART_RETURN/parent.history"
echo "get_pcoord log of basis state $WEST_BSTATE_ID" > "$WEST_LOG_RETURN"
# Its structure as a trajectory too (WESTPA's get_pcoord returns one for a basis state): two frames, the Na
# ion at 0 and at 0.123 nm (XYZ is in Å), for iteration 0's file.
printf 'NaCl\\n    2\\n    1NA      NA    1   0.000   0.000   0.000\\n    2CL      CL    2   0.500   0.000   0.000\\n   3.00000   3.00000   3.00000\\n' > "$WEST_TRAJECTORY_RETURN/nacl.gro"
printf '2\\nbasis\\nNa 0.0 0.0 0.0\\nCl 5.0 0.0 0.0\\n2\\nbasis\\nNa 1.23 0.0 0.0\\nCl 5.0 0.0 0.0\\n' > "$WEST_TRAJECTORY_RETURN/basis.xyz"`;
// The framework's runseg.sh, but parent.* from its own directory whatever its initpoint.
const BASIS_RUNSEG = RUNSEG.replace(/^if \[ "\$WEST_CURRENT_SEG_INITPOINT_TYPE"[\s\S]*?^fi$/m, 'x0=$(cat parent.last)\ncat parent.history > history');
const BASIS_ITERS = 4;
const BASIS_READ = `
import json, os, sys, tempfile, h5py
from westpa.core.h5io import WESTIterationFile
from westpa.core.segment import Segment
from westpa.core.propagators.loaders import restart_writer
import io, tarfile
root, iters = sys.argv[1], int(sys.argv[2])
def restart(n, seg_id):
    with WESTIterationFile(os.path.join(root, 'traj_segs', 'iter_%06d.h5' % n), 'r') as f:
        seg = Segment(n_iter=n, seg_id=seg_id)
        f.read_restart(seg)
        d = tempfile.mkdtemp()
        restart_writer(d, seg)
        return {name: open(os.path.join(d, name)).read() for name in sorted(os.listdir(d))}
with h5py.File(os.path.join(root, 'traj_segs', 'iter_000000.h5'), 'r') as f:
    raw = bytes(f['log/0_0/data'][...])
    with tarfile.open(fileobj=io.BytesIO(raw[:-1]), mode='r:gz') as t:
        log0 = t.extractfile('seg.log').read().decode()
with WESTIterationFile(os.path.join(root, 'traj_segs', 'iter_000000.h5'), 'r') as f:
    t0 = f.read_as_traj(0, 0)
out = {'basis': restart(0, 0), 'log': log0, 'basisFrames': t0.xyz[:, 0, 0].astype(float).tolist(), 'basisAtoms': [a.name for a in t0.topology.atoms], 'iterations': []}
with h5py.File(os.path.join(root, 'west.h5'), 'r') as w:
    g = w['iterations/iter_00000000']
    out['iteration0'] = {'weight': g['seg_index']['weight'].tolist(), 'parent': g['seg_index']['parent_id'].tolist(), 'pcoord': g['pcoord'][:, 1, 0].astype(float).tolist(), 'link': g.get('trajectories', getlink=True).filename}
# westpa.analysis: a first-iteration walker from the basis state, with its initial point: the basis state's
# frames from iteration 0's file, through west.h5's iterations/iter_00000000/trajectories, then its own.
from westpa.analysis import HDF5MDTrajectory, Run
run = Run.open(os.path.join(root, 'west.h5'))
w1 = run.iteration(1).walker(0)
with WESTIterationFile(os.path.join(root, 'traj_segs', 'iter_000001.h5'), 'r') as f:
    own = f.read_as_traj(1, 0).xyz[:, 0, 0].astype(float).tolist()
out['analysis1'] = {'frames': HDF5MDTrajectory()(w1, include_initpoint=True).xyz[:, 0, 0].astype(float).tolist(), 'own': own}
with h5py.File(os.path.join(root, 'west.h5'), 'r') as w:
    for n in range(1, iters + 1):
        parents = w['iterations/iter_%08d' % n]['seg_index']['parent_id'].tolist()
        out['iterations'].append({'parents': parents, 'history': [restart(n, s)['parent.history'] for s in range(len(parents))]})
print(json.dumps(out))
`;

describe.skipIf(noPeers)("WESTPA's HDF5 framework: the basis states' restarts (iter_000000.h5)", () => {
  it("init stores each basis state's restart and log; walkers from a basis state, in iteration 1 and recycled, start from its files", () => {
    const root = mkdtempSync(join(tmpdir(), 'westream-h5framework-basis-'));
    cpSync(join(REPO, 'test/fixtures/randomwalk'), root, { recursive: true });
    const yaml = readFileSync(join(root, 'west.yaml'), 'utf8')
      .replace('max_total_iterations: 12', `max_total_iterations: ${BASIS_ITERS}`)
      .replace("boundaries: [['-inf', -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 'inf']]", "boundaries: [['-inf', -0.2, -0.1, 0.0, 0.1, 0.2, 'inf']]")
      .replace('    data_refs:\n', '    data_refs:\n      iteration: $WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5\n');
    writeFileSync(join(root, 'west.cfg'), yaml);
    rmSync(join(root, 'west.yaml'));
    script(root, 'get_pcoord.sh', BASIS_GET_PCOORD);
    script(root, 'runseg.sh', BASIS_RUNSEG);
    const init = westream(root, ['init', '--config', 'west.cfg', '--bstate', 'origin,1.0,origin', '--tstate', 'far,0.25', '--segs-per-state', '4']);
    expect(init.code, init.stderr + init.stdout).toBe(0);
    const r = westream(root, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const read = JSON.parse(python(BASIS_READ, [root, String(BASIS_ITERS)])) as {
      basis: Record<string, string>;
      log: string;
      basisFrames: number[];
      basisAtoms: string[];
      iteration0: { weight: number[]; parent: number[]; pcoord: number[]; link: string };
      analysis1: { frames: number[]; own: number[] };
      iterations: { parents: number[]; history: string[] }[];
    };
    expect(read.basis).toEqual({ 'parent.history': 'basis 0\n', 'parent.last': '0.0\n' });
    expect(read.log).toBe('get_pcoord log of basis state 0\n');
    // The basis state's trajectory, through WESTPA's own reader (nm; XYZ keeps 1e-4 Å).
    expect(read.basisAtoms).toEqual(['NA', 'CL']);
    expect(read.basisFrames).toHaveLength(2);
    read.basisFrames.forEach((x, i) => expect(x).toBeCloseTo([0, 0.123][i] as number, 4));
    // west.h5's iteration 0, as WESTPA's w_init makes it: the basis state as a dummy segment, and the link.
    expect(read.iteration0).toEqual({ weight: [1], parent: [-1], pcoord: [0], link: 'traj_segs/iter_000000.h5' });
    expect(read.analysis1.own).toHaveLength(5);
    expect(read.analysis1.frames.map((x) => x.toFixed(4))).toEqual([...read.basisFrames, ...read.analysis1.own].map((x) => x.toFixed(4)));
    let recycled = 0;
    read.iterations.forEach((it, k) => {
      const n = k + 1;
      it.parents.forEach((parent, s) => {
        const history = (it.history[s] as string).trim().split('\n');
        if (parent < 0) {
          // From the basis state: its files, then this segment.
          expect(history, `iteration ${n} segment ${s}`).toEqual(['basis 0', `${n}:${s}`]);
          if (n > 1) recycled++;
        } else {
          expect(history[0]).toBe('basis 0');
          expect(history.at(-1)).toBe(`${n}:${s}`);
        }
      });
    });
    // The set-up must recycle (the target is 0.2 above the start) or the test proves nothing about recycled walkers.
    expect(recycled).toBeGreaterThan(0);
  }, 300_000);

  it("a basis state's trajectory the loader cannot read fails init with the loader's message, naming the basis state", () => {
    const root = mkdtempSync(join(tmpdir(), 'westream-h5framework-basis-bad-'));
    cpSync(join(REPO, 'test/fixtures/randomwalk'), root, { recursive: true });
    const yaml = readFileSync(join(root, 'west.yaml'), 'utf8').replace(
      '    data_refs:\n',
      '    data_refs:\n      iteration: $WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5\n',
    );
    writeFileSync(join(root, 'west.cfg'), yaml);
    rmSync(join(root, 'west.yaml'));
    script(root, 'get_pcoord.sh', `cat "$WEST_STRUCT_DATA_REF" > "$WEST_PCOORD_RETURN"\necho 'not a trajectory' > "$WEST_TRAJECTORY_RETURN/basis.xyz"`);
    const init = westream(root, ['init', '--config', 'west.cfg', '--bstate', 'origin,1.0,origin', '--segs-per-state', '4']);
    expect(init.code).not.toBe(0);
    expect(init.stderr).toMatch(/get_pcoord for basis state 0 \('origin'\): WEST_TRAJECTORY_RETURN: loader mdtraj_trajectory_loader/);
    expect(init.stderr).not.toMatch(/internal error/);
  }, 120_000);
});

describe.skipIf(noPeers)("WESTPA's HDF5 framework: one system per iteration file", () => {
  it('a segment whose frames have another atom count stops the run naming both segments; the iterations before stay', () => {
    const root = simRoot();
    // Iteration 2's segment 1 returns a three-atom trajectory where the others return two.
    script(
      root,
      'runseg.sh',
      `${RUNSEG}\nif [ "$WEST_CURRENT_ITER:$WEST_CURRENT_SEG_ID" = 2:1 ]; then printf 'X\\n    3\\n    1NA      NA    1   0.000   0.000   0.000\\n    2CL      CL    2   0.500   0.000   0.000\\n    3CL      CL    3   1.000   0.000   0.000\\n   3.00000   3.00000   3.00000\\n' > "$WEST_TRAJECTORY_RETURN/nacl.gro"; awk '{ printf "3\\nf\\nNa %.4f 0 0\\nCl 5 0 0\\nCl 10 0 0\\n", $1 * 10 }' pcoord.txt > "$WEST_TRAJECTORY_RETURN/seg.xyz"; fi`,
    );
    const r = westream(root, ['run', '--config', 'west.cfg']);
    expect(r.code).toBe(2); // STORE_ERR_ITERATION_FILE
    expect(r.stderr).toMatch(/iter_000002\.h5: segment 1 of iteration 2 returned 3 atoms, segment 0 of iteration 2 2; one iteration file holds one system/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const done = python("import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs['west_current_iteration'])", [join(root, 'west.h5')]).trim();
    expect(Number(done)).toBe(2);
  }, 300_000);
});

describe.skipIf(noPeers)("WESTPA's HDF5 framework: a trajectory the loader cannot read", () => {
  it("fails that segment with the loader's own message (WESTPA only warns: its issue #373); the iterations before stay", () => {
    const root = simRoot();
    script(
      root,
      'runseg.sh',
      `${RUNSEG}\nif [ "$WEST_CURRENT_ITER:$WEST_CURRENT_SEG_ID" = 2:1 ]; then echo 'not a trajectory' > "$WEST_TRAJECTORY_RETURN/seg.xyz"; fi`,
    );
    const r = westream(root, ['run', '--config', 'west.cfg']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /segment 1 of iteration 2( \(attempt \d+\))?: loader mdtraj_trajectory_loader for the trajectory of segment 1 of iteration 2 \(.*\.trajectory\)/,
    );
    expect(r.stderr).toMatch(/Traceback|Error/);
    const done = python("import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs['west_current_iteration'])", [join(root, 'west.h5')]).trim();
    expect(Number(done)).toBe(2);
  }, 300_000);
});

describe.skipIf(noRedis)("WESTPA's HDF5 framework through BullMQ worker daemons", () => {
  const redis = redisForSuite();

  it('the daemons restore and return the restart bytes; the sim-manager writes the same files', async () => {
    await startWorkerDaemons(redis(), ['h5-a', 'h5-b']);
    const root = simRoot();
    const r = await westreamRun(root, ['run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis().url]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expectFramework(root);
  }, 300_000);
});

/** Every group, dataset (its dtype: field names of a compound), external link and root attribute of each file. */
const TREE = `
import h5py, json, os, re, sys
def tree(path):
    out = {}
    with h5py.File(path, 'r') as f:
        def visit(g, prefix):
            for k in g.keys():
                # one entry for all segments (the two runs' walks differ, and so do their segment counts)
                p = re.sub(r'^(\\w+/)\\d+_\\d+', r'\\1N_SEG', prefix + '/' + k if prefix else k)
                if isinstance(g.get(k, getlink=True), h5py.ExternalLink):
                    out[p] = 'external link'
                    continue
                x = g[k]
                if isinstance(x, h5py.Group):
                    out[p] = 'group'
                    visit(x, p)
                else:
                    out[p] = 'dataset ' + ('(' + ','.join(x.dtype.names) + ')' if x.dtype.names else x.dtype.str) + ' ndim %d' % x.ndim
        visit(f, '')
        for k in f.attrs:
            out['@' + k] = 'attribute'
    return out
root = sys.argv[1]
res = {'west.h5': tree(os.path.join(root, 'west.h5'))}
for n in sorted(os.listdir(os.path.join(root, 'traj_segs'))):
    if n.endswith('.h5'):
        res['traj_segs/' + n] = tree(os.path.join(root, 'traj_segs', n))
print(json.dumps(res))
`;

/** A w_crawl task (WESTPA's iteration crawler): each segment's frames, through west.h5's link to the iteration's file. */
const CRAWLER = `import json
from westpa.cli.tools.w_crawl import WESTPACrawler
from westpa.core.h5io import WESTIterationFile

def frames(n_iter, iter_group):
    with WESTIterationFile(iter_group['trajectories'].file.filename, 'r') as f:
        return [f.read_as_traj(n_iter, s).xyz[:, 0, 0].astype(float).tolist() for s in range(iter_group['seg_index'].shape[0])]

class Crawler(WESTPACrawler):
    def initialize(self, iter_start, iter_stop):
        self.out = {}
    def process_iter_result(self, n_iter, result):
        self.out[n_iter] = result
    def finalize(self):
        json.dump(self.out, open('crawl.json', 'w'))

crawler = Crawler()
`;

// What WESTPA writes that westream does not, each for a reason (README, "Where westream differs"): the pickled
// bin mappers (bin_topologies: westream's bins live in the config), the attributes PyTables and WESTPA's h5io add
// when they open a file for writing, and w_run's template iteration file (a copy source for the topology).
const WRUN_ONLY = [/^bin_topologies(\/|$)/, /^@westpa_(fileformat_version|iter_prec)$/, /^@(CLASS|FILTERS|PYTABLES_FORMAT_VERSION|TITLE|VERSION)$/];
// Same path, another storage: restart and log bytes (WESTPA: one fixed-length byte string; westream: a uint8
// array; WESTPA's read_restart and the tar readers take both), and bin_target_counts (WESTPA: float16).
const STORED_OTHERWISE = [/^(restart|log)\/N_SEG\/data$/, /^iterations\/iter_\d+\/bin_target_counts$/];

describe.skipIf(noPeers)("WESTPA's HDF5 framework: westream's files against w_run's", () => {
  it("a w_run of the same set-up writes files of the same layout; w_crawl reads westream's through its links", () => {
    const ours = simRoot();
    const r = westream(ours, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // The same set-up for w_run: WESTPA needs the propagator named and the trajectory directory made.
    const theirs = mkdtempSync(join(tmpdir(), 'westream-h5framework-wrun-'));
    cpSync(join(REPO, 'test/fixtures/randomwalk'), theirs, { recursive: true });
    writeFileSync(
      join(theirs, 'west.cfg'),
      readFileSync(join(ours, 'west.cfg'), 'utf8')
        .replace(`max_total_iterations: ${ITERS}`, `max_total_iterations: ${ITERS}\n    propagator: executable\n    gen_istates: false`)
        .replace(/^ {2}executable:$/m, '  executable:\n    environ: {}'),
    );
    rmSync(join(theirs, 'west.yaml'));
    script(theirs, 'runseg.sh', RUNSEG);
    for (const d of ['traj_segs', 'seg_logs']) mkdirSync(join(theirs, d));
    const env = { ...process.env, WEST_SIM_ROOT: theirs };
    for (const args of [
      ['westpa.cli.core.w_init', '-r', 'west.cfg', '--bstate', 'origin,1.0,origin', '--segs-per-state', '4'],
      ['westpa.cli.core.w_run', '-r', 'west.cfg', '--work-manager', 'serial'],
    ]) {
      const p = spawnSync('python3', ['-m', ...args], { cwd: theirs, env, encoding: 'utf8', timeout: 240_000 });
      expect(p.status, `${args[0]}: ${p.stderr}`).toBe(0);
    }
    const treeOf = (root: string): Record<string, Record<string, string>> => JSON.parse(python(TREE, [root])) as Record<string, Record<string, string>>;
    const [a, b] = [treeOf(ours), treeOf(theirs)];
    // Both trees, listed (vitest shows them with the test's output).
    console.log(`westream's files:\n${JSON.stringify(a, null, 1)}\nw_run's files:\n${JSON.stringify(b, null, 1)}`);
    expect(Object.keys(a).sort()).toEqual(
      Object.keys(b)
        .filter((f) => f !== 'traj_segs/iter_template.h5')
        .sort(),
    );
    for (const [file, theirsTree] of Object.entries(b)) {
      const oursTree = a[file];
      if (!oursTree) continue;
      const missing = Object.keys(theirsTree).filter((p) => !(p in oursTree) && !WRUN_ONLY.some((re) => re.test(p)));
      expect(missing, `${file}: in w_run's file, not in westream's`).toEqual([]);
      const differ = Object.keys(theirsTree).filter((p) => p in oursTree && oursTree[p] !== theirsTree[p] && !STORED_OTHERWISE.some((re) => re.test(p)));
      expect(
        differ.map((p) => `${p}: westream ${oursTree[p]}, w_run ${theirsTree[p]}`),
        file,
      ).toEqual([]);
    }
    // w_crawl, WESTPA's iteration crawler, on westream's run: the frames it reads are the walk west.h5 records.
    writeFileSync(join(ours, 'crawl_frames.py'), CRAWLER);
    const crawl = spawnSync(
      'python3',
      ['-m', 'westpa.cli.tools.w_crawl', '-r', 'west.cfg', '--work-manager', 'serial', '-c', 'crawl_frames.crawler', 'crawl_frames.frames'],
      { cwd: ours, env: { ...process.env, WEST_SIM_ROOT: ours }, encoding: 'utf8', timeout: 120_000 },
    );
    expect(crawl.status, crawl.stderr).toBe(0);
    const crawled = JSON.parse(readFileSync(join(ours, 'crawl.json'), 'utf8')) as Record<string, number[][]>;
    const walk = JSON.parse(python(READ, [ours, String(ITERS)])) as { iterations: Iteration[] };
    expect(Object.keys(crawled).sort()).toEqual([...Array(ITERS).keys()].map((k) => String(k + 1)));
    walk.iterations.forEach((it, k) => {
      const frames = crawled[String(k + 1)] as number[][];
      expect(frames).toHaveLength(it.pcoord.length);
      frames.forEach((f, s) => f.forEach((x, i) => expect(x).toBeCloseTo((it.pcoord[s] as number[])[i] as number, 4)));
    });
  }, 300_000);
});

/** Each streamed segment's frames from the iteration files (WESTPA's reader), against west.h5's pcoord from the stream. */
const STREAMED_READ = `
import json, os, sys
import h5py, mdtraj, numpy as np
from westpa.core.h5io import WESTIterationFile
root, iters = sys.argv[1], int(sys.argv[2])
out = []
with h5py.File(os.path.join(root, 'west.h5'), 'r') as w:
    for n in range(1, iters + 1):
        pc = w['iterations/iter_%08d' % n]['pcoord'][:, :, 0]
        with WESTIterationFile(os.path.join(root, 'traj_segs', 'iter_%06d.h5' % n), 'r') as f:
            for s in range(pc.shape[0]):
                t = f.read_as_traj(n, s)
                stride = (t.n_frames - 1) // (pc.shape[1] - 1)
                d = mdtraj.compute_distances(t, [[0, 1]], periodic=True)[::stride, 0]
                out.append({'n': n, 's': s, 'frames': int(t.n_frames), 'atoms': [a.name for a in t.topology.atoms][:2], 'box': t.unitcell_lengths[0].astype(float).tolist(), 'maxdiff': float(np.abs(d - pc[s]).max())})
print(json.dumps(out))
`;

const STREAMED_ITERS = 2;

/** The toy streaming example with the HDF5 framework and builtin record into the iteration file; init done. */
function streamedFrameworkDir(): string {
  const dir = streamSimDir((y) =>
    y
      .replace('max_total_iterations: 4', `max_total_iterations: ${STREAMED_ITERS}`)
      .replace('builtin: [pcoord, guard]', 'builtin: [pcoord, guard, record]\n      record: { target: iteration, topology: $WEST_SIM_ROOT/toy.gro }')
      .replace('    data_refs:\n', '    data_refs:\n      iteration: $WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5\n'),
  );
  const init = westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '2']);
  expect(init.code, init.stderr).toBe(0);
  return dir;
}

function expectStreamedFrames(dir: string): void {
  const iters = STREAMED_ITERS;
  const segs = JSON.parse(python(STREAMED_READ, [dir, String(iters)])) as {
    n: number;
    s: number;
    frames: number;
    atoms: string[];
    box: number[];
    maxdiff: number;
  }[];
  expect(segs.length).toBeGreaterThanOrEqual(2 * iters);
  for (const g of segs) {
    const at = `iteration ${g.n} segment ${g.s}`;
    expect(g.frames, at).toBe(11); // every streamed frame
    expect(g.atoms, at).toEqual(['P', 'P']);
    expect(
      g.box.map((x) => x.toFixed(3)),
      at,
    ).toEqual(['3.000', '3.000', '3.000']); // nm
    // the builtin pcoord (float64 from the stream's float32 Å) against mdtraj's distance of the stored frames (nm)
    expect(g.maxdiff, at).toBeLessThan(1e-5);
  }
  // No trajectory file anywhere: each segment directory holds the toy engine's restart files only.
  for (const it of ['000001', '000002'])
    for (const seg of readdirSync(join(dir, 'traj_segs', it)))
      expect(
        readdirSync(join(dir, 'traj_segs', it, seg)).filter((f) => !f.endsWith('.rst') && f !== '.westream-complete'),
        `traj_segs/${it}/${seg}`,
      ).toEqual([]);
}

describe.skipIf(noPeers)("WESTPA's HDF5 framework with streamed segments: builtin record into the iteration file", () => {
  it('the frames stream into iter_NNNNNN.h5 with the configured topology (WESTPA reads them; their distance is the streamed pcoord), no trajectory file written', () => {
    const dir = streamedFrameworkDir();
    const run = westream(dir, ['run', '--config', 'west.yaml']);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expectStreamedFrames(dir);
  }, 300_000);
});

describe.skipIf(noRedis)("WESTPA's HDF5 framework with streamed segments through BullMQ worker daemons", () => {
  const redis = redisForSuite();

  it('the stream task on each node records the frames; the sim-manager writes them into the iteration files', async () => {
    await startWorkerDaemons(redis(), ['rec-a', 'rec-b']);
    const dir = streamedFrameworkDir();
    const run = await westreamRun(dir, ['run', '--config', 'west.yaml', '--work-manager', 'bullmq', '--redis', redis().url]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expectStreamedFrames(dir);
  }, 300_000);
});
