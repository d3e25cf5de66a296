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

const exited = (c: ChildProcess): Promise<string | null> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.signalCode) : new Promise((res) => c.once('exit', (_code, sig) => res(sig)));

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
    earlier.abandon(); // the earlier process is "killed -9" here: no close, nothing more written
    const later = new ProcessRegistry(dir);
    const killed = later.reapOrphans();
    expect(killed.sort()).toEqual([orphan.pid, escaped.pid].sort());
    expect(await exited(orphan)).toBe('SIGKILL');
    expect(await exited(escaped)).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'groups.log'), 'utf8')).toMatch(new RegExp(`^=${later.token} ${process.pid} \\d+ \\S+\n$`)); // dealt with: the record starts over
    expect(later.describeReaped('westream run')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^killed 2 process\\(es\\) left running by the westream run with pid ${process.pid}, which did not end normally \\(killed, or its machine went down\\)`,
        ),
      ),
    ]);
  });

  it('kills a child started just before its incarnation died, before its group was ever recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const earlier = new ProcessRegistry(dir);
    earlier.reapOrphans();
    const unrecorded = await sleeper(earlier.token); // spawned; killed -9 before add()
    earlier.abandon();
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

  it("keeps the log short: rewritten with only the live groups, including another registry's", () => {
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

/**
 * Another westream process holding a registry on `dir`: it locks it (unless told not to), records itself,
 * starts a sleeper carrying one of its child tokens, prints `ready <sleeper pid>` and waits to be killed.
 */
function incarnation(dir: string, lock = true): Promise<{ proc: ChildProcess; sleeper: number }> {
  const code = `
    import { spawn } from 'node:child_process';
    import { ProcessRegistry, OWNER_ENV } from '@westream/propagator';
    const r = new ProcessRegistry(process.argv[1]);
    if (process.argv[2] === 'lock') r.lock();
    r.reapOrphans();
    const c = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, [OWNER_ENV]: r.childToken() } });
    c.once('spawn', () => { r.add(c.pid); console.log('ready', c.pid); });
    setInterval(() => undefined, 1000);`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code, dir, lock ? 'lock' : 'no-lock'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(proc);
  return new Promise((res, rej) => {
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) res({ proc, sleeper: Number(m[1]) });
    });
    proc.once('exit', (code) => rej(new Error(`incarnation exited (${code}) before it was ready: ${out}`)));
  });
}

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('issue14-9 two incarnations on one registry: only the dead are reaped, a live one keeps the lock', () => {
  it("issue14-9 a live incarnation's children are never reaped; once it is dead (-9) they are, and the message says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const first = await incarnation(dir, false); // no lock: the reap itself must judge liveness
    const second = new ProcessRegistry(dir);
    expect(second.reapOrphans()).toEqual([]);
    expect(alive(first.sleeper)).toBe(true);
    // The second incarnation's rewrite kept the live one's record: a third still knows its children.
    expect(readFileSync(join(dir, 'groups.log'), 'utf8')).toContain(`+${first.sleeper} `);
    second.close();
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    const third = new ProcessRegistry(dir);
    expect(third.reapOrphans()).toEqual([first.sleeper]);
    expect(third.describeReaped('westream worker')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^killed 1 process\\(es\\) left running by the westream worker with pid ${first.proc.pid}, which did not end normally .*: ${first.sleeper} \\(sleep 60\\)$`,
        ),
      ),
    ]);
    third.close();
  });

  it('issue14-9 lock: a second incarnation is refused while the first lives (naming its pid), admitted once it is dead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const first = await incarnation(dir);
    const second = new ProcessRegistry(dir);
    expect(() => second.lock()).toThrow(new RegExp(`held by pid ${first.proc.pid} \\(${dir}/owner\\.lock\\)`));
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    second.lock(); // stale: its holder is dead
    expect(second.reapOrphans()).toEqual([first.sleeper]);
    // And within one process: a closed registry's lock is free again, an open one's is not.
    const third = new ProcessRegistry(dir);
    expect(() => third.lock()).toThrow(/held by pid/);
    second.close();
    third.lock();
    third.close();
  });

  it('issue14-7 an incarnation that ended normally: what it left had escaped its cleanup, and the message says that', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-registry-'));
    const earlier = new ProcessRegistry(dir);
    earlier.reapOrphans();
    const escaped = await sleeper(earlier.childToken());
    earlier.close();
    const later = new ProcessRegistry(dir);
    expect(later.reapOrphans()).toEqual([escaped.pid]);
    expect(later.describeReaped('westream run')).toEqual([
      expect.stringMatching(/left running by the westream run with pid \d+, which ended normally: they had escaped its cleanup/),
    ]);
    expect(later.describeReaped('westream run')[0]).not.toMatch(/killed, or/);
  });
});
