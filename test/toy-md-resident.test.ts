/**
 * The tests' resident toy engine (packages/testing/src/toy-md-server.ts, test/support/toy-md-client.sh) must
 * be indistinguishable from the real `westream-toy-md` for what it serves: the same files, bytes, output and
 * exit codes, and everything it does not serve handed to the real engine.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startToyMdServer, TOY_MD_SERVER_MAX_STEPS, type ToyMdServer } from '@westream/testing';
import { REPO, TOY_MD, TOY_MD_CLIENT } from './support/sim-dir.js';

let server: ToyMdServer;
beforeAll(async () => {
  server = await startToyMdServer();
});
afterAll(async () => {
  await server.close();
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-toymd-'));
  cpSync(join(REPO, 'test/fixtures/toy/md.in'), join(dir, 'md.in'));
  cpSync(join(REPO, 'config/examples/toy/bstates/left.rst'), join(dir, 'left.rst'));
  return dir;
}

// Asynchronous: the server runs in this process, so a synchronous spawn would keep it from answering.
const run = (cmd: string, cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, WEST_RAND64: '8765432123', WESTREAM_TEST_TOY_MD_PORT: String(server.port), ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });

describe('the resident toy engine', () => {
  it('gives the real engine’s files, output and exit codes for run, init and pcoord', async () => {
    const real = workDir();
    const resident = workDir();
    const calls = [
      ['init', '--input', 'md.in', '--pcoord', '0.4', '--out', 'start.rst'],
      ['run', '--input', 'md.in', '--restart', 'start.rst', '--out-restart', 'seg.rst', '--out-pcoord', 'pcoord.dat'],
      ['run', '--input', 'md.in', '--restart', 'seg.rst', '--out-restart', 'seg2.rst', '--out-pcoord', 'pcoord2.dat', '--seed', '42'],
      ['pcoord', '--input', 'md.in', '--restart', 'seg2.rst'],
    ];
    const before = server.served();
    for (const args of calls) {
      const a = await run(TOY_MD, real, args);
      const b = await run(TOY_MD_CLIENT, resident, args);
      expect(b, args.join(' ')).toEqual(a);
      expect(a.code).toBe(0);
    }
    expect(server.served() - before).toBe(calls.length); // served there, not by a fallback to the real engine
    for (const f of ['start.rst', 'seg.rst', 'seg2.rst', 'pcoord.dat', 'pcoord2.dat'])
      expect(readFileSync(join(resident, f), 'utf8'), f).toBe(readFileSync(join(real, f), 'utf8'));
    expect(readFileSync(join(real, 'pcoord.dat'), 'utf8').trim().split('\n')).toHaveLength(11);
  });

  it('reports a user’s mistake as the real engine does (exit 2, the file named)', async () => {
    const dir = workDir();
    const args = ['run', '--input', 'md.in', '--restart', 'missing.rst', '--out-restart', 'seg.rst'];
    const a = await run(TOY_MD, dir, args);
    const b = await run(TOY_MD_CLIENT, dir, args);
    expect(a.code).toBe(2);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/^westream-toy-md: .*missing\.rst/);
    expect(b.out).toBe('');
  });

  it('hands streamed, --set and long runs to the real engine', async () => {
    const dir = workDir();
    const before = server.served();
    const set = await run(TOY_MD_CLIENT, dir, [
      'run',
      '--input',
      'md.in',
      '--restart',
      'left.rst',
      '--out-restart',
      'a.rst',
      '--out-pcoord',
      'a.dat',
      '--set',
      'steps=100',
      '--set',
      'stride=10',
    ]);
    expect(set.code, set.err).toBe(0);
    expect(readFileSync(join(dir, 'a.dat'), 'utf8').trim().split('\n')).toHaveLength(11);
    const traj = await run(TOY_MD_CLIENT, dir, ['run', '--input', 'md.in', '--restart', 'left.rst', '--out-restart', 'b.rst', '--out-traj', 'b.jsonl']);
    expect(traj.code, traj.err).toBe(0);
    writeFileSync(join(dir, 'long.in'), readFileSync(join(dir, 'md.in'), 'utf8').replace(/^steps\s*=.*$/m, `steps = ${TOY_MD_SERVER_MAX_STEPS + 50}`));
    const long = await run(TOY_MD_CLIENT, dir, ['run', '--input', 'long.in', '--restart', 'left.rst', '--out-restart', 'c.rst', '--out-pcoord', 'c.dat']);
    expect(long.code, long.err).toBe(0);
    expect(readFileSync(join(dir, 'c.dat'), 'utf8').trim().split('\n')).toHaveLength((TOY_MD_SERVER_MAX_STEPS + 50) / 5 + 1);
    expect(server.served()).toBe(before); // none of the three was served
  });

  it('runs the real engine when no resident engine answers', async () => {
    const dir = workDir();
    const before = server.served();
    const r = await run(TOY_MD_CLIENT, dir, ['init', '--input', 'md.in', '--pcoord', '0.1', '--out', 's.rst'], { WESTREAM_TEST_TOY_MD_PORT: '1' });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 's.rst'), 'utf8'))).toMatchObject({ format: 'westream-toy-md/1' });
    expect(server.served()).toBe(before);
  });
});
