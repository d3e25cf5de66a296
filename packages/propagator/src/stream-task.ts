/**
 * The pieces of a streamed segment that are not process management: finding the engine's port in its log,
 * and the built-in analyses (pcoord, guard) that read the IMD stream in this process.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { StreamPcoord, StreamTrajectory } from '@westream/config';
import { connectImd, type ImdFrame } from '@westream/imd';
import type { H5mdWriter } from '@westream/h5md';

/**
 * Why a streamed segment failed, ready for the segment's reason. `seen`: when it was found. Once the engine
 * has closed its stream ('stream-ended'), or the analysis program has exited ('program-exited', perhaps at
 * that same end), the engine may be dying, and its own exit status is the better reason.
 */
export class StreamFailure extends Error {
  readonly code = 'PROPAGATOR_ERR_STREAM';
  constructor(
    message: string,
    readonly seen: 'mid-stream' | 'stream-ended' | 'program-exited' = 'mid-stream',
  ) {
    super(message);
    this.name = 'StreamFailure';
  }
}

/**
 * Watches the propagator's log file(s) for `pattern` (its first group is the port). Resolves with the port;
 * rejects with a StreamFailure when the propagator ends first or `timeoutMs` passes.
 */
export async function discoverPort(
  files: readonly string[],
  pattern: RegExp,
  timeoutMs: number,
  ended: Promise<unknown>,
  signal?: AbortSignal,
): Promise<number> {
  let over = false;
  void ended.then(() => (over = true));
  const texts = files.map(() => '');
  const offsets = files.map(() => 0);
  const buf = Buffer.allocUnsafe(64 * 1024);
  const deadline = Date.now() + timeoutMs;
  let pause = 1; // ms; engines print the port within milliseconds of starting, so look often at first
  for (;;) {
    const wasOver = over; // read once more after the end: the line may have come just before it
    for (let i = 0; i < files.length; i++) {
      let fd: number;
      try {
        fd = openSync(files[i] as string, 'r');
      } catch {
        continue; // not created yet
      }
      try {
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, offsets[i] as number);
          if (n <= 0) break;
          offsets[i] = (offsets[i] as number) + n;
          texts[i] = ((texts[i] as string) + buf.toString('utf8', 0, n)).slice(-256 * 1024);
        }
      } finally {
        closeSync(fd);
      }
      const m = pattern.exec(texts[i] as string);
      if (m) {
        const port = Number(m[1]);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw new StreamFailure(`the port pattern matched '${m[0]}', but '${m[1] ?? ''}' is not a port number`);
        return port;
      }
    }
    if (wasOver) throw new StreamFailure(`the propagator ended without printing a line that matches the port pattern /${pattern.source}/`);
    if (signal?.aborted) throw new StreamFailure('cancelled while waiting for the port');
    if (Date.now() > deadline)
      throw new StreamFailure(`no line matching the port pattern /${pattern.source}/ appeared in the propagator's log within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 50);
  }
}

/** Reads a stream to its end and drops it: an engine that blocks until someone reads can finish. */
export async function drainStream(host: string, port: number): Promise<void> {
  try {
    const c = await connectImd({ host, port, timeoutMs: 60_000, bufferFrames: 1 << 20 });
    for await (const f of c) void f;
  } catch {
    /* nothing to report: the analysis already failed, and this only keeps the engine going */
  }
}

export interface BuiltinResult {
  readonly frames: number;
  /** The sampled pcoord (builtin pcoord), else null. */
  readonly pcoord: number[] | null;
  /** What happened, for the analysis log. */
  readonly notes: string[];
  /** builtin record with target iteration: the frames, for the segment's result; else null. */
  readonly recorded: RecordedFrames | null;
}

/**
 * Connects to the engine and runs the built-in analyses over its stream until it ends. `onGuard` is called
 * the moment the guard trips (the caller stops the engine); the promise then rejects with the reason.
 */
export async function runBuiltins(
  st: StreamTrajectory,
  host: string,
  port: number,
  pcoordLen: number,
  connectSignal: AbortSignal,
  recordFile?: string,
): Promise<BuiltinResult> {
  // `connectSignal` stops only the connecting (the engine ended, or the segment stops); once connected the
  // stream ends by itself, and frames already received must not be dropped by an abort.
  const connecting = new AbortController();
  const forward = (): void => connecting.abort();
  connectSignal.addEventListener('abort', forward, { once: true });
  if (connectSignal.aborted) connecting.abort();
  let client;
  try {
    client = await connectImd({
      host,
      port,
      timeoutMs: st.timeout * 1000,
      ...(st.nAtoms !== null ? { expectedAtoms: st.nAtoms } : {}),
      signal: connecting.signal,
    });
  } finally {
    connectSignal.removeEventListener('abort', forward);
  }
  const distances: number[] = [];
  const notes: string[] = [`connected to ${host}:${port}: IMD v${client.version}, ${client.littleEndian ? 'little' : 'big'}-endian`];
  let previous: ImdFrame | undefined;
  let frames = 0;
  const rec = st.record && st.record.target === 'file' && recordFile ? new Recorder(st.record, recordFile, st.box !== null) : undefined;
  const collect = st.record?.target === 'iteration' ? new FrameCollector(st.record.stride) : undefined;
  const fallbackBox = st.box ? Float32Array.of(st.box[0], 0, 0, 0, st.box[1], 0, 0, 0, st.box[2]) : undefined;
  try {
    for await (const f of client) {
      frames++;
      const x = f.positions;
      if (!x) throw new StreamFailure(`frame ${f.index} (step ${f.step}) carries no positions; the engine must stream coordinates`);
      const box = f.box ?? fallbackBox;
      if (st.pcoord || st.guard) checkFinite(f, st.pcoord ? 'builtin pcoord' : 'guard');
      if (st.guard) guard(f, previous, st.guard.maxDisplacement, box);
      if (st.pcoord) distances.push(distance(x, box, st.pcoord, f));
      if (rec) await rec.add(f, box);
      collect?.add(f, box);
      // Done with the frame before: the guard compared it, the pcoord and the record (H5MD writes copy) used it.
      // Its memory goes back to the client for later frames (no fresh pages per frame for large systems).
      if (previous) client.release(previous);
      previous = f;
    }
    rec?.finish();
  } catch (e) {
    rec?.abandon();
    throw e;
  } finally {
    await client.close();
  }
  notes.push(`${frames} frame(s)`);
  if (rec) notes.push(`record: ${rec.written} frame(s) of ${rec.atoms} atom(s) to ${recordFile}`);
  const recorded = collect?.frames() ?? null;
  if (recorded) notes.push(`record: ${recorded.frames} frame(s) of ${recorded.atoms} atom(s) for the iteration file`);
  if (!st.pcoord) return { frames, pcoord: null, notes, recorded };
  const { points, stride } = sample(distances, pcoordLen, st.pcoord.stride);
  notes.push(`pcoord: frames 0, ${stride}, ${2 * stride}, … → ${points.length} point(s)`);
  return { frames, pcoord: points.map((d) => d * (st.pcoord as StreamPcoord).scale), notes, recorded };
}

/** The streamed frames of a segment as mdtraj holds a trajectory (nm, ps; box lengths in nm, angles in degrees). */
export interface RecordedFrames {
  readonly atoms: number;
  readonly frames: number;
  readonly coordinates: Float32Array;
  readonly time: Float32Array;
  readonly cell: { readonly lengths: Float32Array; readonly angles: Float32Array } | null;
}

/**
 * builtin record, target iteration: every stride-th frame's positions, kept in memory for the segment's result
 * (the sim-manager writes them into the iteration file). IMD streams Å; mdtraj and WESTPA's iteration file use nm.
 */
class FrameCollector {
  private readonly xyz: Float32Array[] = [];
  private readonly time: number[] = [];
  private readonly box: (number[] | null)[] = [];
  private seen = 0;

  constructor(private readonly stride: number) {}

  add(f: ImdFrame, box: Float32Array | undefined): void {
    if (this.seen++ % this.stride !== 0) return;
    const x = f.positions as Float32Array;
    if (this.xyz.length > 0 && x.length !== (this.xyz[0] as Float32Array).length)
      throw new StreamFailure(`builtin record: frame ${f.index} has ${x.length / 3} atoms, the first ${(this.xyz[0] as Float32Array).length / 3}`);
    this.xyz.push(Float32Array.from(x, (v) => v / 10)); // a copy: the frame's memory goes back to the client
    this.time.push(f.time ?? f.index);
    const b = boxOf(box);
    this.box.push(b ? [(b[0]?.[0] ?? 0) / 10, (b[1]?.[1] ?? 0) / 10, (b[2]?.[2] ?? 0) / 10] : null);
  }

  frames(): RecordedFrames | null {
    const n = this.xyz.length;
    if (n === 0) return null;
    const per = (this.xyz[0] as Float32Array).length;
    const coordinates = new Float32Array(n * per);
    this.xyz.forEach((x, i) => coordinates.set(x, i * per));
    const boxes = this.box.every((b) => b !== null);
    return {
      atoms: per / 3,
      frames: n,
      coordinates,
      time: Float32Array.from(this.time),
      cell: boxes ? { lengths: Float32Array.from(this.box.flatMap((b) => b)), angles: new Float32Array(3 * n).fill(90) } : null,
    };
  }
}

type RecordSpec = NonNullable<StreamTrajectory['record']>;

/** builtin record: the selected atoms of every stride-th frame, into an H5MD file. */
class Recorder {
  written = 0;
  atoms = 0;
  private writer: H5mdWriter | undefined;
  private seen = 0;

  constructor(
    private readonly spec: RecordSpec,
    private readonly file: string,
    private readonly fallbackBox: boolean,
  ) {}

  async add(f: ImdFrame, box: Float32Array | undefined): Promise<void> {
    if (this.seen++ % this.spec.stride !== 0) return;
    const total = (f.positions?.length ?? 0) / 3;
    const sel = this.spec.atoms;
    if (sel)
      for (const i of sel) if (i >= total) throw new StreamFailure(`builtin record: atom index ${i} is outside the frame (${total} atoms, frame ${f.index})`);
    const pick = (a: Float32Array | undefined, what: string): Float32Array => {
      if (!a) throw new StreamFailure(`builtin record: frame ${f.index} (step ${f.step}) carries no ${what}; record only fields the engine streams`);
      if (!sel) return a;
      const out = new Float32Array(3 * sel.length);
      sel.forEach((i, k) => out.set(a.subarray(3 * i, 3 * i + 3), 3 * k));
      return out;
    };
    const data = Object.fromEntries(
      this.spec.fields.map((fld) => [fld, pick(fld === 'position' ? f.positions : fld === 'velocity' ? f.velocities : f.forces, fld)]),
    );
    if (!this.writer) {
      const { H5mdWriter } = await import('@westream/h5md'); // h5wasm only where something is recorded
      this.atoms = sel ? sel.length : total;
      this.writer = await H5mdWriter.create({
        file: this.file,
        atoms: this.atoms,
        fields: this.spec.fields,
        compression: this.spec.compression,
        edges: box !== undefined || this.fallbackBox,
        creator: { name: 'westream', version: '0.1.0' },
      });
    }
    const b = boxOf(box);
    this.writer.append({ step: f.step, time: f.time ?? f.index, edges: b ? [b[0]?.[0] ?? 0, b[1]?.[1] ?? 0, b[2]?.[2] ?? 0] : null, data });
    this.written++;
  }

  finish(): void {
    this.writer?.close();
  }

  abandon(): void {
    this.writer?.discard();
  }
}

/** Frames 0, stride, 2·stride, … : exactly `len` of them, the last being the stream's last frame. */
function sample(values: readonly number[], len: number, stride: number | null): { points: number[]; stride: number } {
  const n = values.length;
  if (len === 1 && n >= 1) return { points: [values[n - 1] as number], stride: n }; // one point: the segment's end
  const s = stride ?? (len > 1 && (n - 1) % (len - 1) === 0 ? (n - 1) / (len - 1) : null);
  if (s === null || s < 1 || (len - 1) * s !== n - 1) {
    const need =
      stride === null ? `a stream of (pcoord_len − 1)·k + 1 frames (pcoord_len ${len})` : `(pcoord_len − 1)·stride + 1 = ${(len - 1) * stride + 1} frames`;
    throw new StreamFailure(
      `builtin pcoord: the stream had ${n} frame(s), but ${need}; match the engine's IMD rate and nsteps to pcoord_len, or set stream_trajectory.pcoord.stride`,
      'stream-ended',
    );
  }
  return { points: Array.from({ length: len }, (_, i) => values[i * s] as number), stride: s };
}

