/**
 * WESTPA's own analysis tools (PyPI westpa) on a westream run's west.h5: w_fluxanl's flux into the target
 * must equal, iteration by iteration, the recycled weight westream itself reported; w_assign and w_direct run
 * headless and see flux into the target state; w_ipa --analysis-only agrees with them from an analysis scheme in
 * west.yaml; plothist draws the evolution. (w_pdist against a direct
 * histogram is in e2e-demo.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { until } from './support/processes.js';
import { python, REPO, runWithApi, westream } from './support/sim-dir.js';

const skip = skipWithoutPeer(
  'westpa + h5py + matplotlib (PyPI)',
  pythonModuleMissing('westpa') ?? pythonModuleMissing('h5py') ?? pythonModuleMissing('matplotlib'),
);

/** w_ipa's analysis scheme (west.analysis), with the states w_assign is given below. */
const ANALYSIS_SCHEME = `  analysis:
    directory: ANALYSIS
    postanalysis: false
    kinetics: { step_iter: 1, evolution: cumulative, extra: [disable-correl] }
    analysis_schemes:
      RW:
        enabled: true
        bins:
          - type: RectilinearBinMapper
            boundaries: [['-inf', -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 'inf']]
        states:
          - { label: start, coords: [[0.0]] }
          - { label: far, coords: [[1.6]] }
`;

function tool(dir: string, module: string, args: string[]): void {
  const r = spawnSync('python3', ['-m', module, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, MPLBACKEND: 'Agg' }, timeout: 300_000 });
  expect(r.status, `${module}: ${r.stderr}`).toBe(0);
}

