/**
 * Remembers the process groups this sim root has started, on disk, so that a `westream run` killed with -9
 * leaves no orphan behind: the next run finds the groups still alive and kills them before it starts anything.
 *
 * Each child carries `WESTREAM_OWNER=<token>` in its environment; a process is only killed when it is in a
 * recorded group *and* carries the token, so a reused pid can never hit a stranger.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const OWNER_ENV = 'WESTREAM_OWNER';

export class ProcessRegistry {
  readonly token = randomUUID();
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  add(pgid: number): void {
    writeFileSync(join(this.dir, String(pgid)), this.token);
  }

  remove(pgid: number): void {
    rmSync(join(this.dir, String(pgid)), { force: true });
  }

  /** Kills every recorded group of an earlier run that is still alive; returns the pids killed. */
  reapOrphans(): number[] {
    const killed: number[] = [];
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return killed;
    }
    const wanted = new Map<number, string>();
    for (const name of entries) {
      if (!/^\d+$/.test(name)) continue;
      try {
        wanted.set(Number(name), readFileSync(join(this.dir, name), 'utf8').trim());
      } catch {
        /* removed meanwhile */
      }
    }
    if (wanted.size > 0) {
      for (const pid of processesIn(new Set(wanted.keys()))) {
        const token = wanted.get(pid.pgrp);
        if (token && environOf(pid.pid).includes(`${OWNER_ENV}=${token}`)) {
          try {
            process.kill(pid.pid, 'SIGKILL');
            killed.push(pid.pid);
          } catch {
            /* already gone */
          }
        }
      }
    }
    for (const pgid of wanted.keys()) this.remove(pgid);
    return killed;
  }
}

/** Processes (from /proc) whose process group is in `groups`. */
export function processesIn(groups: ReadonlySet<number>): { pid: number; pgrp: number }[] {
  const out: { pid: number; pgrp: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && groups.has(st.pgrp)) out.push({ pid: Number(name), pgrp: st.pgrp });
  }
  return out;
}

export interface ProcStat {
  readonly pgrp: number;
  /** utime + stime of the process and its waited-for children, in seconds. */
  readonly userTime: number;
}

const CLK_TCK = 100; // USER_HZ is 100 on every Linux ABI Node supports

/** Parses /proc/<pid>/stat; undefined when the process is gone. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; the fields after the last ')' are fixed.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): pgrp is field 5, utime 14, cutime 16.
  const n = (field: number): number => Number(f[field - 3]);
  return { pgrp: n(5), userTime: (n(14) + n(16)) / CLK_TCK };
}

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').join('\n');
  } catch {
    return '';
  }
}
