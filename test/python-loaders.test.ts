/**
 * A Python system driver with the executable propagator (runseg.sh), and dataset loaders that are the user's own
 * Python functions, called on the worker after each segment with WESTPA's signature: what they put in
 * segment.data lands in west.h5 auxdata/ — under the local work manager and through BullMQ worker daemons.
 */
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { pythonSimRoot } from './support/python-setups.js';
import { redisForSuite, startWorkerDaemons } from './support/redis.js';
import { python, REPO, westream, westreamRun } from './support/sim-dir.js';

const noPeers = skipWithoutPeer('python westpa + h5py', pythonModuleMissing('westpa') ?? pythonModuleMissing('h5py'));
const noRedis = noPeers || skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

const BODY = `  system:
    driver: walk_system.WalkSystem
  propagation:
    max_total_iterations: 3
  data:
    west_data_file: west.h5
    datasets:
      - name: ignored_because_executable_datasets_exist
    data_refs:
      segment: $WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}
      basis_state: $WEST_SIM_ROOT/bstates/{basis_state.auxref}
      initial_state: $WEST_SIM_ROOT/istates/{initial_state.iter_created}/{initial_state.state_id}
  executable:
    datasets:
      - name: trace
        loader: loaders.text_loader
      - name: summary
        loader: loaders.seg_summary
    propagator:
      executable: $WEST_SIM_ROOT/runseg.sh
      stdout: $WEST_SIM_ROOT/seg_logs/{segment.n_iter:06d}-{segment.seg_id:06d}.log
      stderr: stdout
    get_pcoord:
      executable: $WEST_SIM_ROOT/get_pcoord.sh
  westream:
    seed: 99
    slots: 2
`;

function simRoot(): string {
  const { root } = pythonSimRoot(BODY);
  cpSync(join(REPO, 'test/fixtures/randomwalk'), root, { recursive: true, filter: (src) => !src.endsWith('west.yaml') });
  const runseg = join(root, 'runseg.sh');
  // the per-segment text file the loader reads: the walk itself, written where WEST_TRACE_RETURN says
  writeFileSync(runseg, `${readFileSync(runseg, 'utf8')}cp pcoord.txt "$WEST_TRACE_RETURN"\n`);
  chmodSync(runseg, 0o755);
  const init = westream(root, ['init', '--config', 'west.cfg', '--bstate', 'origin,1.0,origin', '--segs-per-state', '4']);
  expect(init.code, init.stderr + init.stdout).toBe(0);
  return root;
}

interface Aux {
  nSegs: number;
  keys: string[];
  trace: number[][];
  summary: number[][];
  pcoord: number[][];
  weights: number[];
  parents: number[];
}
const auxOf = (dir: string, n: number): Aux =>
  JSON.parse(
    python(
      `import sys, json, h5py
g = h5py.File(sys.argv[1], 'r')['iterations/iter_%08d' % int(sys.argv[2])]
a = g['auxdata']
print(json.dumps({'nSegs': len(g['seg_index']), 'keys': sorted(a.keys()), 'trace': a['trace'][...].tolist(), 'summary': a['summary'][...].tolist(),
  'pcoord': g['pcoord'][:, :, 0].astype(float).tolist(), 'weights': g['seg_index']['weight'].tolist(), 'parents': g['seg_index']['parent_id'].tolist()}))`,
      [join(dir, 'west.h5'), String(n)],
    ),
  ) as Aux;

function expectLoaded(dir: string): void {
  for (const n of [1, 2, 3]) {
    const a = auxOf(dir, n);
    // west.executable.datasets wins over west.data.datasets (WESTPA's rule): only trace and summary
    expect(a.keys).toEqual(['summary', 'trace']);
    expect(a.trace.length).toBe(a.nSegs);
    a.trace.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(a.pcoord[i]![k]!, 5)));
    // the segment object the loader saw: n_iter, seg_id, parent_id, weight, the pcoord's last point
    a.summary.forEach((row, i) => {
      expect(row.slice(0, 3)).toEqual([n, i, a.parents[i]]);
      expect(row[3]).toBeCloseTo(a.weights[i]!, 15);
      expect(row[4]).toBeCloseTo(a.pcoord[i]![4]!, 5);
    });
  }
}

describe.skipIf(noPeers)('Python system + executable propagator + Python loaders, local work manager', () => {
  it("records what the user's loaders put in segment.data as auxdata/", () => {
    const dir = simRoot();
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expectLoaded(dir);
  }, 300_000);

  it("an exception in a loader fails the segment with the user's traceback and the segment named; nothing recorded is lost", () => {
    const dir = simRoot();
    writeFileSync(
      join(dir, 'loaders.py'),
      `${readFileSync(join(dir, 'loaders.py'), 'utf8')}\n_real = seg_summary\ndef seg_summary(fieldname, filename, segment, single_point):\n    if segment.n_iter == 2 and segment.seg_id == 1:\n        raise KeyError('no such field on purpose')\n    _real(fieldname, filename, segment, single_point)\n`,
    );
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /segment 1 of iteration 2( \(attempt \d+\))?: loader loaders\.seg_summary for dataset 'summary' of segment 1 of iteration 2: KeyError: 'no such field on purpose'/,
    );
    expect(r.stderr).toMatch(/loaders\.py", line \d+, in seg_summary/);
    expect(auxOf(dir, 1).summary.length).toBe(4);
  }, 300_000);
});

describe.skipIf(noRedis)('Python loaders through BullMQ worker daemons', () => {
  const redis = redisForSuite();

  it('the daemons call the loaders; west.h5 holds the same auxdata layout', async () => {
    await startWorkerDaemons(redis(), ['ld-a', 'ld-b']);
    const dir = simRoot();
    const r = await westreamRun(dir, ['run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis().url]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expectLoaded(dir);
  }, 300_000);
});
