/**
 * kill -9 `westream run` at random instants, run it again, and compare the final west.h5 with an undisturbed
 * run of the same seed: every dataset and attribute must be equal (cputime and walltime aside, which differ
 * between any two runs). Also: no process of the killed run outlives the restart.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@westream/we';
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { survivors } from './support/processes.js';
import { frameworkSimRoot } from './support/hdf5-framework.js';
import { python, pythonAsync, REPO, westream, westreamAsync, westreamRun } from './support/sim-dir.js';

const TRIALS = 20;
const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const DUMP = `exec(open(${JSON.stringify(join(REPO, 'test/fixtures/dump_west_h5.py'))}).read())`;
const dumpFile = (file: string): Record<string, string> => JSON.parse(python(DUMP, [file])) as Record<string, string>;
const dump = (dir: string): Record<string, string> => dumpFile(join(dir, 'west.h5'));
const dumpFileAsync = async (file: string): Promise<Record<string, string>> => JSON.parse(await pythonAsync(DUMP, [file])) as Record<string, string>;

function copyOf(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-crash-'));
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** Runs `westream run` in `dir`, SIGKILLs it after `delayMs`, runs it again to the end: whether the kill landed mid-run. */
async function killThenResume(dir: string, args: string[], delayMs: number, trial: number): Promise<boolean> {
  const child = westreamAsync(dir, args);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  const code = await exited;
  clearTimeout(timer);
  const resumed = await westreamRun(dir, args);
  expect(resumed.code, `trial ${trial}: ${resumed.stderr}`).toBe(0);
  return code === null;
}

/**
 * Runs trials 0…n−1 in two lanes at once: each trial has its own sim root, so they share nothing but the
 * machine. The kill instants were drawn from one undisturbed run's duration; two at a time, runs take longer, so
 * an instant lands earlier in its run, never past a point the run reaches.
 */
async function inLanes(n: number, trial: (t: number) => Promise<void>, lanes = 2): Promise<void> {
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let t = lane; t < n; t += lanes) await trial(t);
    }),
  );
}