/** Box vectors a, b, c from IMD's 9 floats, or null when the frame has no (or an empty) box. */
function boxOf(box: Float32Array | undefined): number[][] | null {
  if (!box || (box[0] === 0 && box[4] === 0 && box[8] === 0)) return null;
  return [Array.from(box.subarray(0, 3)), Array.from(box.subarray(3, 6)), Array.from(box.subarray(6, 9))];
}

/** Minimum image of d in place, for a box whose vectors are lower-triangular (GROMACS, LAMMPS). */
function minimumImage(d: number[], box: number[][] | null): number[] {
  if (!box) return d;
  for (let k = 2; k >= 0; k--) {
    const v = box[k] as number[];
    const len = v[k] as number;
    if (!(len > 0)) continue;
    const n = Math.round((d[k] as number) / len);
    if (n !== 0) for (let j = 0; j < 3; j++) d[j] = (d[j] as number) - n * (v[j] as number);
  }
  return d;
}

/** Centre of a group, each atom taken as its image nearest the group's first atom (groups split by the box). */
function centre(x: Float32Array, group: readonly number[], box: number[][] | null, f: ImdFrame): number[] {
  const atoms = x.length / 3;
  const first = group[0] as number;
  for (const i of group) if (i >= atoms) throw new StreamFailure(`builtin pcoord: atom index ${i} is outside the frame (${atoms} atoms, frame ${f.index})`);
  const c = [0, 0, 0];
  for (const i of group) {
    const d = minimumImage(
      [0, 1, 2].map((k) => (x[3 * i + k] as number) - (x[3 * first + k] as number)),
      box,
    );
    for (let k = 0; k < 3; k++) c[k] = (c[k] as number) + (x[3 * first + k] as number) + (d[k] as number);
  }
  return c.map((v) => v / group.length);
}

