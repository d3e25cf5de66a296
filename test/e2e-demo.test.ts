/**
 * End to end on the demo: `westream init` + `westream run` as a user runs them, then west.h5 read by h5py and
 * analysed by WESTPA's own w_pdist (PyPI westpa).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { toyExampleDir, python, REPO, westream } from './support/sim-dir.js';

const ITERS = 8;
const skip = skipWithoutPeer('westpa + h5py (PyPI)', pythonModuleMissing('westpa') ?? pythonModuleMissing('h5py'));

interface Inspect {
  attrs: Record<string, unknown>;
  summary_dtype: [string, string][];
  summary_rows: number;
  iterations: {
    n: number;
    n_iter_attr: number;
    seg_index_dtype: [string, string, number][];
    seg_index_itemsize: number;
    pcoord_dtype: string;
    pcoord_shape: number[];
    weights_sum: number;
    status: number[];
    endpoints: number[];
    wtgraph_dtype: string;
    wtg_ok: boolean;
    init_pcoord: number[];
    parent_id: number[];
    bin_target_counts: number[] | null;
    new_weights: number;
    ibstates_link: boolean;
    continuity?: boolean;
  }[];
  ibstates_ref_target: boolean;
  bstate_labels: string[];
  tstate_labels: string[];
  pdist_iters?: number;
  pdist_max_abs_diff?: number;
}

describe.skipIf(skip)('the demo, end to end', () => {
  let dir: string;
  let data: Inspect;
  let runOut: string;

  beforeAll(() => {
    dir = toyExampleDir((y) => y.replace(/max_total_iterations: \d+/, `max_total_iterations: ${ITERS}`));
    const init = westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '3']);
    expect(init.code, init.stderr).toBe(0);
    const run = westream(dir, ['run', '--log-format', 'pretty', '--log-file', 'run.log.jsonl']); // as the demo runs it
    expect(run.code, run.stderr + run.stdout).toBe(0);
    runOut = run.stdout;
    // python3 -m, not the console script: a fresh pip install may not have refreshed pyenv's shims yet.
    const pd = spawnSync('python3', ['-m', 'westpa.cli.tools.w_pdist', '-r', 'west.yaml', '-W', 'west.h5', '-b', '25', '-o', 'pdist.h5'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(pd.status, pd.stderr).toBe(0);
    data = JSON.parse(
      python(`exec(open(${JSON.stringify(join(REPO, 'test/fixtures/inspect_west_h5.py'))}).read())`, [join(dir, 'west.h5'), join(dir, 'pdist.h5')]),
    ) as Inspect;
  }, 300_000);

  it('prints the table (--log-format pretty) and appends the JSON lines to --log-file', () => {
    // One row per iteration: iteration, segments, wall time, recycled walkers, recycled weight, running flux.
    const rows = runOut.split('\n').filter((l) => /^\s+\d+\s+\d+\s+[\d.]+s\s+\d+\s+\S+\s+\S/.test(l));
    expect(
      rows.map((r) => Number(r.trim().split(/\s+/)[0])),
      runOut,
    ).toEqual(Array.from({ length: ITERS }, (_, i) => i + 1));
    // From the 8th iteration on, the running flux has an error bar (or is 0 before any flux).
    expect(rows[ITERS - 1], runOut).toMatch(/(\d\.\d+e-\d+ ± \d\.\de-\d+ \(\d+ %\)|\s0)$/);
    expect(runOut).not.toMatch(/^\{/m); // no JSON on the terminal
    const lines = readFileSync(join(dir, 'run.log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(lines.filter((l) => l.msg === 'iteration finished')).toHaveLength(ITERS);
  });

  it('writes WESTPA root attributes; west_current_iteration is the next iteration, prepared', () => {
    expect(data.attrs.west_file_format_version).toBe(9);
    expect(data.attrs.west_iter_prec).toBe(8);
    expect(data.attrs.west_current_iteration).toBe(ITERS + 1);
    expect(data.attrs.westream_seed).toBe('20261121');
    expect(data.summary_rows).toBe(ITERS + 1);
    expect(data.summary_dtype.map(([n]) => n)).toEqual([
      'n_particles',
      'norm',
      'min_bin_prob',
      'max_bin_prob',
      'min_seg_prob',
      'max_seg_prob',
      'cputime',
      'walltime',
      'binhash',
    ]);
    const last = data.iterations[ITERS];
    expect(last?.status).toEqual([1]); // PREPARED
    expect(last?.endpoints).toEqual([0]);
  });

  it("uses WESTPA's dtypes: a packed 50-byte seg_index, float32 pcoord, int64 wtgraph", () => {
    for (const it of data.iterations) {
      expect(it.seg_index_itemsize).toBe(50);
      expect(it.seg_index_dtype).toEqual([
        ['weight', 'float64', 0],
        ['parent_id', 'int64', 8],
        ['wtg_n_parents', 'uint64', 16],
        ['wtg_offset', 'uint64', 24],
        ['cputime', 'float64', 32],
        ['walltime', 'float64', 40],
        ['endpoint_type', 'uint8', 48],
        ['status', 'uint8', 49],
      ]);
      expect(it.pcoord_dtype).toBe('float32');
      expect(it.pcoord_shape.slice(1)).toEqual([6, 1]); // md.in: 100 steps, stride 20
      expect(it.wtgraph_dtype).toBe('int64');
      expect(it.wtg_ok).toBe(true);
      expect(it.n_iter_attr).toBe(it.n);
      expect(it.ibstates_link).toBe(true); // hard links to /ibstates/0 and /tstates/0
    }
    expect(data.ibstates_ref_target).toBe(true); // the object reference in /ibstates/index points at the set
    expect(data.bstate_labels).toEqual(['left']);
    expect(data.tstate_labels).toEqual(['right']);
  });

  it('keeps the total weight at 1 in every iteration and completes every segment', () => {
    for (const it of data.iterations) expect(Math.abs(it.weights_sum - 1)).toBeLessThan(1e-12);
    for (const it of data.iterations.slice(0, ITERS)) {
      expect(it.status).toEqual([2]);
      expect(it.endpoints.every((e) => e >= 1 && e <= 3)).toBe(true);
    }
  });

  it('meets the target count in every occupied bin, and continuing walkers start where their parents ended', () => {
    const edges = [-0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1.0]; // config/examples/toy/west.yaml
    const f32 = (x: number): number => Math.fround(x);
    for (const it of data.iterations.slice(1)) {
      const counts = new Map<number, number>();
      for (const x of it.init_pcoord) {
        const b = edges.filter((e) => x >= f32(e)).length;
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
      expect(
        [...counts.values()].every((c) => c === 6),
        `iteration ${it.n}: ${JSON.stringify([...counts])}`,
      ).toBe(true);
      expect(it.bin_target_counts?.length).toBe(edges.length + 1);
      expect(it.continuity).toBe(true);
    }
  });

  it("w_pdist (WESTPA's own tool) reads the file and gives the histogram a direct computation gives", () => {
    expect(data.pdist_iters).toBe(ITERS);
    expect(data.pdist_max_abs_diff).toBeLessThan(1e-6);
  });

  it('keeps a log per segment and the status command reads west.h5', () => {
    expect(readdirSync(join(dir, 'seg_logs')).filter((f) => /^\d{6}-\d{6}\.log$/.test(f)).length).toBeGreaterThan(ITERS * 3);
    expect(existsSync(join(dir, 'traj_segs/000001/000000/seg.rst'))).toBe(true);
    const s = westream(dir, ['status', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ currentIteration: ITERS + 1, completedIterations: ITERS, seed: '20261121' });
  });
});
