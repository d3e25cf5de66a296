/**
 * Small file systems that fill up: a tmpfs mounted for a test (root only), resized while a run uses it. A
 * machine where the test cannot mount skips it loudly, and CI fails (skipWithoutPeer).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(...args: string[]): void {
  const r = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Undefined when a tmpfs can be mounted here; else why not. */
export function tmpfsMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'westream-tmpfs-probe-'));
  try {
    run('mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe);
    run('umount', probe);
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs (${(e as Error).message})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export interface Tmpfs {
  readonly dir: string;
  /** Changes its size (`mount -o remount,size=…`); shrinking below what is used fails. */
  resize(bytes: number): void;
  /** Bytes free, as a writer sees them. */
  free(): number;
  unmount(): void;
}

/** A tmpfs of `bytes` at a new directory, or over `at` (hiding what it holds until unmounted). */
export function mountTmpfs(bytes: number, at?: string): Tmpfs {
  const dir = at ?? mkdtempSync(join(tmpdir(), 'westream-tmpfs-'));
  run('mount', '-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir);
  return {
    dir,
    resize: (b) => run('mount', '-o', `remount,size=${b}`, dir),
    free: () => {
      const s = statfsSync(dir);
      return Number(s.bavail) * Number(s.bsize);
    },
    unmount: () => {
      // Lazily if busy: a process that hit the full disk may still hold a deleted file open until it exits.
      if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
      if (!at) rmSync(dir, { recursive: true, force: true });
    },
  };
}
