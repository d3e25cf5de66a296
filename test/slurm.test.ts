/**
 * westpa-scripts/slurm on a real single-node SLURM (Debian's slurm-wlm and munge, started privately): two
 * worker jobs and a sim-manager job run a WE simulation over BullMQ; one worker job is cancelled mid-run; the
 * simulation completes, with the same record as a local run of the same seed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { until as waitUntil } from './support/processes.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { startSlurm, type PrivateSlurm } from './support/slurm.js';
import { childEnv, demoSimDir, pcoordsOf, REPO, slowSegments, westream } from './support/sim-dir.js';

const skip =
  skipWithoutPeer('SLURM (Debian slurm-wlm)', commandMissing('slurmctld', 'apt-get install slurm-wlm munge')) ||
  skipWithoutPeer('munge (Debian)', commandMissing('munged', 'apt-get install munge')) ||
  skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server')) ||
  skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

let slurm: PrivateSlurm | undefined;
let redis: PrivateRedis | undefined;
const jobs: string[] = [];
beforeAll(async () => {
  if (skip) return;
  slurm = await startSlurm();
  redis = await startRedis();
}, 60_000);
afterAll(async () => {
  if (jobs.length > 0) slurm?.run('scancel', jobs);
  await new Promise((r) => setTimeout(r, 500));
  slurm?.stop();
  await redis?.stop();
});

const until = (what: string, ok: () => boolean, ms = 90_000): Promise<void> => waitUntil(what, ok, { ms, every: 200 });
const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');

describe.skipIf(skip)('SLURM: worker jobs and a sim-manager job', () => {
  it('two worker jobs, scancel one mid-run: the run completes with the record of a local run', async () => {
    const s = slurm as PrivateSlurm;
    const edit = (y: string): string => y.replace('max_total_iterations: 40', 'max_total_iterations: 4');
    const local = demoSimDir(edit);
    expect(westream(local, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '3']).code).toBe(0);
    expect(westream(local, ['run']).code).toBe(0);

    const dir = demoSimDir(edit);
    slowSegments(dir);
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '3']).code).toBe(0);

    const env = {
      ...childEnv({ SEG_SLEEP: '0.3' }),
      ...s.env,
      PATH: `${join(REPO, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      WESTREAM_REDIS: (redis as PrivateRedis).url,
    } as Record<string, string>;
    const sbatch = (script: string, out: string, extra: string[] = []): string => {
      const r = s.run(
        'sbatch',
        ['--parsable', '--chdir', dir, `--output=${join(s.dir, out)}`, '--export=ALL', ...extra, join(REPO, 'westpa-scripts/slurm', script)],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim().split(';')[0] as string;
      jobs.push(id);
      return id;
    };
    const w1 = sbatch('workers.sbatch', 'w1.out', ['--cpus-per-task=1']);
    const w2 = sbatch('workers.sbatch', 'w2.out', ['--cpus-per-task=1']);
    await until('both worker daemons ready', () => /ready: 1 slot/.test(read(join(s.dir, 'w1.out'))) && /ready: 1 slot/.test(read(join(s.dir, 'w2.out'))));
    const sm = sbatch('sim-manager.sbatch', 'sim.out');

    // Mid-run: once iteration 2 is under way and the first worker job has taken a segment in it.
    await until('iteration 2 on worker job 1', () => /-i2-s\d+: started/.test(read(join(s.dir, 'w1.out'))));
    expect(s.run('scancel', [w1]).code).toBe(0);
    const state = (id: string): string => /JobState=(\S+)/.exec(s.run('scontrol', ['show', 'job', id]).stdout)?.[1] ?? '?';
    await until('the sim-manager job to end', () => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(state(sm)), 180_000);
    const simOut = read(join(s.dir, 'sim.out'));
    expect(state(sm), simOut).toBe('COMPLETED');
    expect(/ExitCode=(\S+)/.exec(s.run('scontrol', ['show', 'job', sm]).stdout)?.[1]).toBe('0:0');
    expect(simOut).toMatch(/reached max_total_iterations/);
    expect(state(w1)).toBe('CANCELLED');
    // The other job's daemon carried the run on after the cancel.
    expect(read(join(s.dir, 'w2.out'))).toMatch(/-i4-s\d+: complete/);
    expect(pcoordsOf(dir)).toEqual(pcoordsOf(local));
    expect(s.run('scancel', [w2]).code).toBe(0);
  }, 300_000);
});
