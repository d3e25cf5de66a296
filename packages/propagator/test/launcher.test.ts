/**
 * The launcher process is only a faster fork: a segment must not depend on it. It runs in its own process group
 * (a Ctrl-C to the terminal's group must not reach it), and when it dies, what it had not yet started is started
 * directly.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Launcher } from '../src/launcher.js';
import { procStat } from '../src/process-registry.js';
import { runChild, type ChildSpec } from '../src/run-child.js';

/** Pids of this process's children whose command line names the launcher. */
function launcherPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher-process');
      } catch {
        return false;
      }
    });
}

const pgidOf = (pid: number): number | undefined => procStat(pid)?.pgrp;

/** A queued /bin/sh child through `launcher`, in `cwd`, with only PATH in its environment. */
function shSpec(launcher: Launcher, cwd: string, args: string[], o: { onStarted?: () => void; signal?: AbortSignal } = {}): ChildSpec {
  return {
    executable: '/bin/sh',
    args,
    cwd,
    baseEnv: launcher.base,
    env: {},
    stdout: null,
    stderr: null,
    stdin: null,
    timeoutMs: 20_000,
    launcher,
    queued: true,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onStarted ? { onStarted: o.onStarted } : {}),
  };
}

describe('launcher', () => {
  it('runs in its own process group; killed with a child running and one queued, the queued one still runs', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'westream-launcher-'));
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const launcher = new Launcher(baseEnv);
    launcher.setQueueLimit(1);
    const spec = (args: string[], onStarted?: () => void): ChildSpec => shSpec(launcher, cwd, args, onStarted ? { onStarted } : {});
    let firstStarted!: () => void;
    const started = new Promise<void>((r) => (firstStarted = r));
    const first = runChild(spec(['-c', 'sleep 10'], firstStarted));
    const second = runChild(spec(['-c', 'echo ran > out.txt']));
    await started;
    const [pid] = launcherPids();
    expect(pid, 'the launcher process').toBeDefined();
    expect(pgidOf(pid as number), 'its own group, not the test runner’s').toBe(pid);
    expect(pgidOf(pid as number)).not.toBe(pgidOf(process.pid));
    process.kill(pid as number, 'SIGKILL');
    const b = await second;
    expect(b.spawnError).toBeNull();
    expect(b.exitCode).toBe(0);
    expect(readFileSync(join(cwd, 'out.txt'), 'utf8')).toBe('ran\n');
    // The one it was watching cannot report an exit any more: it fails, and its group is gone.
    const a = await first;
    expect(a.spawnError).toBe('ELAUNCHER');
    launcher.close();
  }, 30_000);

  it('hold(): once it resolves, a queued request does not start when a running one ends, and is then cancelled', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'westream-launcher-hold-'));
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const launcher = new Launcher(baseEnv);
    launcher.setQueueLimit(1);
    const stop = new AbortController();
    const spec = (args: string[], onStarted?: () => void): ChildSpec =>
      shSpec(launcher, cwd, args, { signal: stop.signal, ...(onStarted ? { onStarted } : {}) });
    let firstStarted!: () => void;
    const started = new Promise<void>((r) => (firstStarted = r));
    let secondStarted = false;
    const first = runChild(spec(['-c', 'sleep 0.3'], firstStarted));
    const second = runChild(spec(['-c', 'echo ran > out.txt'], () => (secondStarted = true)));
    await started;
    await launcher.hold();
    const a = await first; // it ends by itself, freeing the only slot
    expect(a.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(secondStarted, 'a held queue starts nothing').toBe(false);
    stop.abort();
    const b = await second;
    expect(b.spawnError).toBe('ECANCELED');
    expect(readdirSync(cwd)).toEqual([]); // it never ran
    launcher.close();
  }, 30_000);
});
