/** Child processes a test starts: spawn, wait for a line on a stream, collect output, always reaped. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Started {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();

/** Takes a process out of `reapStarted`'s reach (a server a whole test file shares; stop it yourself). */
export function keep(s: Started): void {
  running.delete(s.child);
}

/** Kills what a test left running (its own children only, by pid). */
export function reapStarted(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}

/** Puts a child spawned elsewhere in `reapStarted`'s reach (a test that fails must not leave it running). */
export function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('close', () => running.delete(child));
  return child;
}

export function start(cmd: string, args: readonly string[], o: SpawnOptions = {}): Started {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...o });
  running.add(child);
  const s: Started = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.once('close', (code, sig) => {
        running.delete(child);
        resolve(code ?? sig ?? -1);
      }),
    ),
  };
  child.stdout?.on('data', (b: Buffer) => (s.stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (s.stderr += b.toString()));
  return s;
}

/** Waits until `re` matches the process's stdout or stderr; returns the match. Fails on exit or timeout. */
export async function waitForLine(s: Started, stream: 'stdout' | 'stderr', re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const end = Date.now() + timeoutMs;
  let exited = false;
  void s.exited.then(() => (exited = true));
  for (;;) {
    const m = s[stream].match(re);
    if (m) return m;
    if (exited) throw new Error(`process exited before printing ${re}:\n${s.stdout}\n${s.stderr}`);
    if (Date.now() > end) throw new Error(`no ${re} within ${timeoutMs} ms:\n${s.stdout}\n${s.stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A TCP port that was free a moment ago (for engines that cannot bind port 0, like LAMMPS, and for Redis
 * restarted on its own port). Drawn at random below Linux's ephemeral range (32768-60999) and checked by
 * binding it: a port the OS handed out for port 0 would be the one another test file's port-0 bind or outgoing
 * connection is most likely to take next, since test files run side by side.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  for (let attempt = 0; ; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    const srv = createServer();
    const ok = await new Promise<boolean>((r) => {
      srv.once('error', () => r(false));
      srv.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      await new Promise<void>((r) => srv.close(() => r()));
      return port;
    }
    if (attempt >= 50) throw new Error('no free TCP port in 10000-31999 after 50 tries');
  }
}

/** Processes that carry a token of this sim root's process registry (children westream started). */
/**
 * `survivors`, polled for up to `ms`: segments a live worker is still finishing (at-least-once delivery can run
 * one twice) end by themselves; orphans do not. What remains is described for the failure message.
 */
export async function survivorsAfter(dir: string, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  let left = survivors(dir);
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    left = survivors(dir);
  }
  return left.map((pid) => {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const pick = (k: string): string => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1) ?? '?';
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
      return `pid ${pid} (${cmd}) iter ${pick('WEST_CURRENT_ITER')} seg ${pick('WEST_CURRENT_SEG_ID')} owner ${pick('WESTREAM_OWNER')}`;
    } catch {
      return `pid ${pid} (gone)`;
    }
  });
}

export function survivors(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (env.includes(`WEST_SIM_ROOT=${dir}\0`) && env.includes('WESTREAM_OWNER=')) pids.push(Number(name));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

/**
 * Polls `ok` until it holds; after `ms`, throws naming `what`, with `context()` (a process's output, say) to
 * show why.
 */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  o: { ms?: number; every?: number; context?: () => string } = {},
): Promise<void> {
  const end = Date.now() + (o.ms ?? 60_000);
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${o.context ? `:\n${o.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, o.every ?? 50));
  }
}
