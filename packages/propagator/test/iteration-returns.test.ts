/**
 * The restart and log bytes of WESTPA's HDF5 framework, packed and restored with the system's GNU tar: the
 * bytes depend only on names and contents (the same seed gives the same iteration file), and what is restored
 * is what was packed.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeHdf5Returns, packLog, packRestart, restoreRestart } from '../src/iteration-returns.js';

function filled(tag: string, mtime: number, order: readonly string[]): ReturnType<typeof makeHdf5Returns> {
  const dir = mkdtempSync(join(tmpdir(), `westream-returns-test-${tag}-`));
  const r = makeHdf5Returns(dir, 'seg');
  mkdirSync(join(r.restartDir, 'sub'));
  // Written in a different order each time: directory order is the file system's, not the names'.
  for (const name of order) writeFileSync(join(r.restartDir, name), `contents of ${name}\n`);
  writeFileSync(r.logFile, 'the log\n');
  for (const name of [...order, 'sub', '.']) utimesSync(join(r.restartDir, name), mtime, mtime);
  utimesSync(r.logFile, mtime, mtime);
  return r;
}

describe('restart and log bytes', () => {
  it("are the same for the same names and contents, whatever the files' times and creation order", async () => {
    const a = filled('a', 1_000_000, ['parent.rst', 'sub/x.dat', 'b.txt']);
    const b = filled('b', 2_000_000, ['b.txt', 'sub/x.dat', 'parent.rst']);
    expect(Buffer.from(await packRestart(a, 'a'))).toEqual(Buffer.from(await packRestart(b, 'b')));
    expect(Buffer.from((await packLog(a, 'a')) as Uint8Array)).toEqual(Buffer.from((await packLog(b, 'b')) as Uint8Array));
    // The control: a different content gives different bytes.
    writeFileSync(join(b.restartDir, 'b.txt'), 'changed\n');
    expect(Buffer.from(await packRestart(a, 'a'))).not.toEqual(Buffer.from(await packRestart(b, 'b')));
  });

  it('restore into a segment directory with their contents, timed at the extraction', async () => {
    const a = filled('c', 1_000_000, ['parent.rst', 'sub/x.dat']);
    const bytes = await packRestart(a, 'a');
    const seg = mkdtempSync(join(tmpdir(), 'westream-returns-test-seg-'));
    const before = Date.now() / 1000 - 5;
    await restoreRestart(bytes, seg, tmpdir(), 'segment 3 of iteration 2');
    expect(readFileSync(join(seg, 'sub/x.dat'), 'utf8')).toBe('contents of sub/x.dat\n');
    expect(statSync(join(seg, 'parent.rst')).mtimeMs / 1000).toBeGreaterThan(before);
    await expect(restoreRestart(Uint8Array.from([1, 2, 3]), seg, tmpdir(), 'segment 3 of iteration 2')).rejects.toThrow(
      /segment 3 of iteration 2: the parent's restart data is not WESTPA's/,
    );
  });
});
