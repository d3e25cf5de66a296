/**
 * Runs one child program in its own process group, with its output in files, a wall-time limit and a cancel
 * signal. Whatever happens — exit, timeout, cancel — the whole group is gone when this returns, and with a
 * registry so is every process that carries the child's own owner token, in the group or not (`setsid`): no
 * orphans.
 *
 * The fork itself happens in the small launcher process when one is given (see launcher-process.ts); the
 * supervision — timers, signals, the process registry — always happens here.
 *
 * CPU time: Node cannot wait4() a child, so the child's user time (its own plus its waited-for descendants',
 * like WESTPA's `ru_utime`) is sampled from /proc while it runs. The last sample is at most `cpuSampleMs` old.
 */
import type { Launcher } from './launcher.js';
import { killCarriers, OWNER_ENV, procStat, type ProcessRegistry } from './process-registry.js';
import { spawnDetached, type LaunchHandlers } from './spawn-detached.js';

export interface ChildSpec {
  readonly executable: string;
  readonly args?: readonly string[];
  readonly cwd: string;
  /** The environment most children share (the launcher holds it: requests carry only `env`). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Variables laid over `baseEnv` for this child. */
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
  readonly launcher?: Launcher;
  /** Through the launcher's queue (see Launcher.setQueueLimit): it may wait there before it starts. */
  readonly queued?: boolean;
  /** Called when the program has started (after any wait in the queue). */
  readonly onStarted?: () => void;
  readonly cpuSampleMs?: number;
}

export interface ChildOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  /** Processes of the group, or carrying its owner token, still alive after the child exited (killed now). */
  readonly leftovers: boolean;
  /** Set when the program could not be started at all (e.g. ENOENT, EACCES). */
  readonly spawnError: string | null;
  readonly cputime: number;
  readonly walltime: number;
}

export function runChild(spec: ChildSpec): Promise<ChildOutcome> {
  const owner = spec.registry?.childToken();
  const own = owner !== undefined ? { ...spec.env, [OWNER_ENV]: owner } : spec.env;
  // Through the launcher, which already holds the base, only the overrides travel.
  const launcher = spec.launcher?.base === spec.baseEnv ? spec.launcher : undefined;
  return new Promise((resolve) => {
    let started = performance.now(); // reset at spawn: wall time excludes a wait in the launcher's queue
    let pgid: number | undefined;
    let launchId: number | undefined;
    let timedOut = false;
    let cancelled = false;
    let cputime = 0;
    let killTimer: NodeJS.Timeout | undefined;
    let sampler: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stopGroup = (): void => {
      if (pgid === undefined) return; // not started yet: onSpawn stops it
      signalGroup(pgid, 'SIGTERM');
      killTimer ??= setTimeout(() => signalGroup(pgid, 'SIGKILL'), spec.killGraceMs ?? 5000);
    };
    const onAbort = (): void => {
      cancelled = true;
      if (pgid === undefined && launchId !== undefined) spec.launcher?.cancel(launchId); // still queued
      stopGroup();
    };
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError: string | null): void => {
      if (finished) return;
      finished = true;
      if (sampler) clearInterval(sampler);
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      // Anything the child left running in its group (a backgrounded engine, a forked helper) dies with it.
      const inGroup = signalGroup(pgid, 'SIGKILL');
      // And whatever left the group (setsid, a daemonizing engine) but still carries this child's token.
      const escaped = owner !== undefined && pgid !== undefined ? killCarriers(owner, pgid) : [];
      const leftovers = inGroup || escaped.length > 0;
      if (pgid !== undefined) spec.registry?.remove(pgid);
      resolve({ exitCode: code, signal, timedOut, cancelled, leftovers, spawnError, cputime, walltime: (performance.now() - started) / 1000 });
    };
    const handlers: LaunchHandlers = {
      onSpawn(pid) {
        started = performance.now();
        pgid = pid;
        spec.registry?.add(pid);
        sampler = setInterval(() => {
          const st = procStat(pid);
          if (st) cputime = Math.max(cputime, st.userTime);
        }, spec.cpuSampleMs ?? 250);
        if (spec.timeoutMs !== null) timer = setTimeout(() => ((timedOut = true), stopGroup()), spec.timeoutMs);
        if (cancelled) stopGroup();
        else spec.onStarted?.();
      },
      onError: (code) => {
        // The launcher is only a faster fork: if it died before starting this child (it can be killed in its
        // first milliseconds, before it ignores signals), start the child directly instead of failing the segment.
        if (code === 'ELAUNCHER' && pgid === undefined && !cancelled && !direct) {
          direct = true;
          spawnDetached({ ...req, env: { ...spec.baseEnv, ...own } }, handlers);
        } else finish(null, null, cancelled && code === 'ELAUNCHER' ? 'ECANCELED' : code);
      },
      onExit: (code, signal) => finish(code, signal, null),
    };
    let direct = false;
    if (spec.signal?.aborted) cancelled = true;
    else spec.signal?.addEventListener('abort', onAbort, { once: true });
    const req = {
      executable: spec.executable,
      args: spec.args ?? [],
      cwd: spec.cwd,
      env: launcher ? own : { ...spec.baseEnv, ...own },
      stdin: spec.stdin,
      stdout: spec.stdout,
      stderr: spec.stderr,
    };
    if (launcher) launchId = launcher.launch(spec.queued ? { ...req, queued: true } : req, handlers);
    else spawnDetached(req, handlers);
  });
}

/** Signals a whole process group; true when the group still existed. */
function signalGroup(pgid: number | undefined, sig: NodeJS.Signals): boolean {
  if (pgid === undefined || pgid <= 0) return false;
  // After every exit the group is usually gone already (ESRCH): skip the stack trace of that expected error,
  // which was a measurable share of the per-segment cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
