/**
 * Remembers the process groups this sim root (or worker state directory) has started, on disk, so that a
 * `westream run` or worker killed with -9 leaves no orphan behind: the next one finds what is still alive and
 * kills it before it starts anything.
 *
 * Each child carries `WESTREAM_OWNER=<token>/<n>` in its environment: the registry's token (one per
 * incarnation) and the child's own number. A process is only killed when it carries the token, so a reused
 * pid can never hit a stranger; at a child's end, every process that carries *its* number dies with it, even
 * one that left its process group (`setsid`).
 *
 * The record is one append-only log (`+pgid token` / `-pgid`; `=token pid start host` for each incarnation,
 * `.token` when it ended normally), not a file per group: creating and deleting a file per segment cost more
 * than the rest of the bookkeeping together (ext4 inode allocation). The log is rewritten with just the live
 * groups whenever it has grown long.
 *
 * Only incarnations that are dead are reaped: their pid and start time say so (a second daemon started with
 * the same node id while the first still ran once killed the first one's engines). `lock` keeps a second
 * live incarnation out altogether.
 *
 * A process killed -9 between its launcher's spawn and the `+pgid` line leaves a child no group line names; its
 * incarnation's `=token` line, written before anything was spawned, still does: reaping kills every process
 * that carries a recorded token, in a recorded group or not.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatIdentity, isAlive, parseIdentity, selfIdentity, type ProcessIdentity } from './process-identity.js';

export const OWNER_ENV = 'WESTREAM_OWNER';
const LOG = 'groups.log';
const LOCK = 'owner.lock';
const COMPACT_AFTER_LINES = 10_000;

/** Tokens of the registries open in this process (a test may hold several incarnations in one process). */
const openHere = new Set<string>();

/** A live incarnation holds the registry's lock: `holder` is who, `file` the lock. */
export class RegistryLockedError extends Error {
  readonly code = 'PROPAGATOR_ERR_LOCKED';
  constructor(
    readonly holder: ProcessIdentity,
    readonly file: string,
    readonly elsewhere: boolean,
  ) {
    super(elsewhere ? `held by pid ${holder.pid} on host ${holder.host} (${file})` : `held by pid ${holder.pid} (${file})`);
    this.name = 'RegistryLockedError';
  }
}

/** What a reap found: the processes an earlier incarnation left, and how that incarnation ended. */
export interface ReapedIncarnation {
  readonly token: string;
  /** Who it was (unknown for records of versions that did not say). */
  readonly who: ProcessIdentity | undefined;
  /** 'normally': it closed its record (its leftovers escaped its cleanup); 'abnormally': it never did (killed). */
  readonly ended: 'normally' | 'abnormally';
  readonly killed: { readonly pid: number; readonly command: string }[];
}

interface LogState {
  readonly incarnations: Map<string, ProcessIdentity | undefined>;
  readonly ended: Set<string>;
  readonly groups: Map<number, string>;
}

