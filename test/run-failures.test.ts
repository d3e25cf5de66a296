/**
 * The loop's side of failures: a segment that keeps failing is retried, then the run halts naming it and its
 * log, west.h5 records it as FAILED, and the next `westream run` re-runs only what did not complete. The same
 * scenarios run on both work managers: local, and BullMQ with a worker daemon and a private Redis.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, waitForLine } from './support/processes.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, python, REPO, WESTREAM, westream, westreamRun, type CliResult } from './support/sim-dir.js';

const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const noRedis = skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

/** How a scenario runs `westream run` on one work manager (asynchronously: a worker daemon's pipes stay read). */
interface Manager {
  readonly name: 'local' | 'bullmq';
  runArgs(): string[];
}
const local: Manager = { name: 'local', runArgs: () => [] };
let redis: PrivateRedis | undefined;
const bullmq: Manager = { name: 'bullmq', runArgs: () => ['--work-manager', 'bullmq', '--redis', (redis as PrivateRedis).url] };

beforeAll(async () => {
  if (skip || noRedis) return;
  redis = await startRedis();
  const w = start(
    process.execPath,
    [WESTREAM, 'worker', '--redis', redis.url, '--node-id', 'failures-node', '--slots', '2', '--state-dir', join(redis.dir, 'state')],
    { env: childEnv() },
  );
  await waitForLine(w, 'stdout', /ready: 2 slot/);
}, 60_000);
afterAll(async () => {
  reapStarted();
  await redis?.stop();
});

const run = (dir: string, wm: Manager): Promise<CliResult> => westreamRun(dir, ['run', ...wm.runArgs()]);

function simDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-fail-'));
  cpSync(join(REPO, 'test/fixtures/randomwalk'), dir, { recursive: true });
  const runseg = readFileSync(join(dir, 'runseg.sh'), 'utf8').replace(
    'cd "$WEST_CURRENT_SEG_DATA_REF"',
    [
      'echo "$WEST_CURRENT_ITER $WEST_CURRENT_SEG_ID" >> "$WEST_SIM_ROOT/ran.txt"',
      'if [ "$WEST_CURRENT_ITER" = 3 ] && [ "$WEST_CURRENT_SEG_ID" = 2 ] && [ ! -e "$WEST_SIM_ROOT/fixed" ]; then',
      '  echo "engine: cannot read topology.top" >&2; exit 1',
      'fi',
      'cd "$WEST_CURRENT_SEG_DATA_REF"',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'runseg.sh'), runseg);
  writeFileSync(join(dir, 'west.yaml'), readFileSync(join(dir, 'west.yaml'), 'utf8').replace('max_total_iterations: 12', 'max_total_iterations: 5'));
  return dir;
}