function diff(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

describe.skipIf(skip)(`crash recovery: kill -9 at ${TRIALS} random instants`, () => {
  let template: string;
  let reference: Record<string, string>;
  let runSeconds: number;

  beforeAll(() => {
    template = mkdtempSync(join(tmpdir(), 'westream-crash-template-'));
    cpSync(join(REPO, 'test/fixtures/randomwalk'), template, { recursive: true });
    const init = westream(template, ['init', '--bstate', 'origin,1.0,origin', '--tstate', 'far,2.0', '--segs-per-state', '4']);
    expect(init.code, init.stderr).toBe(0);
    const ref = copyOf(template);
    const t0 = performance.now();
    const run = westream(ref, ['run']);
    runSeconds = (performance.now() - t0) / 1000;
    expect(run.code, run.stderr).toBe(0);
    reference = dump(ref);
    // The run must exercise recycling, or the comparison proves less than it claims.
    expect(Object.keys(reference).some((k) => k.includes('new_weights'))).toBe(true);
  }, 120_000);

  it('a second undisturbed run with the same seed writes the same west.h5 (the baseline of the comparison)', () => {
    const again = copyOf(template);
    expect(westream(again, ['run']).code).toBe(0);
    expect(diff(dump(again), reference)).toEqual([]);
  }, 120_000);

  it('truncate -n N then run gives the record of the undisturbed run (like w_truncate)', () => {
    const dir = copyOf(template);
    expect(westream(dir, ['run']).code).toBe(0);
    const t = westream(dir, ['truncate', '-n', '6']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('current iteration is now 5');
    const status = JSON.parse(westream(dir, ['status', '--json']).stdout) as { currentIteration: number };
    expect(status.currentIteration).toBe(5);
    const truncated = dump(dir);
    expect(Object.keys(truncated).some((k) => k.startsWith('iterations/iter_00000006'))).toBe(false);
    expect(westream(dir, ['run']).code).toBe(0);
    expect(diff(dump(dir), reference)).toEqual([]);
    expect(westream(dir, ['truncate', '-n', '99']).stderr).toContain('N must be between 2 and the current iteration (13)');
  }, 120_000);

  it('every killed run, restarted, ends with the west.h5 of the undisturbed run and leaves no orphan', async () => {
    const rng = Rng.derive(20261121n, 7);
    const delays = Array.from({ length: TRIALS }, () => 50 + rng.float64() * runSeconds * 1000 * 0.9);
    const outcomes: string[] = [];
    let killedMidway = 0;
    await inLanes(TRIALS, async (trial) => {
      const dir = copyOf(template);
      const delay = delays[trial] as number;
      const midway = await killThenResume(dir, ['run'], delay, trial);
      if (midway) killedMidway++;
      const d = diff(await dumpFileAsync(join(dir, 'west.h5')), reference);
      outcomes.push(`trial ${trial}: killed after ${delay.toFixed(0)} ms${midway ? '' : ' (had already finished)'}; differing: ${d.join(', ') || 'none'}`);
      expect(d, outcomes.join('\n')).toEqual([]);
      expect(survivors(dir), `trial ${trial}: processes of the killed run survived the restart`).toEqual([]);
      expect(existsSync(join(dir, '.west.h5.westream-tmp'))).toBe(false);
    });
    // Most instants must land inside the run, or the trials test nothing.
    expect(killedMidway).toBeGreaterThanOrEqual(TRIALS * 0.75);
  }, 600_000);
});

// WESTPA's HDF5 framework: each iteration also writes traj_segs/iter_NNNNNN.h5 (trajectories, restarts, logs),
// written whole and renamed before west.h5 commits the iteration. Killed anywhere, the resumed run must leave
// the same iteration files as the undisturbed one, byte for byte in every dataset, and no partial file.
const FRAMEWORK_TRIALS = 8;
const skipFramework = skip || skipWithoutPeer('python westpa (PyPI)', pythonModuleMissing('westpa'));

/** west.h5 and every iteration file, as digests keyed by file and object (the dumps run side by side). */
async function frameworkDump(dir: string): Promise<Record<string, string>> {
  const files = ['west.h5', ...readdirSync(join(dir, 'traj_segs')).filter((n) => n.endsWith('.h5'))];
  const dumps = await Promise.all(files.map((f) => dumpFileAsync(f === 'west.h5' ? join(dir, f) : join(dir, 'traj_segs', f))));
  const out: Record<string, string> = {};
  files.forEach((f, i) => {
    for (const [k, v] of Object.entries(dumps[i] ?? {})) out[`${f} ${k}`] = v;
  });
  return out;
}

describe.skipIf(skipFramework)(`crash recovery with WESTPA's HDF5 framework: kill -9 at ${FRAMEWORK_TRIALS} random instants`, () => {
  let template: string;
  let reference: Record<string, string>;
  let runSeconds: number;

  beforeAll(async () => {
    template = frameworkSimRoot({ iterations: 4, init: ['--tstate', 'far,0.6'] });
    const ref = copyOf(template);
    const t0 = performance.now();
    const run = westream(ref, ['run', '--config', 'west.cfg']);
    runSeconds = (performance.now() - t0) / 1000;
    expect(run.code, run.stderr).toBe(0);
    reference = await frameworkDump(ref);
    expect(Object.keys(reference).filter((k) => k.startsWith('iter_000004.h5 restart/')).length).toBeGreaterThan(0);
    // A second undisturbed run gives the same files: the baseline of the comparison.
    const again = copyOf(template);
    expect(westream(again, ['run', '--config', 'west.cfg']).code).toBe(0);
    expect(diff(await frameworkDump(again), reference)).toEqual([]);
  }, 240_000);

  it("every killed run, restarted, ends with the undisturbed run's west.h5 and iteration files, and no partial file", async () => {
    const rng = Rng.derive(20261204n, 18);
    const delays = Array.from({ length: FRAMEWORK_TRIALS }, () => 50 + rng.float64() * runSeconds * 1000 * 0.9);
    const outcomes: string[] = [];
    let killedMidway = 0;
    await inLanes(FRAMEWORK_TRIALS, async (trial) => {
      const dir = copyOf(template);
      const delay = delays[trial] as number;
      const midway = await killThenResume(dir, ['run', '--config', 'west.cfg'], delay, trial);
      if (midway) killedMidway++;
      const d = diff(await frameworkDump(dir), reference);
      outcomes.push(`trial ${trial}: killed after ${delay.toFixed(0)} ms${midway ? '' : ' (had already finished)'}; differing: ${d.join(', ') || 'none'}`);
      expect(d, outcomes.join('\n')).toEqual([]);
      expect(
        readdirSync(join(dir, 'traj_segs')).filter((n) => !/^iter_\d{6}\.h5$/.test(n) && !/^\d{6}$/.test(n)),
        `trial ${trial}: files left in traj_segs`,
      ).toEqual([]);
      expect(survivors(dir), `trial ${trial}: processes of the killed run survived the restart`).toEqual([]);
    });
    expect(killedMidway).toBeGreaterThanOrEqual(FRAMEWORK_TRIALS * 0.75);
  }, 600_000);
});
