/**
 * MAB and binless end to end: the real CLI and WE loop on the toy double well, with MAB nested in a
 * recursive mapper (WESTPA's tutorial form) and with binless. The bins each WE step placed are recorded in
 * west.h5 and in WESTPA's binbounds.log, they follow the walkers (the MAB's linear bins span exactly the
 * lagging to the leading walker of its region), the REST API serves them, and the same seed gives the same
 * west.h5.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { redisForSuite, startWorkerDaemons } from './support/redis.js';
import { reapStarted, start, waitForLine } from './support/processes.js';
import { binLogEntry } from '@westream/sim-manager';
import { mkdirSync } from 'node:fs';
import { childEnv, toyExampleDir, python, REPO, WESTREAM, westreamRun, type CliResult } from './support/sim-dir.js';

const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const noWestpa = skipWithoutPeer('PyPI westpa', pythonModuleMissing('westpa'));
const noRedis = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));
// five WE steps, not fewer: each is another sample of binbounds.log's printing against west.h5 (step 4 of
// main's demo is the first to put a boundary below 0.1, where numpy prints fewer digits than a float32 has)
const ITERS = 5;

const fixedBins = /      bins:\n        type: RectilinearBinMapper\n        boundaries:\n          - \[.*\]\n      bin_target_counts: \d+\n/;
const mabBins = `      bins:
        type: RecursiveBinMapper
        base:
          type: RectilinearBinMapper
          boundaries: [['-inf', -1.0, 1.0, 'inf']]
        mappers:
          - type: MABBinMapper
            nbins: [8]
            direction: [0]
            bottleneck: true
            bin_log: true
            mab_log: true
            at: [0.0]
      bin_target_counts: 3
`;
const binlessBins = `      bins:
        type: RecursiveBinMapper
        base:
          type: RectilinearBinMapper
          boundaries: [['-inf', -1.0, 1.0, 'inf']]
        mappers:
          - type: westpa.core.binning.binless.BinlessMapper
            ngroups: 3
            ndims: 1
            group_function: westpa.core.binning.binless._binless_group_walkers_identity
            at: [0.0]
      bin_target_counts: 4
`;

function simDir(bins: string): string {
  return toyExampleDir((y) => {
    const out = y.replace(fixedBins, bins).replace(/max_total_iterations: \d+/, `max_total_iterations: ${ITERS}`);
    if (out === y) throw new Error('the demo config changed: update this test');
    return out;
  });
}

const INIT = ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '4'];
/**
 * `westream init` then `westream run` in `dir`, without blocking: the file's runs share nothing, so they all
 * start in beforeAll and run at once; each test awaits its own and asserts on it.
 */
async function initAndRun(dir: string): Promise<{ dir: string; init: CliResult; run: CliResult | null }> {
  const init = await westreamRun(dir, INIT);
  return { dir, init, run: init.code === 0 ? await westreamRun(dir, ['run']) : null };
}
/** Asserts both commands succeeded (with their output as the message); returns the run's. */
function succeeded(r: { init: CliResult; run: CliResult | null }): CliResult {
  expect(r.init.code, r.init.stderr).toBe(0);
  expect(r.run?.code, r.run?.stderr).toBe(0);
  return r.run as CliResult;
}
/** A Python module's command line in `cwd`, to completion, without blocking. */
async function pythonModule(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | string; out: string }> {
  const p = start('python3', ['-m', ...args], { cwd, env });
  const code = await p.exited;
  return { code, out: p.stdout + p.stderr };
}
const dump = (dir: string): Record<string, string> =>
  JSON.parse(python(`exec(open(${JSON.stringify(join(REPO, 'test/fixtures/dump_west_h5.py'))}).read())`, [join(dir, 'west.h5')])) as Record<string, string>;
/** `westream_adaptive_bins` of every iteration group, parsed. */
const recorded = (
  dir: string,
): Record<string, { type: string; firstBin: number; nbins: number; boundaries?: number[][]; minima?: number[]; maxima?: number[]; groupSizes?: number[] }[]> =>
  JSON.parse(
    python(
      "import h5py,json,sys\nf=h5py.File(sys.argv[1],'r')\nprint(json.dumps({k: json.loads(g.attrs['westream_adaptive_bins']) for k,g in f['iterations'].items() if 'westream_adaptive_bins' in g.attrs}))",
      [join(dir, 'west.h5')],
    ),
  ) as ReturnType<typeof recorded>;