describe.skipIf(skip)("WESTPA's tools on westream's west.h5", () => {
  it('w_fluxanl gives the flux westream reported; w_assign, w_direct, w_ipa (headless) and plothist run on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-tools-'));
    cpSync(join(REPO, 'test/fixtures/randomwalk'), dir, { recursive: true });
    expect(westream(dir, ['init', '--bstate', 'origin,1,origin', '--tstate', 'far,1.5', '--segs-per-state', '4']).code).toBe(0);
    const run = westream(dir, ['run']);
    expect(run.code, run.stderr).toBe(0);
    // What westream reports: the weight recycled into the target in each iteration (its JSON log).
    const reported = new Map<number, number>();
    for (const line of run.stdout.split('\n')) {
      if (!line.includes('"iteration finished"')) continue;
      const r = JSON.parse(line) as { nIter: number; recycledWeight: number };
      reported.set(r.nIter, r.recycledWeight);
    }
    expect(
      [...reported.values()].some((w) => w > 0),
      'the run recycled something',
    ).toBe(true);

    tool(dir, 'westpa.cli.tools.w_fluxanl', ['-r', 'west.yaml', '-W', 'west.h5', '-o', 'fluxanl.h5']);
    const flux = JSON.parse(
      python(
        "import h5py, json, sys; t = h5py.File(sys.argv[1])['target_flux/target_0']; print(json.dumps([[int(n), float(f), int(c)] for n, f, c in zip(t['n_iter'], t['flux'], t['count'])]))",
        [join(dir, 'fluxanl.h5')],
      ),
    ) as [number, number, number][];
    let compared = 0;
    for (const [n, f, count] of flux) {
      if (count < 0) continue; // w_fluxanl's sentinel: no recycling record for that iteration
      expect(f, `iteration ${n}`).toBeCloseTo(reported.get(n) ?? NaN, 12);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(2);
    expect(flux.some(([, f]) => f > 0)).toBe(true);

    tool(dir, 'westpa.cli.tools.w_assign', [
      '-r',
      'west.yaml',
      '-W',
      'west.h5',
      '--bins-from-system',
      '--states',
      'start:0.0',
      'far:1.6',
      '-o',
      'assign.h5',
      '--serial',
    ]);
    tool(dir, 'westpa.cli.tools.w_direct', ['-r', 'west.yaml', '--serial', 'all', '-W', 'west.h5', '-a', 'assign.h5', '-o', 'direct.h5']);
    const arrivals = Number(python("import h5py, sys; f = h5py.File(sys.argv[1]); print(f['avg_total_fluxes'][1]['expected'])", [join(dir, 'direct.h5')]));
    expect(arrivals, "w_direct's mean flux into 'far'").toBeGreaterThan(0);

    // w_ipa, headless (--analysis-only), from an analysis scheme in west.yaml (which westream loads and leaves
    // alone): the same assignments as w_assign's, the same arrivals as w_direct's, and a rate estimate.
    appendFileSync(join(dir, 'west.yaml'), ANALYSIS_SCHEME);
    expect(westream(dir, ['check']).code).toBe(0);
    tool(dir, 'westpa.cli.tools.w_ipa', ['-r', 'west.yaml', '--analysis-only', '--serial']);
    const ipa = JSON.parse(
      python(
        `import h5py, json, sys, numpy as np
d = sys.argv[1]
a, ia = h5py.File(d + '/assign.h5'), h5py.File(d + '/ANALYSIS/RW/assign.h5')
w, iw = h5py.File(d + '/direct.h5'), h5py.File(d + '/ANALYSIS/RW/direct.h5')
print(json.dumps({'assign': bool(np.array_equal(a['assignments'][:], ia['assignments'][:])),
                  'fluxes': bool(np.array_equal(w['total_fluxes'][:], iw['total_fluxes'][:])),
                  'rate': float(iw['avg_rates'][0, 1]['expected'])}))`,
        [dir],
      ),
    ) as { assign: boolean; fluxes: boolean; rate: number };
    expect(ipa).toMatchObject({ assign: true, fluxes: true });
    expect(ipa.rate, "w_ipa's rate start -> far").toBeGreaterThan(0);
    tool(dir, 'westpa.cli.tools.w_pdist', ['-r', 'west.yaml', '-W', 'west.h5', '-o', 'pdist.h5', '-b', '20']);
    tool(dir, 'westpa.cli.tools.plothist', ['evolution', 'pdist.h5', '-o', 'evolution.png']);
    expect(existsSync(join(dir, 'evolution.png')) && statSync(join(dir, 'evolution.png')).size).toBeGreaterThan(5000);
  }, 300_000);

  it("w_pdist's histograms equal the ones westream's REST API reports (/evolution), read from a paused run", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-pdist-'));
    cpSync(join(REPO, 'test/fixtures/randomwalk'), dir, { recursive: true });
    writeFileSync(join(dir, 'west.yaml'), readFileSync(join(dir, 'west.yaml'), 'utf8').replace(/max_total_iterations: \d+/, 'max_total_iterations: 200'));
    expect(westream(dir, ['init', '--bstate', 'origin,1,origin', '--tstate', 'far,1.5', '--segs-per-state', '4']).code).toBe(0);
    const token = 'pdist-token';
    const run = await runWithApi(dir, [], { WESTREAM_API_TOKEN: token });
    const post = (path: string): Promise<Response> => fetch(run.base + path, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const status = async (): Promise<{ state: string; currentIteration: number }> =>
      (await (await fetch(`${run.base}/status`)).json()) as { state: string; currentIteration: number };
    await until('iteration 6', async () => (await status()).currentIteration >= 6, { context: run.out });
    expect((await post('/run/pause')).status).toBe(200);
    await until('paused', async () => (await status()).state === 'paused', { context: run.out });
    // Paused between iterations: west.h5 is committed and nothing writes it until resumed.
    const evo = (await (await fetch(`${run.base}/evolution?bins=30`)).json()) as { edges: number[]; iterations: { nIter: number; hist: number[] }[] };
    expect(evo.iterations.length).toBeGreaterThanOrEqual(5);
    tool(dir, 'westpa.cli.tools.w_pdist', [
      '-r',
      'west.yaml',
      '-W',
      'west.h5',
      '-o',
      'pdist.h5',
      '--last-iter',
      String(evo.iterations.length),
      '-b',
      JSON.stringify([evo.edges]),
    ]);
    expect((await post('/run/stop')).status).toBe(200);
    expect(await run.closed).toBe(130);
    // w_pdist stores a density over its bins; times the bin width it is the probability per bin, which is what
    // /evolution reports (as a fraction of all weight, so the two agree where no point falls outside the edges).
    const pdist = JSON.parse(
      python(
        `import h5py, json, sys, numpy as np
f = h5py.File(sys.argv[1])
h, b = f['histograms'][:], f['binbounds_0'][:]
print(json.dumps({'prob': (h * np.diff(b)).tolist(), 'edges': b.tolist()}))`,
        [join(dir, 'pdist.h5')],
      ),
    ) as { prob: number[][]; edges: number[] };
    pdist.edges.forEach((e, i) => expect(e).toBeCloseTo(evo.edges[i] as number, 12));
    let compared = 0;
    evo.iterations.forEach((it, i) => {
      const inRange = it.hist.reduce((a, b) => a + b, 0);
      if (Math.abs(inRange - 1) > 1e-9) return; // some weight outside the edges: w_pdist renormalizes, westream does not
      it.hist.forEach((p, b) => expect(pdist.prob[i]?.[b], `iteration ${it.nIter} bin ${b}`).toBeCloseTo(p, 6));
      compared++;
    });
    expect(compared).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
