/**
 * westream's per-iteration HDF5 file (WESTPA's HDF5 framework) read by WESTPA's own readers: the restart bytes
 * WESTPA's own loader makes go in, come back through `WESTIterationFile.read_restart` and are extracted by
 * WESTPA's `restart_writer` into a child's directory; the frames come back through `read_as_traj` and
 * `mdtraj.load` exactly as written.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IterationFileError, readIterationBytes, writeIterationFile } from '@westream/store';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';

const skip = skipWithoutPeer('westpa + mdtraj (PyPI)', pythonModuleMissing('westpa') ?? pythonModuleMissing('mdtraj'));

/** Two ions, as in WESTPA's NaCl tutorial, in mdtraj's topology JSON. */
const TOPOLOGY = JSON.stringify({
  chains: [
    {
      index: 0,
      chain_id: 'A',
      residues: [
        { index: 0, name: 'NA', resSeq: 1, segmentID: '', atoms: [{ index: 0, name: 'Na', element: 'Na' }] },
        { index: 1, name: 'CL', resSeq: 2, segmentID: '', atoms: [{ index: 1, name: 'Cl', element: 'Cl' }] },
      ],
    },
  ],
  bonds: [],
});

function python(script: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** WESTPA's own restart_loader / seglog_loader on a directory and a file: the bytes WESTPA would store. */
const WESTPA_LOADERS = `
import sys
from westpa.core.segment import Segment
from westpa.core.propagators.loaders import restart_loader, seglog_loader
seg = Segment(n_iter=3, seg_id=1)
restart_loader('restart', sys.argv[1], seg, False)
seglog_loader('log', sys.argv[2], seg, False)
open(sys.argv[3], 'wb').write(seg.data['iterh5/restart'])
open(sys.argv[4], 'wb').write(seg.data['iterh5/log'])
`;

/** WESTPA's readers on the file: frames per segment, and the restart extracted as a child's directory would be. */
const WESTPA_READERS = `
import json, os, sys, mdtraj
from westpa.core.h5io import WESTIterationFile
from westpa.core.segment import Segment
from westpa.core.propagators.loaders import restart_writer
path, child = sys.argv[1], sys.argv[2]
out = {}
with WESTIterationFile(path, 'r') as f:
    for seg_id in (0, 1):
        t = f.read_as_traj(3, seg_id)
        out[seg_id] = {'xyz': t.xyz.ravel().tolist(), 'time': t.time.tolist(), 'lengths': t.unitcell_lengths.ravel().tolist(), 'atoms': [a.name for a in t.topology.atoms]}
    seg = Segment(n_iter=3, seg_id=1)
    f.read_restart(seg)
    restart_writer(child, seg)
out['extracted'] = {name: open(os.path.join(child, name)).read() for name in sorted(os.listdir(child))}
out['mdtraj_frames'] = mdtraj.load(path).n_frames
print(json.dumps(out))
`;

describe.skipIf(skip)('the per-iteration file through WESTPA’s readers', () => {
  it('gives back each segment’s frames and restart files as westream wrote them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-iterfile-'));
    const restartDir = join(dir, 'restart-return');
    mkdirSync(restartDir);
    writeFileSync(
      join(restartDir, 'parent.gro'),
      'NaCl\n    2\n    1NA      Na    1   0.100   0.200   0.300\n    2CL      Cl    2   0.400   0.500   0.600\n   3.0   3.0   3.0\n',
    );
    writeFileSync(join(restartDir, 'nacl.top'), '; topology\n');
    writeFileSync(join(dir, 'seg.log'), 'gmx mdrun log\n');
    python(WESTPA_LOADERS, restartDir, join(dir, 'seg.log'), join(dir, 'restart.bin'), join(dir, 'log.bin'));
    const restart = new Uint8Array(readFileSync(join(dir, 'restart.bin')));
    const log = new Uint8Array(readFileSync(join(dir, 'log.bin')));

    // Segment 0: 3 frames, segment 1: 2 frames, each coordinate distinct.
    const frames = (n: number, base: number): Float32Array => Float32Array.from({ length: n * 2 * 3 }, (_, i) => base + i * 0.01);
    const cell = (n: number): { lengths: Float32Array; angles: Float32Array } => ({
      lengths: new Float32Array(3 * n).fill(3),
      angles: new Float32Array(3 * n).fill(90),
    });
    const seg0 = { coordinates: frames(3, 1), time: Float32Array.of(20, 21, 22), cell: cell(3) };
    const seg1 = { coordinates: frames(2, 2), time: Float32Array.of(20, 21), cell: cell(2) };
    const path = join(dir, 'iter_000003.h5');
    await writeIterationFile(path, {
      nIter: 3,
      atoms: 2,
      topology: TOPOLOGY,
      programVersion: 'test',
      segments: [
        { nIter: 3, segId: 0, trajectory: seg0 },
        { nIter: 3, segId: 1, trajectory: seg1, restart, log },
      ],
    });

    const child = join(dir, 'child-seg');
    mkdirSync(child);
    const got = JSON.parse(python(WESTPA_READERS, path, child)) as Record<string, { xyz: number[]; time: number[]; lengths: number[]; atoms: string[] }> & {
      extracted: Record<string, string>;
      mdtraj_frames: number;
    };
    expect(got['0']?.xyz).toEqual(Array.from(seg0.coordinates));
    expect(got['1']?.xyz).toEqual(Array.from(seg1.coordinates));
    // Rebased as WESTPA's write_segment does: duration 1 ps × (n_iter − 1) = 2.
    expect(got['1']?.time).toEqual([2, 3]);
    expect(got['0']?.lengths).toEqual(new Array(9).fill(3));
    expect(got['0']?.atoms).toEqual(['Na', 'Cl']);
    expect(got.mdtraj_frames).toBe(5);
    // WESTPA's restart_writer only warns when it cannot extract: the files themselves are the check.
    expect(got.extracted).toEqual({ 'nacl.top': '; topology\n', 'parent.gro': readFileSync(join(restartDir, 'parent.gro'), 'utf8') });
    expect(await readIterationBytes(path, 'restart', 3, 1)).toEqual(restart);
    expect(await readIterationBytes(path, 'log', 3, 1)).toEqual(log);
    expect(await readIterationBytes(path, 'restart', 3, 0)).toBeNull();
  }, 120_000);
});

describe('bad input to the per-iteration file', () => {
  it('names the segment whose frames do not fit, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-iterfile-'));
    const path = join(dir, 'iter_000001.h5');
    const write = writeIterationFile(path, {
      nIter: 1,
      atoms: 2,
      topology: TOPOLOGY,
      programVersion: 'test',
      segments: [{ nIter: 1, segId: 4, trajectory: { coordinates: new Float32Array(7) } }],
    });
    await expect(write).rejects.toThrow(IterationFileError);
    await expect(write).rejects.toThrow(/segment 4 of iteration 1: 7 coordinates are not whole frames of 2 atoms/);
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout).toBe('');
  });
});
