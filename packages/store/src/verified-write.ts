/**
 * Writes a new version of west.h5 beside it and renames it into place only once it is verified. HDF5 reports a
 * failed write (a full disk) on stderr and in the status of flush and close, which h5wasm's File.flush() drops
 * and nothing checked: a half-written copy was renamed over a good file. Here the statuses are checked, the
 * copy is reopened and the parts the write changed are compared with what was written, and only then is the
 * copy fsynced and renamed. A failure removes the copy and leaves the previous file whole.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, copyFileSync, fsyncSync, openSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { h5, h5Module, isDataset, isGroup, type H5Dataset, type H5File, type H5Group, type H5Module } from './h5.js';
import { DiskFullError, StoreError } from './store-error.js';

export interface VerifiedWrite {
  /** The file to replace or create. */
  readonly path: string;
  /** Copied first and changed (a commit); without it the file is written from nothing. */
  readonly copyFrom?: string;
  /** Bytes the write may add beyond the copy: the free space checked before starting. */
  readonly headroom: number;
  /** What the user does once space is freed, e.g. "`westream run` resumes". */
  readonly then: string;
  /** Objects (paths without a leading slash) the write did not change: not compared, for speed. */
  readonly unchanged?: (path: string) => boolean;
  write(f: H5File): void;
}

/** A write HDF5 reported as failed, or a copy that does not read back as written. */
class WriteFailed extends Error {}