export class ProcessRegistry {
  readonly token = randomUUID();
  private fd: number | undefined;
  private lines = 0;
  private children = 0;
  private locked = false;
  private readonly live = new Set<number>();
  /** Filled by reapOrphans. */
  reaped: ReapedIncarnation[] = [];

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    openHere.add(this.token);
  }

  /** The OWNER_ENV value for a new child: this registry's token and the child's number. */
  childToken(): string {
    return `${this.token}/${++this.children}`;
  }

  add(pgid: number): void {
    this.live.add(pgid);
    this.append(`+${pgid} ${this.token}\n`);
  }

  remove(pgid: number): void {
    if (!this.live.delete(pgid)) return;
    this.append(`-${pgid}\n`);
    if (this.lines > COMPACT_AFTER_LINES) this.rewrite(readLog(this.dir), true);
  }

  /**
   * Takes the registry's lock for this process's life (released by close; a process that died leaves a lock
   * the next one sees is stale by the holder's pid and start time). Throws RegistryLockedError while another
   * live process holds it.
   */
  lock(): void {
    const file = join(this.dir, LOCK);
    const me = `${formatIdentity(selfIdentity())} ${this.token}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const tmp = join(this.dir, `${LOCK}.${process.pid}.${this.token}`);
      writeFileSync(tmp, me, { mode: 0o600 });
      try {
        linkSync(tmp, file); // atomic: fails if the lock exists
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        rmSync(tmp, { force: true });
      }
      let held: string;
      try {
        held = readFileSync(file, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      const [idText, token] = splitLock(held);
      const holder = parseIdentity(idText);
      if (holder && token !== undefined && holderAlive(holder, token) !== false)
        throw new RegistryLockedError(holder, file, holderAlive(holder, token) === undefined);
      // Stale (its holder is dead) or unreadable: move it aside, and make sure what was moved is what was judged.
      const aside = join(this.dir, `${LOCK}.stale.${process.pid}`);
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = readFileSync(aside, 'utf8');
      if (moved !== held) {
        // Someone took the lock between the read and the rename: give it back and look again.
        try {
          linkSync(aside, file);
        } catch {
          /* taken again meanwhile: the next round judges that one */
        }
      }
      rmSync(aside, { force: true });
    }
    throw new Error(`could not take the lock ${file} (it keeps changing hands); try again`);
  }

  /**
   * Kills every process an incarnation that is dead started and left alive (it carries that incarnation's
   * token); returns the pids killed (`reaped` says whose, and how it ended). A live incarnation's processes are
   * never touched. Call it before starting anything: it also records this incarnation.
   */
  reapOrphans(): number[] {
    const state = readLog(this.dir);
    const dead = new Map<string, ReapedIncarnation>();
    for (const token of new Set([...state.incarnations.keys(), ...state.groups.values()])) {
      if (token === this.token) continue;
      const who = state.incarnations.get(token);
      if (who && holderAlive(who, token) !== false) continue; // alive (or on another host, out of reach)
      dead.set(token, { token, who, ended: state.ended.has(token) ? 'normally' : 'abnormally', killed: [] });
    }
    const killed: number[] = [];
    if (dead.size > 0) {
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
        const owner = ownerOf(Number(name));
        const inc = owner === undefined ? undefined : dead.get(owner.split('/')[0] as string);
        if (!inc) continue;
        const command = commandOf(Number(name));
        try {
          process.kill(Number(name), 'SIGKILL');
          killed.push(Number(name));
          inc.killed.push({ pid: Number(name), command });
        } catch {
          /* already gone */
        }
      }
    }
    this.reaped = [...dead.values()].filter((d) => d.killed.length > 0);
    // What was recorded of the dead is dealt with: keep the live incarnations, add ours.
    for (const token of dead.keys()) state.incarnations.delete(token);
    this.rewrite(state, false);
    return killed;
  }

  /** Says what reapOrphans killed, and truthfully why it was there; `what` names the kind ("westream run"). */
  describeReaped(what: string): string[] {
    return this.reaped.map((r) => {
      const pids = r.killed.map((k) => `${k.pid} ${k.command}`).join(', ');
      const by = r.who ? `the ${what} with pid ${r.who.pid}` : `an earlier ${what}`;
      const why =
        r.ended === 'normally'
          ? `${by}, which ended normally: they had escaped its cleanup (started after their segment ended, or by a program that outlived it)`
          : `${by}, which did not end normally (killed, or its machine went down) and could not stop them`;
      return `killed ${r.killed.length} process(es) left running by ${why}: ${pids}`;
    });
  }

  /** Ends this incarnation: its record says it ended normally, and its lock is released. */
  close(): void {
    if (openHere.has(this.token)) {
      try {
        this.append(`.${this.token}\n`);
      } catch {
        /* the directory went away: nothing to mark */
      }
      openHere.delete(this.token);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.locked) {
      const file = join(this.dir, LOCK);
      try {
        if (splitLock(readFileSync(file, 'utf8'))[1] === this.token) unlinkSync(file);
      } catch {
        /* gone already */
      }
      this.locked = false;
    }
  }

  /** Drops this registry as its process dying with -9 would: no end recorded, the lock left behind (tests). */
  abandon(): void {
    openHere.delete(this.token);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.locked = false;
  }

  private append(line: string): void {
    this.fd ??= openSync(join(this.dir, LOG), 'a');
    writeSync(this.fd, line);
    this.lines++;
  }

  /**
   * Replaces the log with our incarnation and the other incarnations in `state` (and, with `allGroups`, the
   * groups of all of them; else only ours and those of the incarnations kept).
   */
  private rewrite(state: LogState, allGroups: boolean): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const tmp = join(this.dir, `${LOG}.tmp.${process.pid}`);
    const lines = [`=${this.token} ${formatIdentity(selfIdentity())}`];
    for (const [token, who] of state.incarnations) {
      if (token === this.token) continue;
      lines.push(who ? `=${token} ${formatIdentity(who)}` : `=${token}`);
      if (state.ended.has(token)) lines.push(`.${token}`);
    }
    const kept = new Set([this.token, ...state.incarnations.keys()]);
    const groups = allGroups ? state.groups : new Map([...state.groups].filter(([, t]) => kept.has(t)));
    for (const g of this.live) groups.set(g, this.token);
    for (const [g, token] of groups) lines.push(`+${g} ${token}`);
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, join(this.dir, LOG));
    this.lines = lines.length;
    for (const name of readdirSync(this.dir)) if (/^\d+$/.test(name)) rmSync(join(this.dir, name), { force: true }); // before the log
  }
}

function splitLock(text: string): [string, string | undefined] {
  const parts = text.trim().split(' ');
  return [parts.slice(0, 3).join(' '), parts[3]];
}

/** Whether the incarnation `who` with `token` still lives: in this process, by its open registries. */
function holderAlive(who: ProcessIdentity, token: string): boolean | undefined {
  const me = selfIdentity();
  if (who.pid === me.pid && who.start === me.start && who.host === me.host) return openHere.has(token);
  return isAlive(who);
}

/** The log as recorded: incarnations (and who they were), which ended normally, and the groups left alive. */
function readLog(dir: string): LogState {
  const state: LogState = { incarnations: new Map(), ended: new Set(), groups: new Map() };
  let text = '';
  try {
    text = readFileSync(join(dir, LOG), 'utf8');
  } catch {
    /* none yet */
  }
  for (const line of text.split('\n')) {
    // A torn last line (killed mid-write) simply does not match.
    let m = /^=(\S+)(?: (\d+ \d+ \S+))?$/.exec(line);
    if (m) {
      state.incarnations.set(m[1] as string, m[2] ? parseIdentity(m[2]) : undefined);
      continue;
    }
    m = /^\.(\S+)$/.exec(line);
    if (m) {
      state.ended.add(m[1] as string);
      continue;
    }
    m = /^([+-])(\d+)(?: (\S+))?$/.exec(line);
    if (!m) continue;
    if (m[1] === '+' && m[3]) state.groups.set(Number(m[2]), m[3]);
    else state.groups.delete(Number(m[2]));
  }
  // The one-file-per-group layout of earlier versions.
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    /* none */
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      state.groups.set(Number(name), readFileSync(join(dir, name), 'utf8').trim());
    } catch {
      /* removed meanwhile */
    }
  }
  return state;
}

/**
 * Kills every process that carries exactly `owner` as its OWNER_ENV (a child's own token): what is left of a
 * child that has ended, in its group or not (`setsid`). Its descendants all have pids allocated after
 * `sincePid` (the child's): when few pids were allocated since, only those are looked at; else all of /proc.
 * Repeats while it finds any (one may fork between the look and the kill). Returns the pids killed.
 */
export function killCarriers(owner: string, sincePid: number): number[] {
  const killed: number[] = [];
  const want = `${OWNER_ENV}=${owner}\0`;
  for (let round = 0; round < 5; round++) {
    let found = 0;
    for (const pid of pidsSince(sincePid)) {
      if (pid === process.pid) continue;
      const env = rawEnvironOf(pid); // NUL-separated: the exact entry, never a prefix of another token
      if (!env.includes(`\0${want}`) && !env.startsWith(want)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
        found++;
      } catch {
        /* gone */
      }
    }
    if (found === 0) break;
  }
  // SIGKILL is delivered asynchronously: wait (briefly, and only when something was killed) until they are gone,
  // so a segment's end means its processes have ended, not just been signalled.
  const deadline = Date.now() + 1000;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (killed.some(running) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 2);
  return killed;
}

/** The process exists and is not a zombie (a zombie has ended; only its parent's wait is left). */
function running(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const PROBE_LIMIT = 256;

/** Pids that may have been allocated after `since`: the range up to the last pid allocated, or all of /proc. */
function pidsSince(since: number): number[] {
  let last: number | undefined;
  try {
    last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
  } catch {
    last = undefined;
  }
  if (last !== undefined && Number.isInteger(last) && last >= since && last - since <= PROBE_LIMIT) {
    return Array.from({ length: last - since }, (_, i) => since + 1 + i);
  }
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number); // wrapped, or many since: look at all
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
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0; // most probed pids are gone or not ours: skip the stack traces
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').join('\n');
  } catch {
    return '';
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function rawEnvironOf(pid: number): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function ownerOf(pid: number): string | undefined {
  const m = new RegExp(`(?:^|\n)${OWNER_ENV}=([^\n]*)`).exec(environOf(pid));
  return m?.[1];
}

function commandOf(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
    return `(${cmd.length > 80 ? `${cmd.slice(0, 77)}...` : cmd})`;
  } catch {
    return '(?)';
  }
}
