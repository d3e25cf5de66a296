/**
 * Remembers the process groups this sim root has started, on disk, so that a `westream run` killed with -9
 * leaves no orphan behind: the next run finds the groups still alive and kills them before it starts anything.
 *
 * Each child carries `WESTREAM_OWNER=<token>` in its environment; a process is only killed when it is in a
 * recorded group *and* carries the token, so a reused pid can never hit a stranger.
 *
 * The record is one append-only log (`+pgid token` / `-pgid`, and `=token` for each incarnation), not a file
 * per group: creating and deleting a file per segment cost more than the rest of the bookkeeping together (ext4
 * inode allocation). The log is rewritten with just the live groups whenever it has grown long.
 *
 * A process killed -9 between its launcher's spawn and the `+pgid` line leaves a child no group line names; its
 * incarnation's `=token` line, written before anything was spawned, still does: reaping kills every process
 * that carries a recorded token, in a recorded group or not.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const OWNER_ENV = 'WESTREAM_OWNER';
const LOG = 'groups.log';
const COMPACT_AFTER_LINES = 10_000;

export class ProcessRegistry {
  readonly token = randomUUID();
  private fd: number | undefined;
  private lines = 0;
  private readonly live = new Set<number>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  add(pgid: number): void {
    this.live.add(pgid);
    this.append(`+${pgid} ${this.token}\n`);
  }

  remove(pgid: number): void {
    if (!this.live.delete(pgid)) return;
    this.append(`-${pgid}\n`);
    if (this.lines > COMPACT_AFTER_LINES) this.rewrite(recordedGroups(this.dir));
  }

  /**
   * Kills every process an earlier incarnation started that is still alive (it carries that incarnation's
   * token); returns the pids killed. Call it before starting anything: it also records this incarnation's token.
   */
  reapOrphans(): number[] {
    const killed: number[] = [];
    const tokens = recordedTokens(this.dir);
    tokens.delete(this.token);
    if (tokens.size > 0) {
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
        const m = new RegExp(`(?:^|\n)${OWNER_ENV}=([^\n]*)`).exec(environOf(Number(name)));
        if (!m || !tokens.has(m[1] as string)) continue;
        try {
          process.kill(Number(name), 'SIGKILL');
          killed.push(Number(name));
        } catch {
          /* already gone */
        }
      }
    }
    // What was recorded is dealt with: start over with our own live groups and token only.
    this.rewrite(new Map([...this.live].map((g) => [g, this.token])));
    return killed;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(line: string): void {
    this.fd ??= openSync(join(this.dir, LOG), 'a');
    writeSync(this.fd, line);
    this.lines++;
  }

  /** Replaces the log with `groups` (another process's groups in it are kept by the caller passing them). */
  private rewrite(groups: ReadonlyMap<number, string>): void {
    this.close();
    const tmp = join(this.dir, `${LOG}.tmp`);
    writeFileSync(tmp, `=${this.token}\n${[...groups].map(([g, token]) => `+${g} ${token}\n`).join('')}`);
    renameSync(tmp, join(this.dir, LOG));
    this.lines = groups.size;
    for (const name of readdirSync(this.dir)) if (/^\d+$/.test(name)) rmSync(join(this.dir, name), { force: true }); // before the log
  }
}

/** Every owner token the log names: incarnations (`=token`) and the groups they recorded. */
function recordedTokens(dir: string): Set<string> {
  const tokens = new Set(recordedGroups(dir).values());
  let text = '';
  try {
    text = readFileSync(join(dir, LOG), 'utf8');
  } catch {
    /* none yet */
  }
  for (const line of text.split('\n')) {
    const m = /^=(\S+)$/.exec(line);
    if (m) tokens.add(m[1] as string);
  }
  return tokens;
}

/** pgid → owner token of the groups the log (and the one-file-per-group layout before it) leaves alive. */
function recordedGroups(dir: string): Map<number, string> {
  const groups = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(join(dir, LOG), 'utf8');
  } catch {
    /* none yet */
  }
  for (const line of text.split('\n')) {
    const m = /^([+-])(\d+)(?: (\S+))?$/.exec(line); // a torn last line (killed mid-write) simply does not match
    if (!m) continue;
    if (m[1] === '+' && m[3]) groups.set(Number(m[2]), m[3]);
    else groups.delete(Number(m[2]));
  }
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    /* none */
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      groups.set(Number(name), readFileSync(join(dir, name), 'utf8').trim());
    } catch {
      /* removed meanwhile */
    }
  }
  return groups;
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
