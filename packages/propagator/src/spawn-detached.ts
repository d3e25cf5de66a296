/** fork+exec of one child in a new session (its own process group), its output going straight to files. */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LaunchRequest } from './launcher-protocol.js';

export interface LaunchHandlers {
  onSpawn(pid: number): void;
  onError(code: string): void;
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

export function spawnDetached(m: Omit<LaunchRequest, 'id'>, h: LaunchHandlers): void {
  const fds: number[] = [];
  const open = (path: string, flags: string): number => {
    if (flags === 'w') mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, flags);
    fds.push(fd);
    return fd;
  };
  let ended = false;
  const end = (f: () => void): void => {
    if (ended) return;
    ended = true;
    f();
  };
  try {
    const stdin = m.stdin ? open(m.stdin, 'r') : 'ignore';
    const out = m.stdout ? open(m.stdout, 'w') : 'ignore';
    const err = m.stderr === 'stdout' ? out : m.stderr ? open(m.stderr, 'w') : 'ignore';
    const child = spawn(m.executable, m.args, { cwd: m.cwd, env: m.env, stdio: [stdin, out, err], detached: true });
    child.once('error', (e: NodeJS.ErrnoException) => end(() => h.onError(e.code ?? e.message)));
    child.once('spawn', () => h.onSpawn(child.pid ?? -1));
    child.once('exit', (code, signal) => end(() => h.onExit(code, signal)));
  } catch (e) {
    end(() => h.onError((e as NodeJS.ErrnoException).code ?? (e as Error).message));
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
