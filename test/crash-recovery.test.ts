/**
 * kill -9 `westream run` at random instants, run it again, and compare the final west.h5 with an undisturbed
 * run of the same seed: every dataset and attribute must be equal (cputime and walltime aside, which differ
 * between any two runs). Also: no process of the killed run outlives the restart.
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@westream/we';
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { survivors } from './support/processes.js';
import { python, REPO, westream, westreamAsync } from './support/sim-dir.js';

const TRIALS = 20;
const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const dump = (dir: string): Record<string, string> =>
  JSON.parse(python(`exec(open(${JSON.stringify(join(REPO, 'test/fixtures/dump_west_h5.py'))}).read())`, [join(dir, 'west.h5')])) as Record<string, string>;

function copyOf(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-crash-'));
  cpSync(template, dir, { recursive: true });
  return dir;
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
    const outcomes: string[] = [];
    let killedMidway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = copyOf(template);
      const delay = 50 + rng.float64() * runSeconds * 1000 * 0.9;
      const child = westreamAsync(dir, ['run']);
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) killedMidway++;
      const resumed = westream(dir, ['run']);
      expect(resumed.code, `trial ${trial}: ${resumed.stderr}`).toBe(0);
      const d = diff(dump(dir), reference);
      outcomes.push(
        `trial ${trial}: killed after ${delay.toFixed(0)} ms${code === null ? '' : ' (had already finished)'}; differing: ${d.join(', ') || 'none'}`,
      );
      expect(d, outcomes.join('\n')).toEqual([]);
      expect(survivors(dir), `trial ${trial}: processes of the killed run survived the restart`).toEqual([]);
      expect(existsSync(join(dir, '.west.h5.westream-tmp'))).toBe(false);
    }
    // Most instants must land inside the run, or the trials test nothing.
    expect(killedMidway).toBeGreaterThanOrEqual(TRIALS * 0.75);
  }, 600_000);
});
