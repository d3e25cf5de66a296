/**
 * Who a process is, across pid reuse: its pid, its start time (clock ticks since boot, from /proc/PID/stat)
 * and its host. Recorded where westream leaves things a later process must judge (a registry's incarnations,
 * its lock, its return-file directory): "is the one that left this still alive?" is then a fact, not a guess.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  readonly pid: number;
  readonly start: number;
  readonly host: string;
}

/** Field 22 of /proc/<pid>/stat (start time), or undefined when the process is gone (or a zombie). */
export function startTimeOf(pid: number): number | undefined {
  let text: string;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0; // a gone pid is the common case: skip the stack trace of ENOENT
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (f[0] === 'Z' || f[0] === 'X') return undefined; // dead, not yet reaped by its parent
  const start = Number(f[22 - 3]);
  return Number.isFinite(start) ? start : undefined;
}

let self: ProcessIdentity | undefined;

export function selfIdentity(): ProcessIdentity {
  self ??= { pid: process.pid, start: startTimeOf(process.pid) ?? 0, host: hostname() };
  return self;
}

/** True when `who` is alive; a process on another host cannot be checked from here: undefined. */
export function isAlive(who: ProcessIdentity): boolean | undefined {
  if (who.host !== hostname()) return undefined;
  return startTimeOf(who.pid) === who.start;
}

export function formatIdentity(who: ProcessIdentity): string {
  return `${who.pid} ${who.start} ${who.host}`;
}

/** Parses `pid start host` (as formatIdentity writes it); undefined when malformed. */
export function parseIdentity(text: string): ProcessIdentity | undefined {
  const m = /^(\d+) (\d+) (\S+)$/.exec(text.trim());
  return m ? { pid: Number(m[1]), start: Number(m[2]), host: m[3] as string } : undefined;
}