function distance(x: Float32Array, box: Float32Array | undefined, p: StreamPcoord, f: ImdFrame): number {
  const b = boxOf(box);
  const a = centre(x, p.groups[0], b, f);
  const c = centre(x, p.groups[1], b, f);
  const d = minimumImage(
    [0, 1, 2].map((k) => (c[k] as number) - (a[k] as number)),
    b,
  );
  return Math.hypot(d[0] as number, d[1] as number, d[2] as number);
}

/**
 * NaN or ±Inf in a frame's positions, box or time: an engine that blew up (or a corrupt stream). A distance
 * from it would be NaN in west.h5 and a bin assignment would fail far from the cause, so the segment fails
 * here, naming the frame and the value.
 */
function checkFinite(f: ImdFrame, who: string): void {
  const at = `frame ${f.index} (step ${f.step})`;
  const x = f.positions;
  if (x) {
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]))
        throw new StreamFailure(`${who}: atom ${Math.floor(i / 3)} has a non-finite coordinate (${x[i]}) in ${at}; the engine blew up`);
    }
  }
  if (f.box) {
    for (let i = 0; i < f.box.length; i++) {
      if (!Number.isFinite(f.box[i]))
        throw new StreamFailure(`${who}: the box has a non-finite value (${f.box[i]}, element ${i} of 9) in ${at}; the engine blew up`);
    }
  }
  for (const [name, v] of [
    ['time', f.time],
    ['dt', f.dt],
  ] as const) {
    if (v !== undefined && !Number.isFinite(v))
      throw new StreamFailure(`${who}: the ${name} is not finite (${v}) in ${at}; the engine blew up or the stream is corrupt`);
  }
}

function guard(f: ImdFrame, prev: ImdFrame | undefined, limit: number, box: Float32Array | undefined): void {
  const x = f.positions as Float32Array; // finite: checkFinite ran first
  if (!prev?.positions) return;
  const p = prev.positions;
  const b = boxOf(box);
  for (let i = 0; i < x.length / 3; i++) {
    const d = minimumImage(
      [0, 1, 2].map((k) => (x[3 * i + k] as number) - (p[3 * i + k] as number)),
      b,
    );
    const r = Math.hypot(d[0] as number, d[1] as number, d[2] as number);
    if (r > limit)
      throw new StreamFailure(
        `guard: atom ${i} moved ${r.toFixed(3)} between frame ${prev.index} (step ${prev.step}) and frame ${f.index} (step ${f.step}), more than max_displacement ${limit}`,
      );
  }
}