describe.skipIf(skip).each([local, ...(noRedis ? [] : [bullmq])])('a segment that keeps failing ($name work manager)', (wm) => {
  it('halts the run with its name, reason and log; the next run re-runs only it and ends like an undisturbed run', async () => {
    const dir = simDir();
    expect(westream(dir, ['init', '--bstate', 'origin,1,origin', '--tstate', 'far,2.0', '--segs-per-state', '4']).code).toBe(0);
    const halted = await run(dir, wm);
    expect(halted.code).toBe(3);
    expect(halted.stderr).toContain('propagation failed for 1 segment(s) of iteration 3 after 3 attempt(s) each');
    expect(halted.stderr).toContain('segment 2 of iteration 3 (attempt 3):');
    expect(halted.stderr).toContain('runseg.sh exited with status 1');
    expect(halted.stderr).toContain(join(dir, 'seg_logs/000003-000002.log'));
    expect(halted.stderr).toContain('engine: cannot read topology.top');
    expect(halted.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const status = JSON.parse(westream(dir, ['status', '--json']).stdout) as {
      currentIteration: number;
      segments: { failed: number; complete: number; total: number };
    };
    expect(status.currentIteration).toBe(3);
    expect(status.segments.failed).toBe(1);
    expect(status.segments.complete).toBe(status.segments.total - 1);
    const statuses = python("import h5py,sys; f=h5py.File(sys.argv[1]); print([int(x) for x in f['iterations/iter_00000003/seg_index']['status']])", [
      join(dir, 'west.h5'),
    ]);
    expect(statuses).toMatch(/^\[2, 2, 3, 2/);

    appendFileSync(join(dir, 'ran.txt'), '--- resumed\n');
    writeFileSync(join(dir, 'fixed'), '');
    const resumed = await run(dir, wm);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = readFileSync(join(dir, 'ran.txt'), 'utf8').split('--- resumed\n')[1] as string;
    const iter3 = after.split('\n').filter((l) => l.startsWith('3 '));
    expect(iter3).toEqual(['3 2']); // only the failed segment ran again

    // The same seed without the failure gives the same record.
    const clean = simDir();
    writeFileSync(join(clean, 'fixed'), '');
    expect(westream(clean, ['init', '--bstate', 'origin,1,origin', '--tstate', 'far,2.0', '--segs-per-state', '4']).code).toBe(0);
    expect((await run(clean, wm)).code).toBe(0);
    const dump = (d: string): string => python(`exec(open(${JSON.stringify(join(REPO, 'test/fixtures/dump_west_h5.py'))}).read())`, [join(d, 'west.h5')]);
    expect(dump(dir)).toBe(dump(clean));
  }, 120_000);

  it('Ctrl-C (SIGINT to the whole process group) stops cleanly with exit 130; the next run resumes to the same record', async () => {
    const dir = simDir();
    writeFileSync(join(dir, 'fixed'), '');
    writeFileSync(join(dir, 'runseg.sh'), readFileSync(join(dir, 'runseg.sh'), 'utf8').replace('set -euo pipefail', 'set -euo pipefail\nsleep 0.05'));
    expect(westream(dir, ['init', '--bstate', 'origin,1,origin', '--tstate', 'far,2.0', '--segs-per-state', '4']).code).toBe(0);
    const clean = mkdtempSync(join(tmpdir(), 'westream-fail-clean-'));
    cpSync(dir, clean, { recursive: true });
    const child = spawn(process.execPath, [WESTREAM, 'run', ...wm.runArgs()], { cwd: dir, env: childEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Ctrl-C once the run is under way (a signal during start-up ends the process before it has a handler).
    const code = await new Promise<number | null>((res) => {
      const poll = setInterval(() => {
        if (!/"iteration started"/.test(out)) return;
        clearInterval(poll);
        setTimeout(() => process.kill(-(child.pid as number), 'SIGINT'), 200);
      }, 20);
      child.once('exit', (c) => {
        clearInterval(poll);
        res(c);
      });
    });
    expect(code).toBe(130);
    expect(out).toContain('SIGINT: stopping');
    expect(out).not.toContain('failed');
    expect((await run(dir, wm)).code).toBe(0);
    expect((await run(clean, wm)).code).toBe(0);
    const dump = (d: string): string => python(`exec(open(${JSON.stringify(join(REPO, 'test/fixtures/dump_west_h5.py'))}).read())`, [join(d, 'west.h5')]);
    expect(dump(dir)).toBe(dump(clean));
  }, 120_000);
});

describe.skipIf(skip)('bad input to init and run', () => {
  it('refuses a config whose pcoord shape differs from the record, and bad state arguments, without a stack trace', () => {
    const dir = simDir();
    let r = westream(dir, ['init', '--bstate', 'origin,-1', '--tstate', 'far,2.0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--bstate 'origin,-1': expected 'label probability [auxref]' with a positive probability");
    r = westream(dir, ['init', '--bstate', 'origin,1,origin', '--tstate', 'far']);
    expect(r.stderr).toContain("--tstate 'far': expected 'label' and 1 pcoord value(s)");
    expect(westream(dir, ['init', '--bstate', 'origin,1,origin']).code).toBe(0);
    r = westream(dir, ['init', '--bstate', 'origin,1,origin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('west.h5 exists; pass --force');
    writeFileSync(join(dir, 'west.yaml'), readFileSync(join(dir, 'west.yaml'), 'utf8').replace('pcoord_len: 5', 'pcoord_len: 6'));
    r = westream(dir, ['run']);
    expect(r.code).toBe(2); // the user's input (SIM_ERR_RECORD_MISMATCH), not failed segments
    expect(r.stderr).toContain('holds pcoords of shape (5, 1) but the config says pcoord_len 6');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
