/**
 * issue 14 items 7, 8, 9 through the real `westream` command: what a run leaves behind and who may share its
 * sim root or a worker's state directory. A `setsid` child of runseg.sh outlived its run; the next run then
 * said it had been left "by an earlier westream run that was killed", which it was not. /dev/shm kept the
 * return-file directories of runs killed with -9. Two daemons with one node id killed each other's engines,
 * and two runs could share a sim root.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleReturnDirs, returnsParent } from '@westream/propagator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, survivors, until, waitForLine } from './support/processes.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, demoSimDir, westream, westreamAsync, WESTREAM } from './support/sim-dir.js';

afterAll(reapStarted);

/** The demo, initialised, its runseg.sh starting with `extra` (max_total_iterations: `iters`). */
function sim(extra: string, iters = 2): string {
  const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', `max_total_iterations: ${iters}`));
  const p = join(dir, 'westpa_scripts/runseg.sh');
  writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', `set -euo pipefail\n${extra}\n`));
  chmodSync(p, 0o755);
  expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '1']).code).toBe(0);
  return dir;
}

const returnsDirsOf = (pid: number): string[] => readdirSync(returnsParent()).filter((n) => n.startsWith(`westream-returns-${pid}.`));

describe('issue14-7 a setsid child ends with its segment; the next run says nothing untrue', () => {
  it('issue14-7 runseg.sh starting `setsid sleep 612 &`: nothing survives the run, and the next run reports no leftovers', () => {
    const dir = sim('setsid sleep 612 < /dev/null > /dev/null 2>&1 &');
    const r = westream(dir, ['run']);
    expect(r.code, r.stderr).toBe(0);
    expect(survivors(dir), 'processes left running after the run').toEqual([]);
    const again = westream(dir, ['run']); // nothing to do (max_total_iterations reached), but it reaps first
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).not.toMatch(/killed \d+ process\(es\)/);
  }, 120_000);
});

describe('issue14-8 return-file directories of dead runs are removed', () => {
  it("issue14-8 a run killed with -9 leaves its directory in /dev/shm; the next run removes it (and only dead owners' ones)", async () => {
    const dir = sim('sleep 0.5', 30);
    const run = westreamAsync(dir, ['run']);
    const pid = run.pid as number;
    await until('the run to have made its return-file directory', () => returnsDirsOf(pid).length > 0, { ms: 60_000 });
    const [left] = returnsDirsOf(pid);
    // While its owner lives, the directory is never touched.
    expect(removeStaleReturnDirs().some((p) => p.endsWith(left as string))).toBe(false);
    expect(existsSync(join(returnsParent(), left as string))).toBe(true);
    run.kill('SIGKILL');
    await new Promise((r) => run.once('close', r));
    expect(existsSync(join(returnsParent(), left as string))).toBe(true); // the attack: it stays
    // The next run: it removes the dead run's directory and says so.
    writeFileSync(join(dir, 'westpa_scripts/runseg.sh'), readFileSync(join(dir, 'westpa_scripts/runseg.sh'), 'utf8').replace('sleep 0.5\n', ''));
    const next = westreamAsync(dir, ['run']);
    let out = '';
    next.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    next.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    await until('the next run to remove the directory', () => !existsSync(join(returnsParent(), left as string)), { ms: 60_000, context: () => out });
    await until('the next run to say so', () => /removed \d+ return-file directory\(ies\) of westream processes that died/.test(out), {
      ms: 30_000,
      context: () => out,
    });
    expect(out).toContain(left);
    next.kill('SIGINT');
    await new Promise((r) => next.once('close', r));
  }, 180_000);
});

describe('issue14-9 one live run per sim root', () => {
  it("issue14-9 a second `westream run` on a live run's sim root is refused, naming its pid; the first goes on", async () => {
    const dir = sim('sleep 0.3', 3);
    const first = westreamAsync(dir, ['run']);
    let out = '';
    first.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    first.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    await until('the first run to be propagating', () => existsSync(join(dir, 'traj_segs/000001')), { ms: 60_000, context: () => out });
    const second = westream(dir, ['run']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`another westream run \\(pid ${first.pid}\\) is running in this sim root .*kill -INT ${first.pid}`));
    expect(second.stderr).not.toMatch(/internal error|\n\s+at /);
    // Nor may init --force or truncate rebuild or cut the west.h5 it is writing.
    const reinit = westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '1', '--force']);
    expect(reinit.code, reinit.stderr).toBe(2);
    expect(reinit.stderr).toMatch(
      new RegExp(
        `another westream run \\(pid ${first.pid}\\) is running in this sim root .*re-initialising would replace the west.h5 it is writing.*kill -INT ${first.pid}\\), then run init again`,
      ),
    );
    const truncate = westream(dir, ['truncate', '-n', '2']);
    expect(truncate.code, truncate.stderr).toBe(2);
    expect(truncate.stderr).toMatch(new RegExp(`another westream run \\(pid ${first.pid}\\).*truncating would cut iterations`));
    const code = await new Promise((r) => first.once('close', r));
    expect(code, out).toBe(0); // and its record is whole: it ran to the end
    expect(JSON.parse(westream(dir, ['status', '--json']).stdout)).toMatchObject({ currentIteration: 4 });
    // Its lock went with it: a run now starts (and finds nothing left to do).
    expect(westream(dir, ['run']).code).toBe(0);
    // And once it has ended, truncate works again (it took and released the same lock).
    const t = westream(dir, ['truncate', '-n', '3']);
    expect(t.code, t.stderr).toBe(0);
  }, 180_000);
});

const skipRedis = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

describe.skipIf(skipRedis)('issue14-9 one live worker per node state directory', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('issue14-9 a second `westream worker --node-id X` on the same state dir is refused while the first lives, naming its pid', async () => {
    const stateDir = join(redis.dir, 'state-nodeA');
    const args = [WESTREAM, 'worker', '--redis', redis.url, '--node-id', 'nodeA', '--state-dir', stateDir, '--slots', '1', '--heartbeat', '1'];
    const first = start(process.execPath, args, { env: childEnv() });
    await waitForLine(first, 'stdout', /ready: 1 slot/);
    const second = start(process.execPath, args, { env: childEnv() });
    expect(await second.exited).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(
        `another westream worker \\(pid ${first.child.pid}\\) is running with the state directory ${stateDir} \\(node id nodeA\\): two daemons with one node id would kill each other's engines`,
      ),
    );
    expect(first.child.exitCode).toBeNull(); // untouched
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Stopped, it released the lock: the next one starts.
    const third = start(process.execPath, args, { env: childEnv() });
    await waitForLine(third, 'stdout', /ready: 1 slot/);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 120_000);
});