interface BinLogEntry {
  nIter: number;
  boundaries: number[];
  lagging: number;
  leading: number;
}
function parseBinLog(text: string): BinLogEntry[] {
  return text
    .split('\n\n')
    .filter((b) => b.startsWith('Iteration:'))
    .map((b) => ({
      nIter: Number(/^Iteration: (\d+)/.exec(b)?.[1]),
      boundaries: (/MAB linear bin boundaries: \[([^\]]*)\]/.exec(b)?.[1] ?? '').trim().split(/\s+/).map(Number),
      lagging: Number(/Lagging pcoord in each dimension: \[np\.float32\(([^)]*)\)\]/.exec(b)?.[1]),
      leading: Number(/Leading pcoord in each dimension: \[np\.float32\(([^)]*)\)\]/.exec(b)?.[1]),
    }));
}

describe.skipIf(skip)('MAB and binless end to end (toy double well, real CLI)', () => {
  let mab: string;
  let mabRun: CliResult;
  let base: string;
  // started in beforeAll, all at once (they share nothing); awaited by the tests that assert on them
  let again: ReturnType<typeof initAndRun>;
  let binless: ReturnType<typeof initAndRun>;
  let outer: Promise<CliResult>;
  let westpa: Promise<{ dir: string; steps: { args: string[]; code: number | string; out: string }[] }>;

  beforeAll(async () => {
    const againDir = mkdtempSync(join(tmpdir(), 'westream-mab-again-'));
    cpSync(simDir(mabBins), againDir, { recursive: true });
    again = initAndRun(againDir);
    binless = initAndRun(simDir(binlessBins));
    outer = westreamRun(simDir('      bins:\n        type: MABBinMapper\n        nbins: [8]\n      bin_target_counts: 3\n'), INIT);
    westpa = noWestpa
      ? Promise.resolve({ dir: '', steps: [] }) // its test is skipped
      : (async () => {
          const dir = simDir(mabBins.replace('            mab_log: true\n', ''));
          for (const d of ['traj_segs', 'seg_logs', 'istates']) mkdirSync(join(dir, d));
          const env = childEnv({ WEST_SIM_ROOT: dir });
          const steps = [];
          for (const args of [
            ['westpa.cli.core.w_init', '-r', 'west.yaml', ...INIT.slice(1)],
            ['westpa.cli.core.w_run', '-r', 'west.yaml'],
          ]) {
            const r = await pythonModule(dir, args, env);
            steps.push({ args, ...r });
            if (r.code !== 0) break;
          }
          return { dir, steps };
        })();
    const first = await initAndRun((mab = simDir(mabBins)));
    mabRun = succeeded(first);
    const served = start(process.execPath, [WESTREAM, 'serve', '--api', '0'], { cwd: mab, env: childEnv({}) });
    // the serve's own start-up (h5wasm, fastify in its thread) took over 30 s at load 27 on 2 cores
    base = (await waitForLine(served, 'stdout', /REST API on (http:\/\/\S+) /, 120_000))[1] as string;
  }, 300_000);
  afterAll(() => reapStarted());

  it(`MAB nested in a recursive mapper: ${ITERS} iterations, the bins of every WE step in west.h5 and binbounds.log`, () => {
    const h5 = recorded(mab);
    // iteration 1 (from the start states) and each of the iterations 2..ITERS+1 the WE steps made
    expect(Object.keys(h5).sort()).toEqual(Array.from({ length: ITERS + 1 }, (_, i) => `iter_${String(i + 1).padStart(8, '0')}`));
    for (const recs of Object.values(h5)) {
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ type: 'MABBinMapper', firstBin: 2, nbins: 8 + 4 });
    }
    const log = parseBinLog(readFileSync(join(mab, 'binbounds.log'), 'utf8'));
    expect(log.map((e) => e.nIter)).toEqual(Array.from({ length: ITERS }, (_, i) => i + 1));
    log.forEach((e) => {
      const rec = h5[`iter_${String(e.nIter + 1).padStart(8, '0')}`]?.[0];
      expect(e.boundaries).toHaveLength(9);
      expect(e.boundaries[0]).toBe(e.lagging);
      expect(e.boundaries[8]).toBe(e.leading);
      for (let i = 1; i < 9; i++) expect(e.boundaries[i] as number).toBeGreaterThan(e.boundaries[i - 1] as number);
      // the log prints numpy's way: a float32's shortest form, equal to west.h5's record once rounded to float32,
      // unless that form has over 8 decimals (numpy prints float32(0.047780752) in an array as 0.04778075):
      // then the record rounded to 8 decimals (the exact text is checked against w_run's below)
      expect(e.boundaries).toHaveLength(rec?.boundaries?.[0]?.length ?? -1);
      e.boundaries.forEach((b, i) => {
        const r = rec?.boundaries?.[0]?.[i] as number;
        expect(Math.fround(b) === r || Math.abs(b - r) <= 5.0000001e-9, `iteration ${e.nIter} boundary ${i}: ${b} logged, ${r} recorded`).toBe(true);
      });
      expect(e.lagging).toBeGreaterThanOrEqual(-1);
      expect(e.leading).toBeLessThan(1);
    });
    // the bins move with the walkers: they do not stay where they started
    expect(new Set(log.map((e) => e.leading)).size).toBeGreaterThan(1);
    expect(mabRun.stdout).toMatch(/MAB stats, iteration 1: minima \[np\.float32\(/);
  });

  it('GET /iterations/:n serves the adaptive bins; they span exactly the walkers of the MAB region', async () => {
    const labels = new Set<string>();
    for (let n = 2; n <= ITERS; n++) {
      const it = (await (await fetch(`${base}/iterations/${n}`)).json()) as {
        adaptiveBins: { type: string; firstBin: number; boundaries: number[][]; minima: number[]; maxima: number[] }[] | null;
        bins: { bin: number; label: string; count: number }[];
      };
      expect(it.adaptiveBins).not.toBeNull();
      const [rec] = it.adaptiveBins ?? [];
      expect(rec).toMatchObject({ type: 'MABBinMapper', firstBin: 2 });
      // made by the WE step at the end of iteration n-1: from its final points inside [-1, 1)
      const prev = (await (await fetch(`${base}/iterations/${n - 1}/segments?limit=1000`)).json()) as { segments: { finalPcoord: number[] }[] };
      const inRegion = prev.segments
        .map((s) => s.finalPcoord[0] as number)
        .filter((x) => x >= -1 && x < 1)
        .map(Math.fround);
      expect(rec?.minima).toEqual([Math.min(...inRegion)]);
      expect(rec?.maxima).toEqual([Math.max(...inRegion)]);
      expect(rec?.boundaries[0]?.[0]).toBe(Math.min(...inRegion));
      // the occupancy uses the MAB's bins and labels, special bins included
      for (const b of it.bins) {
        expect(b.bin).toBeLessThan(2 + 12);
        if (b.bin >= 2) expect(b.label).toMatch(/^\[-1, 1\) \/ MAB /);
        labels.add(b.label.replace(/ \d+$/, ''));
      }
    }
    expect(labels).toContain('[-1, 1) / MAB linear');
    const one = (await (await fetch(`${base}/iterations/1`)).json()) as { adaptiveBins: unknown[]; bins: { label: string }[] };
    expect(one.adaptiveBins).toHaveLength(1); // the start states, binned together as WESTPA's MAB driver does
    expect(one.bins.some((b) => /MAB (leading|lagging|forward bottleneck|reverse bottleneck) walker/.test(b.label))).toBe(true);
  });

  it('the same seed gives the same west.h5, adaptive bins included', async () => {
    const second = await again;
    succeeded(second);
    const a = dump(mab);
    const b = dump(second.dir);
    expect(Object.keys(a).some((k) => k.endsWith('@westream_adaptive_bins'))).toBe(true);
    expect([...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k])).toEqual([]);
  }, 300_000);

  it.skipIf(noWestpa)(
    "binbounds.log in WESTPA's layout: w_run on the same config writes entries that binLogEntry renders byte for byte from their numbers",
    async () => {
      const { dir, steps } = await westpa;
      expect(steps.map((s) => s.args[0])).toEqual(['westpa.cli.core.w_init', 'westpa.cli.core.w_run']);
      for (const s of steps) expect(s.code, `${s.args[0]}: ${s.out}`).toBe(0);
      const theirs = readFileSync(join(dir, 'binbounds.log'), 'utf8').split(/(?=^Iteration: )/m);
      expect(theirs).toHaveLength(ITERS);
      const nums = (t: string | undefined): number[] =>
        (t ?? '')
          .trim()
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number);
      for (const entry of theirs) {
        const n = Number(/^Iteration: (\d+)/.exec(entry)?.[1]);
        const bn = (which: string): number[] | null => {
          const m = new RegExp(`Dimension 0 ${which} bottleneck walker at: \\[(?:array\\(\\[([^\\]]*)\\], dtype=float32\\)|None)\\]`).exec(entry);
          return m?.[1] === undefined ? null : nums(m[1]);
        };
        const [filled, max] = nums(/Number of bottleneck bins filled: (\d+) \/ (\d+)/.exec(entry)?.slice(1).join(' '));
        const rec = {
          type: 'MABBinMapper' as const,
          firstBin: 2,
          nbins: 12,
          nPoints: 0,
          boundaries: [nums(/MAB linear bin boundaries: \[([^\]]*)\]/.exec(entry)?.[1])],
          minima: [Number(/Lagging pcoord in each dimension: \[np\.float32\(([^)]*)\)\]/.exec(entry)?.[1])],
          maxima: [Number(/Leading pcoord in each dimension: \[np\.float32\(([^)]*)\)\]/.exec(entry)?.[1])],
          bottlenecksForward: [bn('forward')],
          bottlenecksReverse: [bn('backward')],
          nBottleneckFilled: filled as number,
          maxBottleneck: max as number,
        };
        expect(rec.boundaries[0]).toHaveLength(9);
        expect(binLogEntry(n, rec, { bottleneck: true, direction: [0], skip: [0] })).toBe(entry);
      }
    },
    600_000,
  );

  it('a MAB as the outer mapper with a target state: init refuses, saying to nest it', async () => {
    const r = await outer;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/MABBinMapper cannot be the outer bin mapper when there are target states; nest it in a RecursiveBinMapper/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a user's mistake: no stack trace
  });

  it('binless nested in a recursive mapper runs and records its groups', async () => {
    const r = await binless;
    succeeded(r);
    const h5 = recorded(r.dir);
    expect(Object.keys(h5).length).toBeGreaterThanOrEqual(ITERS);
    for (const recs of Object.values(h5)) {
      expect(recs[0]).toMatchObject({ type: 'BinlessMapper', firstBin: 2, nbins: 3 });
      // WESTPA's default grouping: every walker of the region in group 0
      expect(recs[0]?.groupSizes?.slice(1)).toEqual([0, 0]);
      expect(recs[0]?.groupSizes?.[0]).toBeGreaterThan(0);
    }
  }, 300_000);
});

