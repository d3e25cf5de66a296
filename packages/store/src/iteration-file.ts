/**
 * WESTPA's per-iteration HDF5 file (the "HDF5 framework": `west.data.data_refs.iteration`), in the layout
 * WESTPA's `WESTIterationFile` (`westpa/core/h5io.py`) writes through mdtraj's HDF5 trajectory format and reads
 * back (`read_as_traj`, `read_restart`, `westpa.analysis`'s HDF5MDTrajectory), and `mdtraj.load` reads:
 *
 *   /pointer       int64 (frames, 2): each frame's (n_iter, seg_id); readers select a segment's frames by it
 *   /coordinates   float32 (frames, atoms, 3), `units` = nanometers
 *   /time          float32 (frames,), `units` = picoseconds (when the segments have times), rebased as WESTPA's
 *                  write_segment does: a segment's first frame at (its duration) × (n_iter − 1)
 *   /cell_lengths  float32 (frames, 3) nm and /cell_angles (frames, 3) degrees, both or neither
 *   /topology      the mdtraj topology as JSON, one fixed-length ASCII string (a variable-length one reads as
 *                  PyTables' UnImplemented and breaks read_as_traj)
 *   /restart/{n_iter}_{seg_id}/data, /log/{n_iter}_{seg_id}/data   WESTPA's bytes: a gzip tar plus one
 *                  trailing byte. Stored as 1-D uint8, not as PyTables' scalar string: a fixed-length string
 *                  cannot hold binary bytes through h5wasm (it encodes text), and WESTPA's reader slices either.
 *
 * The frame arrays are chunked and unlimited along frames (gzip, as mdtraj writes them), so WESTPA can append
 * to the file as it does to its own. The whole file is written at once, under a temporary name, verified and
 * renamed (`writeVerified`): one writer (the sim-manager), once per iteration, crash-safe as west.h5 is.
 */
import { existsSync } from 'node:fs';
import { codedError } from '@westream/we';
import { h5 } from './h5.js';
import { writeVerified } from './verified-write.js';

export interface SegmentFrames {
  /** frames × atoms × 3, nanometres. */
  readonly coordinates: Float32Array;
  /** One per frame, picoseconds. */
  readonly time?: Float32Array;
  /** frames × 3 (nm) and frames × 3 (degrees); both or neither. */
  readonly cell?: { readonly lengths: Float32Array; readonly angles: Float32Array };
}

export interface IterationFileSegment {
  readonly nIter: number;
  readonly segId: number;
  readonly trajectory?: SegmentFrames;
  /** WESTPA's restart bytes (gzip tar of WEST_RESTART_RETURN, then one byte). */
  readonly restart?: Uint8Array;
  /** WESTPA's log bytes (gzip tar of WEST_LOG_RETURN as `seg.log`, then one byte). */
  readonly log?: Uint8Array;
}

export interface IterationFileContents {
  readonly nIter: number;
  readonly atoms: number;
  /** mdtraj's topology JSON (`{"chains": …, "bonds": …}`); needed when any segment has frames. */
  readonly topology: string | null;
  readonly segments: readonly IterationFileSegment[];
  /** Recorded as the file's `programVersion`. */
  readonly programVersion: string;
}

/** Segments whose data does not fit one iteration file (the segment named), or a file westream cannot read. */
export class IterationFileError extends codedError('IterationFileError', 'STORE_ERR_ITERATION_FILE') {}

const FRAME_CHUNK = 64;
// h5wasm's dtypes are struct codes: '<q' is int64, '<f' float32, '<B' uint8 ('<i8' would be int32: the
// digits after an integer code are ignored).

