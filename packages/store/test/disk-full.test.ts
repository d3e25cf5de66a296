/**
 * Issue 14 item 1, at the store: a commit the disk cannot hold must leave west.h5 as it was, byte for byte, and
 * say how much to free. The free space is arranged so that the check before the commit passes and the disk
 * fills while HDF5 writes the copy: the case that HDF5 reports only on stderr and that used to be renamed over
 * the good file.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskFullError, WestH5, type PreparedIteration, type RunMeta, type StateSet } from '@westream/store';
import { afterAll, describe, expect, it } from 'vitest';
import { skipWithoutPeer } from '../../../test/support/peers.js';
import { mountTmpfs, tmpfsMissing, type Tmpfs } from '../../../test/support/tmpfs.js';

const skip = skipWithoutPeer('a tmpfs to fill (root)', tmpfsMissing());

const meta: RunMeta = { pcoordNdim: 1, pcoordLen: 5, pcoordDtype: 'float32', iterPrec: 8, seed: 7n };
const states: StateSet = { bstates: [{ label: 'a', probability: 1, auxref: 'a', pcoord: [0] }], istates: [], tstates: [{ label: 't', pcoord: [9] }] };
const summary = { nParticles: 0, norm: 1, minBinProb: 0, maxBinProb: 0, minSegProb: 0, maxSegProb: 0 };

function iteration(nIter: number, n: number): PreparedIteration {
  return {
    nIter,
    weights: Array.from({ length: n }, () => 1 / n),
    parentIds: Array.from({ length: n }, (_, i) => i % 3),
    wtgParentIds: Array.from({ length: n }, (_, i) => [i % 3]),
    initPcoords: Float64Array.from({ length: n }, (_, i) => i / n),
    binTargetCounts: null,
    newWeights: [],
    summary: { ...summary, nParticles: n },
  };
}

function outcome(nIter: number, n: number) {
  return {
    nIter,
    status: new Uint8Array(n).fill(2),
    endpointTypes: new Uint8Array(n).fill(1),
    cputime: new Float64Array(n),
    walltime: new Float64Array(n),
    pcoord: Float64Array.from({ length: n * 5 }, (_, i) => i),
    auxdata: {},
    iterCputime: 0,
    iterWalltime: 0,
  };
}

// Iteration 2 of 60 000 segments adds ~4 MB: far beyond the 256 KiB the check before a first commit asks for.
const BIG = 60_000;

describe.skipIf(skip)('west.h5 commit on a full disk (issue 14 item 1)', () => {
  const mounted: Tmpfs[] = [];
  const tmpfs = (bytes: number): Tmpfs => {
    const t = mountTmpfs(bytes);
    mounted.push(t);
    return t;
  };
  afterAll(() => mounted.forEach((t) => t.unmount()));

  it('disk fills while HDF5 writes the commit: DiskFullError, west.h5 byte-identical, no temporary left; after freeing space the same commit succeeds', async () => {
    const fs = tmpfs(16 * 2 ** 20);
    const path = join(fs.dir, 'west.h5');
    const store = await WestH5.create(path, meta, states, iteration(1, 3));
    const before = readFileSync(path);
    // Leave room for the copy and the check's headroom plus 64 KiB, far less than the commit writes.
    const filler = join(fs.dir, 'filler');
    writeFileSync(filler, Buffer.alloc(fs.free() - before.length - 256 * 1024 - 64 * 1024));
    expect(fs.free()).toBeGreaterThan(before.length + 256 * 1024); // the check before the commit passes

    const err = await store.commit({ outcome: outcome(1, 3), next: iteration(2, BIG) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as Error).message).toMatch(
      new RegExp(`^disk full: free \\d+ bytes \\(.*\\) at ${fs.dir}, then \`westream run\` resumes; ${path} is unchanged$`),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(fs.dir).sort()).toEqual(['filler', 'west.h5']);
    const reopened = await WestH5.open(path);
    expect(reopened.currentIteration).toBe(1);

    // Free what the message asks for: the same commit now succeeds and reads back whole.
    const ask = Number(/free (\d+) bytes/.exec((err as Error).message)?.[1]);
    rmSync(filler);
    expect(fs.free()).toBeGreaterThanOrEqual(ask);
    await reopened.commit({ outcome: outcome(1, 3), next: iteration(2, BIG) });
    const again = await WestH5.open(path);
    expect(again.currentIteration).toBe(2);
    const it2 = await again.readIteration(2);
    expect(it2.nSegs).toBe(BIG);
    expect(it2.pcoord[(BIG - 1) * 5]).toBeCloseTo((BIG - 1) / BIG, 5);
    expect(Array.from((await again.readIteration(1)).pcoord.slice(0, 5))).toEqual([0, 1, 2, 3, 4]);
  });

  it('no room even for the copy (item 2): DiskFullError before anything is written, west.h5 byte-identical', async () => {
    const fs = tmpfs(2 ** 20);
    const path = join(fs.dir, 'west.h5');
    const store = await WestH5.create(path, meta, states, iteration(1, 3));
    const before = readFileSync(path);
    const filler = join(fs.dir, 'filler2');
    writeFileSync(filler, Buffer.alloc(fs.free() - Math.floor(before.length / 2)));
    const err = await store.commit({ outcome: outcome(1, 3), next: iteration(2, 3) }).catch((e: unknown) => e);
    rmSync(filler);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as Error).message).toContain('`westream run` resumes');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(fs.dir).filter((f) => f.includes('westream-tmp'))).toEqual([]);
  });
});
