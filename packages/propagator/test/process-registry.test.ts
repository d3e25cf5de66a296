import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OWNER_ENV, ProcessRegistry } from '@westream/propagator';
import { afterEach, describe, expect, it } from 'vitest';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A sleeping process in its own group, carrying `token` (or none) like a child westream started. */
function sleeper(token: string | null): Promise<ChildProcess> {
  const env = { ...process.env, ...(token ? { [OWNER_ENV]: token } : {}) };
  const c = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env });
  started.push(c);
  return new Promise((res) => c.once('spawn', () => res(c)));
}

const exited = (c: ChildProcess): Promise<string | null> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.signalCode) : new Promise((res) => c.once('exit', (_code, sig) => res(sig))));

describe('ProcessRegistry: the record that lets a restarted run kill what a killed run left behind', () => {
  it('kills what an earlier incarnation started and left alive: recorded groups, and children that left theirs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const earlier = new ProcessRegistry(dir);
    earlier.reapOrphans(); // at start, as run and worker do: records its token
    const orphan = await sleeper(earlier.token);
    const escaped = await sleeper(earlier.token); // its group ended and was removed, but it had left the group
    earlier.add(orphan.pid as number);
    earlier.add(escaped.pid as number);
    earlier.remove(escaped.pid as number);
    // (the earlier process is "killed -9" here: no close, nothing more written)
    const later = new ProcessRegistry(dir);
    const killed = later.reapOrphans();
    expect(killed.sort()).toEqual([orphan.pid, escaped.pid].sort());
    expect(await exited(orphan)).toBe('SIGKILL');
    expect(await exited(escaped)).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'groups.log'), 'utf8')).toBe(`=${later.token}\n`); // dealt with: the record starts over
  });

  it('kills a child started just before its incarnation died, before its group was ever recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const earlier = new ProcessRegistry(dir);
    earlier.reapOrphans();
    const unrecorded = await sleeper(earlier.token); // spawned; killed -9 before add()
    expect(new ProcessRegistry(dir).reapOrphans()).toEqual([unrecorded.pid]);
    expect(await exited(unrecorded)).toBe('SIGKILL');
  });

  it('never signals a process in a recorded group that lacks the token (a reused pid), and survives a torn last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const stranger = await sleeper(null);
    const earlier = new ProcessRegistry(dir);
    earlier.add(stranger.pid as number);
    earlier.close();
    appendFileSync(join(dir, 'groups.log'), '+12'); // the run died in the middle of a write
    expect(new ProcessRegistry(dir).reapOrphans()).toEqual([]);
    expect(stranger.exitCode === null && stranger.signalCode === null).toBe(true);
  });

  it('reads the one-file-per-group record of earlier versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const token = 'token-of-an-old-run';
    const orphan = await sleeper(token);
    writeFileSync(join(dir, String(orphan.pid)), token);
    expect(new ProcessRegistry(dir).reapOrphans()).toEqual([orphan.pid]);
    expect(await exited(orphan)).toBe('SIGKILL');
  });

  it('keeps the log short: rewritten with only the live groups, including another registry\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const other = new ProcessRegistry(dir);
    other.add(999_999_001);
    other.close();
    const r = new ProcessRegistry(dir);
    for (let i = 0; i < 12_000; i++) {
      r.add(1_000_000 + i);
      r.remove(1_000_000 + i);
    }
    r.add(4242);
    r.close();
    const lines = readFileSync(join(dir, 'groups.log'), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(10_000);
    expect(lines).toContain(`+999999001 ${other.token}`);
    expect(lines).toContain(`+4242 ${r.token}`);
  });
});
