/**
 * Runs one child program in its own process group, with its output in files, a wall-time limit and a cancel
 * signal. Whatever happens — exit, timeout, cancel — the whole group is gone when this returns: no orphans.
 *
 * CPU time: Node cannot wait4() a child, so the child's user time (its own plus its waited-for descendants',
 * like WESTPA's `ru_utime`) is sampled from /proc while it runs. The last sample is at most `cpuSampleMs` old.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { OWNER_ENV, procStat, type ProcessRegistry } from './process-registry.js';

export interface ChildSpec {
  readonly executable: string;
  readonly args?: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** File for standard output, or null to discard it. */
  readonly stdout: string | null;
  /** File for standard error, `'stdout'` to merge, or null to discard. */
  readonly stderr: string | null;
  readonly stdin: string | null;
  readonly timeoutMs: number | null;
  /** Time between SIGTERM and SIGKILL when the group is stopped. */
  readonly killGraceMs?: number;
  readonly signal?: AbortSignal;
  readonly registry?: ProcessRegistry;
  readonly cpuSampleMs?: number;
}

export interface ChildOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  /** Processes of the group still alive after the child exited (killed now). */
  readonly leftovers: boolean;
  /** Set when the program could not be started at all (e.g. ENOENT, EACCES). */
  readonly spawnError: string | null;
  readonly cputime: number;
  readonly walltime: number;
}

export async function runChild(spec: ChildSpec): Promise<ChildOutcome> {
  const fds: number[] = [];
  const openOut = (path: string): number => {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    fds.push(fd);
    return fd;
  };
  const started = performance.now();
  try {
    const stdin = spec.stdin ? openSync(spec.stdin, 'r') : 'ignore';
    if (typeof stdin === 'number') fds.push(stdin);
    const out = spec.stdout ? openOut(spec.stdout) : 'ignore';
    const err = spec.stderr === 'stdout' ? out : spec.stderr ? openOut(spec.stderr) : 'ignore';
    const child = spawn(spec.executable, spec.args ?? [], {
      cwd: spec.cwd,
      env: spec.registry ? { ...spec.env, [OWNER_ENV]: spec.registry.token } : spec.env,
      stdio: [stdin, out, err],
      detached: true, // setsid(): a process group of its own, so the whole tree can be signalled
    });
    return await supervise(child, spec, started);
  } catch (e) {
    return failedToStart(e, started);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

function failedToStart(e: unknown, started: number): ChildOutcome {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return { exitCode: null, signal: null, timedOut: false, cancelled: false, leftovers: false, spawnError: code, cputime: 0, walltime: (performance.now() - started) / 1000 };
}

function supervise(child: ReturnType<typeof spawn>, spec: ChildSpec, started: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const pgid = child.pid;
    let timedOut = false;
    let cancelled = false;
    let cputime = 0;
    let killTimer: NodeJS.Timeout | undefined;
    if (pgid !== undefined) spec.registry?.add(pgid);
    const sample = (): void => {
      if (pgid === undefined) return;
      const st = procStat(pgid);
      if (st) cputime = Math.max(cputime, st.userTime);
    };
    const sampler = setInterval(sample, spec.cpuSampleMs ?? 250);
    const stopGroup = (): void => {
      signalGroup(pgid, 'SIGTERM');
      killTimer ??= setTimeout(() => signalGroup(pgid, 'SIGKILL'), spec.killGraceMs ?? 5000);
    };
    const timer = spec.timeoutMs === null ? undefined : setTimeout(() => ((timedOut = true), stopGroup()), spec.timeoutMs);
    const onAbort = (): void => {
      cancelled = true;
      stopGroup();
    };
    if (spec.signal?.aborted) onAbort();
    else spec.signal?.addEventListener('abort', onAbort, { once: true });

    let spawnError: string | null = null;
    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code ?? e.message;
    });
    child.once('close', (code, signal) => {
      clearInterval(sampler);
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      // Anything the child left running in its group (a backgrounded engine, a forked helper) dies with it.
      const leftovers = signalGroup(pgid, 'SIGKILL');
      if (pgid !== undefined) spec.registry?.remove(pgid);
      resolve({ exitCode: code, signal, timedOut, cancelled, leftovers, spawnError, cputime, walltime: (performance.now() - started) / 1000 });
    });
  });
}

/** Signals a whole process group; true when the group still existed. */
function signalGroup(pgid: number | undefined, sig: NodeJS.Signals): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}
