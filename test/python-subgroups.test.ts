/**
 * A WESTPA user's subgroup function (`west.drivers.subgroup_function` + `subgroup_arguments`), run by the real
 * `westream` command in the sim-manager's Python helper: grouping walkers by lineage (read from west.h5 through
 * WESTPA's own data manager, as users' history functions do) keeps every lineage of a bin alive while the bin has
 * fewer lineages than its target count, and keeps one walker per lineage otherwise. Checked on west.h5, with a
 * negative control (the same run, seed and trajectories with one group per bin loses lineages).
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { odldBody, pythonSimRoot } from './support/python-setups.js';
import { python, westream } from './support/sim-dir.js';

const noPeers = skipWithoutPeer('python westpa + h5py', pythonModuleMissing('westpa') ?? pythonModuleMissing('h5py'));
vi.setConfig({ testTimeout: 300_000 });

const ITERATIONS = 8;
const TARGET = 4; // DoubleWellSystem's bin_target_counts

function runWith(subgroup: string | null, iterations = ITERATIONS): { dir: string; code: number | null; out: string } {
  const drivers = subgroup ? `  drivers:\n    subgroup_function: ${subgroup}\n    subgroup_arguments:\n      root: 1\n` : '';
  const body = odldBody({ propagator: 'groups.SeededWellPropagator', iterations, blockSize: 8 }) + drivers + '  westream:\n    seed: 20261202\n    slots: 2\n';
  const { root } = pythonSimRoot(body, 'westream-subgroups-');
  const init = westream(root, ['init', '--config', 'west.cfg', '--bstate', 'start,1.0', '--segs-per-state', '4']);
  if (init.code !== 0) return { dir: root, code: init.code, out: init.stderr + init.stdout };
  const r = westream(root, ['run', '--config', 'west.cfg']);
  return { dir: root, code: r.code, out: r.stderr + r.stdout };
}

interface Lineages {
  /** Bin × iteration pairs checked, and those with two or more lineages among the walkers that ended there. */
  checked: number;
  mixed: number;
  /** Where the rule was broken: a lineage lost below the target, or not one walker per lineage at or above it. */
  violations: string[];
  weights: number[][];
  parents: number[][];
}

/** Every bin's lineages before and after each WE step, from west.h5 (h5py) and WESTPA's own bin mapper. */
function lineages(dir: string): Lineages {
  return JSON.parse(
    python(
      `import sys, json, h5py, numpy as np
sys.path.insert(0, sys.argv[2])
from odld_like import DoubleWellSystem
import westpa
s = DoubleWellSystem(rc=westpa.rc); s.initialize()
f = h5py.File(sys.argv[1], 'r')
N = int(f.attrs['west_current_iteration'])
it = [f['iterations/iter_%08d' % n] for n in range(1, N + 1)]
lineage = [list(range(len(it[0]['seg_index'])))]
for n in range(1, N):
    lineage.append([lineage[n - 1][p] for p in it[n]['seg_index']['parent_id']])
out = {'checked': 0, 'mixed': 0, 'violations': [], 'weights': [], 'parents': []}
for n in range(N):
    out['weights'].append(it[n]['seg_index']['weight'].tolist()); out['parents'].append(it[n]['seg_index']['parent_id'].tolist())
for n in range(N - 1):
    final = s.bin_mapper.assign(it[n]['pcoord'][:, -1, :])
    start = s.bin_mapper.assign(it[n + 1]['pcoord'][:, 0, :])
    for b in sorted(set(final.tolist())):
        before = {lineage[n][i] for i in np.flatnonzero(final == b)}
        after = [lineage[n + 1][j] for j in np.flatnonzero(start == b)]
        out['checked'] += 1
        out['mixed'] += len(before) > 1
        if n == 0:
            continue  # iteration 1's walkers all descend from initial states: one group
        if len(before) < ${TARGET} and set(after) != before:
            out['violations'].append(f'iteration {n + 1} bin {b}: lineages {sorted(before)} became {sorted(after)}')
        if len(before) >= ${TARGET} and (len(after) != ${TARGET} or len(set(after)) != ${TARGET}):
            out['violations'].append(f'iteration {n + 1} bin {b}: {len(before)} lineages became {sorted(after)}')
print(json.dumps(out))`,
      [join(dir, 'west.h5'), dir],
    ),
  ) as Lineages;
}

describe.skipIf(noPeers)("subgroup functions in the user's Python (west.drivers.subgroup_function)", () => {
  it('grouping by lineage keeps every lineage of a bin below its target count and one walker per lineage above it; one group per bin loses lineages (negative control)', () => {
    const grouped = runWith('groups.by_lineage');
    expect(grouped.code, grouped.out).toBe(0);
    const g = lineages(grouped.dir);
    expect(g.violations).toEqual([]);
    expect(g.mixed, 'bins where lineages met').toBeGreaterThan(10);

    const plain = runWith(null);
    expect(plain.code, plain.out).toBe(0);
    const p = lineages(plain.dir);
    expect(p.violations.length, 'one group per bin: lineages are lost when walkers merge').toBeGreaterThan(0);

    // the helper's path with one group per bin is the native run, bit for bit (same seed, same trajectories)
    const identity = runWith('groups.identity');
    expect(identity.code, identity.out).toBe(0);
    const i = lineages(identity.dir);
    expect(i.weights).toEqual(p.weights);
    expect(i.parents).toEqual(p.parents);
  });

  it("an exception in the subgroup function shows the user's traceback, the bin and the iteration; a function that drops walkers is named", () => {
    const broken = runWith('groups.broken', 2);
    expect(broken.code).not.toBe(0);
    expect(broken.out).toMatch(/subgroup function groups\.broken for bin 9 of iteration 1: ValueError: no grouping for bin 9/);
    expect(broken.out).toMatch(/groups\.py", line \d+, in broken/);
    expect(broken.out).not.toMatch(/internal error/);

    const loses = runWith('groups.loses_walkers', 2);
    expect(loses.code).not.toBe(0);
    expect(loses.out).toMatch(/subgroup function groups\.loses_walkers for bin \d+ of iteration 1: ValueError: 3 of the bin's 4 walkers are in no group/);
  });

  it('a subgroup function that cannot be imported is exit 2 naming west.drivers.subgroup_function', () => {
    const r = runWith('groups.no_such_function', 2);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/west\.drivers\.subgroup_function: cannot load 'groups\.no_such_function'/);
  });
});
