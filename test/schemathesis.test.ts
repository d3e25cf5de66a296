/**
 * schemathesis (PyPI) against the live OpenAPI document of a running `westream run --api`: every check
 * (`--checks all`: no 5xx, responses match their schemas, schema-valid requests accepted and invalid ones
 * rejected, 405 with Allow for undocumented methods, ...), over every operation but the server-sent events
 * stream, which never ends. Any failure fails the test, with schemathesis's report. No token is given: the
 * changing routes must answer 401, and the run must go on. Seeded, so a failure reproduces.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, track } from './support/processes.js';
import { demoSimDir, runWithApi, westream } from './support/sim-dir.js';

const skip = skipWithoutPeer('schemathesis (PyPI)', commandMissing('schemathesis', 'pip install schemathesis, or npm run test:deps'));
afterAll(reapStarted);

function schemathesis(args: string[]): Promise<{ code: number | null; out: string }> {
  // Its own directory: schemathesis keeps a cache (.schemathesis/) in the current one.
  const cwd = mkdtempSync(join(tmpdir(), 'westream-schemathesis-'));
  const child = track(spawn('schemathesis', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } }));
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

describe.skipIf(skip)('schemathesis against the live OpenAPI (issue 14)', () => {
  let base: string;
  let run: Awaited<ReturnType<typeof runWithApi>>;
  beforeAll(async () => {
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 500'));
    const p = join(dir, 'westpa_scripts/runseg.sh');
    writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', 'set -euo pipefail\nsleep 0.3\n'));
    chmodSync(p, 0o755);
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2']).code).toBe(0);
    run = await runWithApi(dir, [], { WESTREAM_API_TOKEN: 'schemathesis-token-not-given-to-it' });
    base = run.base;
  }, 60_000);

  it('--checks all over every operation but /events: no failure, and the run goes on', async () => {
    const r = await schemathesis([
      'run',
      `${base}/openapi.json`,
      '--checks',
      'all',
      '--exclude-path',
      '/events',
      '--max-examples',
      '30',
      '--seed',
      '20261202',
      '--workers',
      '1',
      '--request-timeout',
      '20',
    ]);
    expect(r.out, r.out).toMatch(/Tested: 1\d/); // it reached the operations (13 at the time of writing)
    expect(r.code, r.out.slice(-6000)).toBe(0);
    expect(r.out).toMatch(/No issues found|0 failures|passed/i);
    const status = (await (await fetch(`${base}/status`)).json()) as { state: string };
    expect(status.state).toBe('running');
  }, 400_000);
});