export async function writeIterationFile(path: string, c: IterationFileContents): Promise<void> {
  const withFrames = c.segments.filter((s) => s.trajectory !== undefined);
  const frameCount = (s: IterationFileSegment): number => (s.trajectory ? s.trajectory.coordinates.length / (3 * c.atoms) : 0);
  for (const s of withFrames) {
    const t = s.trajectory as SegmentFrames;
    const frames = frameCount(s);
    const where = `${path}: segment ${s.segId} of iteration ${s.nIter}`;
    if (!Number.isInteger(frames)) throw new IterationFileError(`${where}: ${t.coordinates.length} coordinates are not whole frames of ${c.atoms} atoms`);
    if (t.time && t.time.length !== frames) throw new IterationFileError(`${where}: ${t.time.length} times for ${frames} frames`);
    if (t.cell && (t.cell.lengths.length !== 3 * frames || t.cell.angles.length !== 3 * frames))
      throw new IterationFileError(`${where}: the cell needs 3 lengths and 3 angles per frame`);
    if (
      (t.time === undefined) !== (withFrames[0]?.trajectory?.time === undefined) ||
      (t.cell === undefined) !== (withFrames[0]?.trajectory?.cell === undefined)
    ) {
      throw new IterationFileError(`${where}: some segments have times or cells and others not; one file holds one kind of frame`);
    }
  }
  if (withFrames.length > 0 && c.topology === null) throw new IterationFileError(`${path}: segments have frames but there is no topology`);
  const total = withFrames.reduce((n, s) => n + frameCount(s), 0);
  const first = withFrames[0]?.trajectory;
  const bytes = c.segments.reduce((n, s) => n + (s.trajectory?.coordinates.byteLength ?? 0) + (s.restart?.byteLength ?? 0) + (s.log?.byteLength ?? 0), 0);
  await writeVerified({
    path,
    headroom: 2 * bytes + (1 << 20),
    then: 'the run resumes from its last committed iteration',
    write(f) {
      for (const [k, v] of Object.entries({
        conventions: 'Pande',
        conventionVersion: '1.1',
        program: 'MDTraj',
        programVersion: c.programVersion,
        title: 'title',
        application: 'westream',
      }))
        f.create_attribute(k, v);
      f.create_attribute('n_iter', BigInt64Array.of(BigInt(c.nIter)), [], '<q');
      const pointer = new BigInt64Array(2 * total);
      const coords = new Float32Array(total * c.atoms * 3);
      const time = first?.time ? new Float32Array(total) : null;
      const lengths = first?.cell ? new Float32Array(3 * total) : null;
      const angles = first?.cell ? new Float32Array(3 * total) : null;
      let at = 0;
      for (const s of withFrames) {
        const t = s.trajectory as SegmentFrames;
        const n = frameCount(s);
        for (let i = 0; i < n; i++) {
          pointer[2 * (at + i)] = BigInt(s.nIter);
          pointer[2 * (at + i) + 1] = BigInt(s.segId);
        }
        coords.set(t.coordinates, at * c.atoms * 3);
        if (time && t.time) {
          // WESTPA's write_segment: a segment's times start at (its duration) × (n_iter − 1).
          const t0 = t.time[0] as number;
          const base = s.nIter === 0 ? 0 : ((t.time[n - 1] as number) - t0) * (s.nIter - 1);
          for (let i = 0; i < n; i++) time[at + i] = (t.time[i] as number) - t0 + base;
        }
        if (lengths && angles && t.cell) {
          lengths.set(t.cell.lengths, 3 * at);
          angles.set(t.cell.angles, 3 * at);
        }
        at += n;
      }
      const frameArray = (name: string, data: Float32Array | BigInt64Array, width: number[], dtype: string, units?: string): void => {
        const ds = f.create_dataset({
          name,
          data,
          shape: [total, ...width],
          maxshape: [null, ...width],
          chunks: [FRAME_CHUNK, ...width],
          dtype,
          compression: 'gzip',
          compression_opts: 1,
        });
        if (units) ds.create_attribute('units', units);
      };
      if (c.topology !== null) {
        // Fixed-length ASCII ('A'), NULLTERM as PyTables writes it; its length is the JSON's byte length.
        f.create_dataset({ name: 'topology', data: [c.topology], shape: [1], dtype: `A${Buffer.byteLength(c.topology)}` });
      }
      if (withFrames.length > 0) {
        frameArray('pointer', pointer, [2], '<q');
        frameArray('coordinates', coords, [c.atoms, 3], '<f', 'nanometers');
      }
      if (time) frameArray('time', time, [], '<f', 'picoseconds');
      if (lengths && angles) {
        frameArray('cell_lengths', lengths, [3], '<f', 'nanometers');
        frameArray('cell_angles', angles, [3], '<f', 'degrees');
      }
      for (const kind of ['restart', 'log'] as const) {
        const held = c.segments.filter((s) => s[kind] !== undefined);
        if (held.length === 0) continue;
        f.create_group(kind);
        for (const s of held) {
          const g = `${kind}/${s.nIter}_${s.segId}`;
          f.create_group(g);
          const data = s[kind] as Uint8Array;
          f.create_dataset({ name: `${g}/data`, data, shape: [data.length], dtype: '<B' });
        }
      }
    },
  });
}

/** The restart (or log) bytes this module stored for a segment, or null when the file holds none. */
export async function readIterationBytes(path: string, kind: 'restart' | 'log', nIter: number, segId: number): Promise<Uint8Array | null> {
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    const ds = f.get(`${kind}/${nIter}_${segId}/data`);
    if (!(ds instanceof lib.Dataset)) return null;
    const v = ds.value;
    if (!(v instanceof Uint8Array))
      throw new IterationFileError(
        `${path}: ${kind}/${nIter}_${segId}/data is not the uint8 bytes westream writes (a file WESTPA wrote holds a string there; westream reads only its own)`,
      );
    return new Uint8Array(v);
  } finally {
    f.close();
  }
}

/** All restart (or log) bytes of one iteration's segments in a file westream wrote, by seg_id; empty when absent. */
export async function readIterationFileBytes(path: string, kind: 'restart' | 'log', nIter: number): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  if (!existsSync(path)) return out;
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    const g = f.get(kind);
    if (!(g instanceof lib.Group)) return out;
    for (const name of g.keys()) {
      const m = /^(-?\d+)_(\d+)$/.exec(name);
      if (!m || Number(m[1]) !== nIter) continue;
      const v = f.get(`${kind}/${name}/data`);
      const bytes = v instanceof lib.Dataset ? v.value : null;
      if (!(bytes instanceof Uint8Array))
        throw new IterationFileError(
          `${path}: ${kind}/${name}/data is not the uint8 bytes westream writes (a file WESTPA wrote holds a string there; westream reads only its own)`,
        );
      out.set(Number(m[2]), new Uint8Array(bytes));
    }
    return out;
  } finally {
    f.close();
  }
}