export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.westream-tmp`);
}

export async function writeVerified(w: VerifiedWrite): Promise<void> {
  const lib = await h5();
  const mod = await h5Module();
  const dir = dirname(w.path);
  const tmp = tempName(w.path);
  const kept = w.copyFrom ? `${w.path} is unchanged` : `nothing was written`;
  rmSync(tmp, { force: true });
  const need = (w.copyFrom ? statSync(w.copyFrom).size : 0) + w.headroom;
  const before = freeBytes(dir);
  if (before < need) throw new DiskFullError(dir, need - before, w.then, kept);
  try {
    if (w.copyFrom) copyFileSync(w.copyFrom, tmp, constants.COPYFILE_FICLONE);
    // HDF5's default handler only prints an error and lets the call return; this one throws it, with the text.
    mod.activate_throwing_error_handler();
    let expected = '';
    try {
      const f = new lib.File(tmp, w.copyFrom ? 'a' : 'w');
      let failure: Error | undefined;
      try {
        w.write(f);
        if (mod.flush(f.file_id) < 0) throw new WriteFailed('HDF5 could not flush it');
        expected = digest(f, w.unchanged, mod);
      } catch (e) {
        failure = asError(e);
      }
      try {
        if (f.close() < 0) failure ??= new WriteFailed('HDF5 could not close it');
      } catch (e) {
        failure ??= asError(e);
      }
      if (failure !== undefined) throw failure;
    } finally {
      mod.deactivate_throwing_error_handler();
    }
    verify(tmp, expected, w.unchanged, lib, mod);
    publish(tmp, w.path);
  } catch (e) {
    // An HDF5 error thrown out of h5wasm may leave objects of the copy open, and with them its descriptor: the
    // removed copy's space comes back when the process exits, which it does on this error.
    const freeAtFailure = freeBytes(dir);
    rmSync(tmp, { force: true });
    const writeError = e instanceof WriteFailed || isHdf5Error(e);
    if (isNoSpace(e) || (writeError && freeAtFailure < w.headroom)) {
      // The write needed more than the headroom guessed: ask for the shortfall plus that much again.
      throw new DiskFullError(dir, Math.max(need - freeBytes(dir), 0) + w.headroom, w.then, kept);
    }
    if (writeError) throw new StoreError(`${w.path}: writing its new version ${tmp} failed (${hdf5Reason(e)}); ${kept}`);
    throw e; // the store's own errors, and bugs, as they are
  }
}

function isHdf5Error(e: unknown): boolean {
  return e instanceof Error && /HDF5/.test(e.message);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** ENOSPC or EDQUOT from Node (the copy, fsync), or in the text of an HDF5 error stack. */
function isNoSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || (e instanceof Error && /No space left on device|Disk quota exceeded/.test(e.message));
}

/** The line of an HDF5 error stack that says what the system call said, else its first line. */
function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const errno = /error message = '([^']*)'/.exec(text)?.[1];
  return errno ?? text.trim().split('\n').slice(0, 2).join(' ').replace(/\s+/g, ' ');
}

function verify(tmp: string, expected: string, unchanged: VerifiedWrite['unchanged'], lib: Awaited<ReturnType<typeof h5>>, mod: H5Module): void {
  let f: H5File;
  try {
    f = new lib.File(tmp, 'r');
  } catch (e) {
    throw new WriteFailed(`it cannot be reopened: ${String(e)}`);
  }
  let actual: string;
  try {
    actual = digest(f, unchanged, mod);
  } catch (e) {
    throw new WriteFailed(`it cannot be read back: ${String(e)}`);
  } finally {
    f.close();
  }
  if (actual !== expected) throw new WriteFailed('it does not read back as written');
}

/** A hash of every attribute and dataset (name, type, shape, values) under the root, but the unchanged ones. */
/** The only external links westream writes: the HDF5 framework's per-iteration files. */
const EXTERNAL_LINK = /^iterations\/[^/]+\/trajectories$/;

function digest(f: H5File, unchanged: VerifiedWrite['unchanged'] = () => false, mod: H5Module): string {
  const h = createHash('sha256');
  const walk = (g: H5Group, prefix: string): void => {
    hashAttrs(h, g);
    for (const name of g.keys()) {
      const path = prefix ? `${prefix}/${name}` : name;
      if (unchanged(path)) continue;
      if (EXTERNAL_LINK.test(path)) {
        // An external link (WESTPA's iterations/iter_N/trajectories): its target, not the file it leads to,
        // which HDF5 would open and walk as if it were a group of this file.
        h.update(`\0${path}\0->${JSON.stringify(g.get_external_link(`/${path}`) ?? null)}`);
        continue;
      }
      const x = g.get(name);
      h.update(`\0${path}\0`);
      if (isGroup(x)) walk(x, path);
      else if (isDataset(x)) hashDataset(h, x, mod);
    }
  };
  walk(f, '');
  return h.digest('hex');
}

/**
 * A dataset's type, shape, attributes and stored bytes. The bytes are read raw: converting them to JS values
 * (compound rows most of all) cost more than the rest of a commit. References and variable-length data hold
 * memory addresses in raw form: those are hashed as values.
 */
function hashDataset(h: Hash, x: H5Dataset, mod: H5Module): void {
  const m = x.metadata;
  const described = JSON.stringify(m);
  h.update(described);
  hashAttrs(h, x);
  if (!m.shape || described.includes('"ref_type"') || described.includes('"vlen":true')) {
    hashValue(h, x.value);
    return;
  }
  const n = m.size * m.total_size;
  if (n === 0) return;
  const ptr = mod._malloc(n);
  if (ptr === 0) throw new WriteFailed(`no memory to read ${x.path} back`);
  try {
    if (mod.get_dataset_data(x.file_id, x.path, null, null, null, BigInt(ptr)) < 0) throw new WriteFailed(`${x.path} cannot be read back`);
    h.update(mod.HEAPU8.subarray(ptr, ptr + n));
  } finally {
    mod._free(ptr);
  }
}

function hashAttrs(h: Hash, x: { attrs: Record<string, { value: unknown }> }): void {
  for (const [k, a] of Object.entries(x.attrs).sort(([p], [q]) => (p < q ? -1 : 1))) {
    h.update(`@${k}=`);
    hashValue(h, a.value);
  }
}

function hashValue(h: Hash, v: unknown): void {
  if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  else
    h.update(
      JSON.stringify(v, (_k, x: unknown) =>
        typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Array.from(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)) : x,
      ) ?? 'undefined',
    );
}

/** fsync the new file, rename it over the old one, fsync the directory: the switch is atomic and durable. */
function publish(tmp: string, path: string): void {
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
