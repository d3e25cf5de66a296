/**
 * The private directory of a runner's return files (WEST_PCOORD_RETURN and the rest), and the cleanup of those
 * a killed process left behind. Its name says whose it is (`westream-returns-<pid>.<start>.<host>-XXXXXX`), so
 * the next run or daemon removes exactly the directories whose owner is dead: a `westream run` killed with -9
 * used to leave its directory in /dev/shm (memory) for good.
 */
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, selfIdentity } from './process-identity.js';

const PREFIX = 'westream-returns-';

/**
 * Where return files go: $TMPDIR when the user set it, else /dev/shm when writable (a few bytes per segment
 * written, read and truncated: on a disk file system with online discard, each truncation waited for the
 * device), else the OS temp directory.
 */
export function returnsParent(): string {
  if (process.env.TMPDIR) return tmpdir();
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** A new private directory for this process's return files. */
export function makeReturnsDir(): string {
  const me = selfIdentity();
  return mkdtempSync(join(returnsParent(), `${PREFIX}${me.pid}.${me.start}.${safeHost(me.host)}-`));
}

/**
 * Removes the return-file directories (in `parent`) of westream processes on this host that are dead; returns
 * their paths. A live owner's, another host's (a shared $TMPDIR) or another user's directory is left alone,
 * and so is one of a version that did not name its owner.
 */
export function removeStaleReturnDirs(parent = returnsParent()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  const host = safeHost(hostname());
  const uid = process.getuid?.();
  for (const name of names) {
    const m = /^westream-returns-(\d+)\.(\d+)\.(.+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!m || m[3] !== host) continue;
    const path = join(parent, name);
    try {
      const st = statSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
    } catch {
      continue;
    }
    if (isAlive({ pid: Number(m[1]), start: Number(m[2]), host: hostname() }) !== false) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** The host name as it may appear in a file name. */
function safeHost(h: string): string {
  return h.replace(/[^A-Za-z0-9.-]/g, '_');
}
