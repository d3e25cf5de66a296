/** A loaded trajectory as it travels in a SegmentResult (JSON), and back. */

/** A segment's trajectory as WESTPA's trajectory loader read it (mdtraj's units: nm, ps, degrees). */
export interface LoadedTrajectory {
  /** mdtraj's HDF5 topology JSON. */
  readonly topology: string;
  readonly atoms: number;
  /** frames × atoms × 3. */
  readonly coordinates: Float32Array;
  readonly time?: Float32Array;
  readonly cell?: { readonly lengths: Float32Array; readonly angles: Float32Array };
}
/**
 * A segment's frames as they travel (JSON, through BullMQ too): float32 arrays as base64 of their bytes, 4/3
 * of the binary size. `coordinates` is frames × atoms × 3 in nm; `time` ps; `cell` nm and degrees.
 */
export interface WireTrajectory {
  readonly topology: string;
  readonly atoms: number;
  readonly coordinates: string;
  readonly time: string | null;
  readonly cellLengths: string | null;
  readonly cellAngles: string | null;
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string): Float32Array => {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
};

export function wireTrajectory(t: LoadedTrajectory): WireTrajectory {
  return {
    topology: t.topology,
    atoms: t.atoms,
    coordinates: b64(t.coordinates),
    time: t.time ? b64(t.time) : null,
    cellLengths: t.cell ? b64(t.cell.lengths) : null,
    cellAngles: t.cell ? b64(t.cell.angles) : null,
  };
}

export function unwireTrajectory(w: WireTrajectory): LoadedTrajectory {
  return {
    topology: w.topology,
    atoms: w.atoms,
    coordinates: f32(w.coordinates),
    ...(w.time !== null ? { time: f32(w.time) } : {}),
    ...(w.cellLengths !== null && w.cellAngles !== null ? { cell: { lengths: f32(w.cellLengths), angles: f32(w.cellAngles) } } : {}),
  };
}