// The WE step (MAB's bins included) runs in the sim-manager whatever the work manager: through BullMQ worker
// daemons the same seed must give the same west.h5 as the local run, dataset for dataset.
describe.skipIf(skip || noRedis)('MAB and binless through BullMQ worker daemons', () => {
  const redis = redisForSuite();
  const short = (bins: string): string => {
    const dir = simDir(bins);
    const cfg = join(dir, 'west.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(`max_total_iterations: ${ITERS}`, 'max_total_iterations: 3'));
    return dir;
  };

  it.each([
    ['MAB nested in a recursive mapper', mabBins],
    ['binless nested in a recursive mapper', binlessBins],
  ])(
    '%s: the same west.h5 as the local run of the same seed',
    async (_name, bins) => {
      await startWorkerDaemons(redis(), ['adaptive-a', 'adaptive-b']);
      const local = short(bins);
      const remote = mkdtempSync(join(tmpdir(), 'westream-adaptive-bullmq-'));
      cpSync(local, remote, { recursive: true });
      const [l, r] = await Promise.all([
        initAndRun(local),
        (async () => {
          const init = await westreamRun(remote, INIT);
          return { dir: remote, init, run: init.code === 0 ? await westreamRun(remote, ['run', '--work-manager', 'bullmq', '--redis', redis().url]) : null };
        })(),
      ]);
      succeeded(l);
      succeeded(r);
      const a = dump(local);
      const b = dump(remote);
      expect(Object.keys(a).some((k) => k.endsWith('@westream_adaptive_bins'))).toBe(true);
      expect([...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k])).toEqual([]);
    },
    300_000,
  );
});
