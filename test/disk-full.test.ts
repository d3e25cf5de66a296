/**
 * Issue 14 items 1 and 2: `westream run` with west.h5 on a small tmpfs that fills up. Each time the disk is full
 * the run stops with exit code 4 and "disk full: free N bytes at DIR, then `westream run` resumes", no stack
 * trace, west.h5 as its last whole commit left it; after the space is freed the run resumes to the west.h5 of an
 * undisturbed run (every dataset and attribute but cputime and walltime, as in crash-recovery.test.ts).
 * The store's own test (packages/store/test/disk-full.test.ts) fills the disk in the middle of HDF5's writes.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { python, REPO, westream } from './support/sim-dir.js';
import { mountTmpfs, tmpfsMissing, type Tmpfs } from './support/tmpfs.js';

const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py')) || skipWithoutPeer('a tmpfs to fill (root)', tmpfsMissing());
const dump = (file: string): Record<string, string> =>
  JSON.parse(python(`exec(open(${JSON.stringify(join(REPO, 'test/fixtures/dump_west_h5.py'))}).read())`, [file])) as Record<string, string>;
const diff = (a: Record<string, string>, b: Record<string, string>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
const INIT = ['init', '--bstate', 'origin,1.0,origin', '--tstate', 'far,2.0', '--segs-per-state', '4'];

function simRoot(dataFile?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-diskfull-'));
  cpSync(join(REPO, 'test/fixtures/randomwalk'), dir, { recursive: true });
  if (dataFile)
    writeFileSync(join(dir, 'west.yaml'), readFileSync(join(dir, 'west.yaml'), 'utf8').replace('west_data_file: west.h5', `west_data_file: ${dataFile}`));
  return dir;
}

describe.skipIf(skip)('disk full under westream run (issue 14 items 1, 2)', () => {
  let fs: Tmpfs;
  let reference: Record<string, string>;
  beforeAll(() => {
    const ref = simRoot();
    expect(westream(ref, INIT).code).toBe(0);
    const r = westream(ref, ['run']);
    expect(r.code, r.stderr).toBe(0);
    reference = dump(join(ref, 'west.h5'));
    // ~100 KB at init, ~8 KB more per iteration; a commit asks for its copy plus 256 KiB: this fills mid-run.
    fs = mountTmpfs(540 * 1024);
  }, 120_000);
  afterAll(() => fs?.unmount());

  const expectDiskFull = (r: { code: number | null; stderr: string }, h5: string): void => {
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(`^westream: disk full: free \\d+ bytes \\([\\d.]+ [KM]iB\\) at ${fs.dir}, then \`westream run\` resumes; ${h5} is unchanged$`, 'm'),
    );
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(readdirSync(fs.dir)).toEqual(['west.h5']); // no temporary copy left
  };

  it('the disk fills mid-run, then has no room for the copy, then none for the commit: exit 4 and west.h5 whole each time; freed, the run resumes to the undisturbed west.h5', () => {
    const h5 = join(fs.dir, 'west.h5');
    const dir = simRoot(h5);
    expect(westream(dir, INIT).code).toBe(0);

    // 1. Mid-run: the file grows until a commit no longer fits.
    const first = westream(dir, ['run']);
    expectDiskFull(first, h5);
    const stopped = JSON.parse(westream(dir, ['status', '--json']).stdout) as { currentIteration: number };
    expect(stopped.currentIteration).toBeGreaterThan(2);
    expect(stopped.currentIteration).toBeLessThan(13);
    expect(Object.keys(dump(h5)).some((k) => k.startsWith(`iterations/iter_${String(stopped.currentIteration).padStart(8, '0')}/pcoord`))).toBe(true);

    // 2. The copy step: less free space than west.h5 itself (issue 14 item 2: was "internal error" and a stack).
    const size = statSync(h5).size;
    fs.resize(Math.ceil((size + 32 * 1024) / 4096) * 4096);
    expect(fs.free()).toBeLessThan(size);
    let before = readFileSync(h5);
    expectDiskFull(westream(dir, ['run']), h5);
    expect(readFileSync(h5).equals(before)).toBe(true);

    // 3. The reproduction: room for the copy (~250 KiB free) but not for the commit.
    fs.resize(Math.ceil((size + 250 * 1024) / 4096) * 4096);
    expect(fs.free()).toBeGreaterThan(size);
    before = readFileSync(h5);
    expectDiskFull(westream(dir, ['run']), h5);
    expect(readFileSync(h5).equals(before)).toBe(true);
    expect(JSON.parse(westream(dir, ['status', '--json']).stdout)).toMatchObject({ currentIteration: stopped.currentIteration });

    // Freed: the run resumes and ends where the undisturbed one did.
    fs.resize(64 * 2 ** 20);
    const last = westream(dir, ['run']);
    expect(last.code, last.stderr).toBe(0);
    expect(existsSync(h5)).toBe(true);
    expect(diff(dump(h5), reference)).toEqual([]);
  }, 300_000);

  it('a full file system elsewhere (the results journal in .westream) also stops with exit 4 and no stack trace', () => {
    const dir = simRoot();
    expect(westream(dir, INIT).code).toBe(0);
    const state = mountTmpfs(64 * 1024, join(dir, '.westream'));
    try {
      writeFileSync(join(state.dir, 'fill'), Buffer.alloc(state.free()));
      const r = westream(dir, ['run']);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/^westream: disk full: ENOSPC: no space left on device.*then `westream run` resumes$/m);
      expect(r.stderr).not.toContain('internal error');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      state.unmount();
    }
    expect(existsSync(join(dir, 'west.h5'))).toBe(true);
  }, 120_000);
});
