/**
 * Incremental parser of what an IMD engine sends: handshake, session info (v3), then frames. Feed it chunks
 * as they arrive; it returns the events that became complete. Anything malformed is an `ImdProtocolError`
 * that names the frame and the byte offset in the stream.
 *
 * v3 frames carry the packets the session announced, always in the fixed order TIME, ENERGIES, BOX, FCOORDS,
 * VELOCITIES, FORCES. v2 frames are [ENERGIES] FCOORDS; a frame without energies reuses the last ones
 * (as imdclient does).
 *
 * Speed: each body byte is copied once, from the socket's chunk straight into the frame's own array, as the
 * chunks arrive; large bodies are never gathered in an intermediate buffer. A header is checked as soon as
 * its 8 bytes are in, so a corrupt length fails before anything is allocated for it.
 */
import {
  BOX_BYTES,
  ENERGIES_BYTES,
  HEADER_BYTES,
  HOST_LE,
  ImdType,
  readEnergies,
  readHandshake,
  readSessionInfo,
  readTime,
  SESSIONINFO_BYTES,
  TIME_BYTES,
  TYPE_NAMES,
  V2_SESSION,
  type ImdEnergies,
  type ImdFrame,
  type ImdVersion,
  type SessionInfo,
} from './protocol.js';

export class ImdProtocolError extends Error {
  readonly code = 'IMD_ERR_PROTOCOL';
  /** Events completed by the same `push` before the error (deliver them first: they were good). */
  eventsBefore: readonly ImdEvent[] = [];
  /** The stream ended inside a frame (the engine stopped or died mid-write), rather than being malformed. */
  truncated = false;
  constructor(
    message: string,
    readonly offset: number,
    readonly frame: number,
  ) {
    super(message);
    this.name = 'ImdProtocolError';
  }
}

export type ImdEvent =
  | { readonly kind: 'handshake'; readonly version: ImdVersion; readonly littleEndian: boolean }
  | { readonly kind: 'session'; readonly session: SessionInfo }
  | { readonly kind: 'frame'; readonly frame: ImdFrame };

export interface ParserOptions {
  /** Atom count the caller expects; a coordinate packet of another length is an error. */
  readonly expectedAtoms?: number;
  /** Upper bound on atoms when none is expected, so a corrupt length cannot make us allocate gigabytes. */
  readonly maxAtoms?: number;
  /**
   * Memory for frame data: an ArrayBuffer of exactly `bytes` bytes, which the parser overwrites completely
   * before it hands out a frame that uses it (a whole v3 frame, or one coordinate, velocity or force body).
   * Default: fresh memory. The client passes its frame pool here (memory of frames a consumer released; see
   * ImdClient.release).
   */
  readonly allocate?: (bytes: number) => ArrayBuffer;
}

const ORDER: readonly [keyof SessionInfo, number][] = [
  ['time', ImdType.TIME],
  ['energies', ImdType.ENERGIES],
  ['box', ImdType.BOX],
  ['positions', ImdType.FCOORDS],
  ['velocities', ImdType.VELOCITIES],
  ['forces', ImdType.FORCES],
];

/** Body sizes of v3's fixed-size packets; every other frame packet is large (3 × atoms floats). */
const SMALL_BODY: Readonly<Record<number, number>> = { [ImdType.TIME]: TIME_BYTES, [ImdType.ENERGIES]: ENERGIES_BYTES, [ImdType.BOX]: BOX_BYTES };

type Partial = { -readonly [K in keyof ImdFrame]?: ImdFrame[K] };

/** The body being filled: its bytes go into `into` (a float array's bytes, or a small scratch buffer). */
interface Body {
  readonly type: number;
  readonly into: Uint8Array;
  filled: number;
  readonly floats: Float32Array | null;
}

/** An ArrayBuffer of exactly `bytes` bytes of its own (not a slice of Node's shared pool), uninitialised. */
export function freshMemory(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer;
}

/**
 * A v3 frame read in one piece: `buf` holds the stream's bytes from offset `start` on, exactly one frame's
 * worth, laid out as on the wire. Its large bodies are Float32Array views of `buf` (every header and body is
 * a multiple of 4 bytes, so they are aligned), so those bytes are copied once, by the kernel, and a read may
 * span several packets, as a raw read of the socket does.
 */
interface WholeFrame {
  readonly start: number;
  readonly buf: Uint8Array;
}

/** What a read that completes nothing returns (shared: callers only iterate it). */
const NO_EVENTS: readonly ImdEvent[] = Object.freeze([]);

export class ImdStreamParser {
  private readonly head = Buffer.alloc(HEADER_BYTES);
  private headFill = 0;
  /** Stream offset of the first byte of the message in progress (for error messages). */
  private messageAt = 0;
  private body: Body | undefined;
  /** Bytes of the stream consumed so far. */
  private consumed = 0;
  private version: ImdVersion | undefined;
  private le = true;
  private session: SessionInfo | undefined;
  private expected: number[] = [];
  private pos = 0;
  private frame: Partial = {};
  private frames = 0;
  private lastEnergies: ImdEnergies | undefined;
  private atoms: number | undefined;
  private readonly maxAtoms: number;

  constructor(private readonly o: ParserOptions = {}) {
    this.atoms = o.expectedAtoms;
    this.maxAtoms = o.maxAtoms ?? 50_000_000;
  }

  /** Stream offset of the next unparsed byte. */
  get offset(): number {
    return this.consumed;
  }

  get framesParsed(): number {
    return this.frames;
  }

  /** The session: from SESSIONINFO (v3) or v2's fixed one; undefined before the handshake. */
  get sessionInfo(): SessionInfo | undefined {
    return this.session;
  }

  get littleEndian(): boolean {
    return this.le;
  }

  /** True when bytes of an unfinished message or frame are pending (a stream ending now was cut off). */
  get midFrame(): boolean {
    return this.headFill > 0 || this.body !== undefined || this.pos > 0;
  }

  private readonly scratch = Buffer.allocUnsafe(64 * 1024);
  private direct: Body | undefined;

  /**
   * Where the socket should put its next read (Node's `onread` option). In a v3 stream whose frame size is
   * known (the session and the atom count), the rest of the current frame's own memory (`WholeFrame`), so a
   * frame's bytes are copied once, by the kernel, in as few reads as a raw read takes; while a large body of
   * another stream is being filled, that body's array; else a scratch buffer. Pass what was read to `received`.
   */
  readTarget(): Uint8Array {
    const w = this.whole ?? this.startWhole();
    if (w) return w.buf.subarray(this.consumed - w.start);
    const b = this.body;
    if (b && b.floats && b.into.length - b.filled >= 4096) {
      this.direct = b;
      return b.into.subarray(b.filled);
    }
    this.direct = undefined;
    return this.scratch;
  }

  private whole: WholeFrame | undefined;

  /** At a frame boundary of a v3 stream of known frame size: that frame's memory, to read it in one piece. */
  private startWhole(): WholeFrame | undefined {
    if (this.version !== 3 || this.atoms === undefined || this.atoms === 0 || this.expected.length === 0) return undefined;
    if (this.body || this.headFill > 0 || this.pos > 0) return undefined;
    let bytes = 0;
    let large = false;
    for (const t of this.expected) {
      const small = SMALL_BODY[t];
      if (small === undefined) large = true;
      bytes += HEADER_BYTES + (small ?? 12 * this.atoms);
    }
    if (!large) return undefined;
    this.whole = { start: this.consumed, buf: new Uint8Array(this.memory(bytes)) };
    return this.whole;
  }

  /** A large body of `bytes` that starts here, inside the frame read in one piece: its view there. */
  private inWhole(bytes: number): Float32Array | undefined {
    const w = this.whole;
    if (!w) return undefined;
    const at = this.consumed - w.start;
    if (at % 4 !== 0 || at + bytes > w.buf.length) return undefined;
    return new Float32Array(w.buf.buffer, w.buf.byteOffset + at, bytes / 4);
  }

  private memory(bytes: number): ArrayBuffer {
    const m = this.o.allocate ? this.o.allocate(bytes) : freshMemory(bytes);
    if (m.byteLength !== bytes) throw new RangeError(`ParserOptions.allocate returned ${m.byteLength} bytes for ${bytes}`);
    return m;
  }

  /** `n` bytes arrived in `buf`, the buffer `readTarget` returned. Same events and errors as `push`. */
  received(n: number, buf: Uint8Array): readonly ImdEvent[] {
    // Most reads of a whole frame land in place inside one large body and do not finish it: nothing to parse,
    // only counters to move (about 20 reads per 3.6 MB frame; the full path allocates per read).
    const b = this.body;
    const w = this.whole;
    if (w && b && b.floats && buf.buffer === b.into.buffer && buf.byteOffset === b.into.byteOffset + b.filled && b.filled + n < b.into.length) {
      b.filled += n;
      this.consumed += n;
      return NO_EVENTS;
    }
    const d = this.direct;
    this.direct = undefined;
    if (d === undefined || d !== this.body || buf.buffer !== d.into.buffer) return this.push(buf.subarray(0, n));
    d.filled += n;
    this.consumed += n;
    if (d.filled < d.into.length) return NO_EVENTS;
    this.body = undefined;
    return this.push(new Uint8Array(0), d);
  }

  push(chunk: Uint8Array, finished?: Body): ImdEvent[] {
    const events: ImdEvent[] = [];
    try {
      if (finished) this.finishBody(finished, events);
      this.consume(chunk, events);
    } catch (e) {
      if (e instanceof ImdProtocolError) e.eventsBefore = events;
      throw e;
    }
    return events;
  }

  private consume(chunk: Uint8Array, events: ImdEvent[]): void {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      const body = this.body;
      if (body) {
        const take = Math.min(body.into.length - body.filled, n - at);
        const from = take === n && at === 0 ? chunk : chunk.subarray(at, at + take);
        // Bytes read straight into the body's place in a WholeFrame are where they belong already.
        if (from.buffer !== body.into.buffer || from.byteOffset !== body.into.byteOffset + body.filled) body.into.set(from, body.filled);
        body.filled += take;
        at += take;
        this.consumed += take;
        if (body.filled === body.into.length) {
          this.body = undefined;
          this.finishBody(body, events);
        }
        continue;
      }
      if (this.headFill === 0) this.messageAt = this.consumed;
      const take = Math.min(HEADER_BYTES - this.headFill, n - at);
      this.head.set(chunk.subarray(at, at + take), this.headFill);
      this.headFill += take;
      at += take;
      this.consumed += take;
      if (this.headFill === HEADER_BYTES) {
        this.headFill = 0;
        this.onHeader(events);
      }
    }
  }

  private fail(message: string): never {
    throw new ImdProtocolError(`IMD stream, frame ${this.frames}, byte offset ${this.messageAt}: ${message}`, this.messageAt, this.frames);
  }

  private name(type: number): string {
    return type >= 0 && type < TYPE_NAMES.length ? `${TYPE_NAMES[type]} (type ${type})` : `unknown type ${type}`;
  }

  private onHeader(events: ImdEvent[]): void {
    const h = this.head;
    if (this.version === undefined) {
      const hs = readHandshake(h, 0);
      if (typeof hs === 'string') this.fail(hs);
      this.version = hs.version;
      this.le = hs.littleEndian;
      events.push({ kind: 'handshake', version: hs.version, littleEndian: hs.littleEndian });
      if (hs.version === 2) this.startSession(V2_SESSION);
      return;
    }
    const type = h.readInt32BE(0);
    const length = h.readInt32BE(4);
    if (this.session === undefined) {
      if (type !== ImdType.SESSIONINFO) this.fail(`expected SESSIONINFO after a v3 handshake, got ${this.name(type)}`);
      if (length !== SESSIONINFO_BYTES) this.fail(`SESSIONINFO length must be 7, got ${length}`);
      this.body = { type, into: Buffer.alloc(SESSIONINFO_BYTES), filled: 0, floats: null };
      return;
    }
    if (this.version === 3) {
      const want = this.expected[this.pos];
      if (want === undefined) this.fail('the session announces no frame packets');
      if (type !== want) this.fail(`expected ${this.name(want)} (packet ${this.pos + 1} of ${this.expected.length} of a v3 frame), got ${this.name(type)}`);
    } else {
      if (type !== ImdType.ENERGIES && type !== ImdType.FCOORDS) this.fail(`expected ENERGIES or FCOORDS in a v2 stream, got ${this.name(type)}`);
      if (type === ImdType.ENERGIES && this.pos > 0) this.fail('two ENERGIES packets without FCOORDS between them');
    }
    this.body = this.startBody(type, length);
    if (this.body.into.length === 0) {
      const b = this.body;
      this.body = undefined;
      this.finishBody(b, events);
    }
  }

  private startBody(type: number, length: number): Body {
    const small = (bytes: number): Body => ({ type, into: Buffer.alloc(bytes), filled: 0, floats: null });
    switch (type) {
      case ImdType.TIME:
        if (length !== 1) this.fail(`TIME length must be 1, got ${length}`);
        return small(TIME_BYTES);
      case ImdType.ENERGIES:
        if (length !== 1) this.fail(`ENERGIES length must be 1, got ${length}`);
        return small(ENERGIES_BYTES);
      case ImdType.BOX: {
        if (length !== 1) this.fail(`BOX length must be 1, got ${length}`);
        const floats = new Float32Array(9);
        return { type, into: new Uint8Array(floats.buffer), filled: 0, floats };
      }
      default: {
        // FCOORDS, VELOCITIES, FORCES: length = n_atoms, body float32[3n]
        if (length < 0 || length > this.maxAtoms) this.fail(`${this.name(type)} announces ${length} atoms (outside 0..${this.maxAtoms})`);
        if (this.atoms !== undefined && length !== this.atoms)
          this.fail(`${this.name(type)} has ${length} atoms, expected ${this.atoms}; check the topology / atom count`);
        this.atoms = length;
        // Uninitialised (or recycled) memory: every byte is overwritten from the stream before the frame is handed out.
        const floats = length === 0 ? new Float32Array(0) : (this.inWhole(12 * length) ?? new Float32Array(this.memory(12 * length)));
        return { type, into: new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength), filled: 0, floats };
      }
    }
  }

  private finishBody(body: Body, events: ImdEvent[]): void {
    const { type, into, floats } = body;
    if (floats && this.le !== HOST_LE) Buffer.from(into.buffer, into.byteOffset, into.byteLength).swap32();
    const b = into as Buffer;
    switch (type) {
      case ImdType.SESSIONINFO: {
        const s = readSessionInfo(b, 0);
        this.startSession(s);
        events.push({ kind: 'session', session: s });
        return;
      }
      case ImdType.TIME:
        Object.assign(this.frame, readTime(b, 0, this.le));
        break;
      case ImdType.ENERGIES: {
        const e = readEnergies(b, 0, this.le);
        this.frame.energies = e;
        this.lastEnergies = e;
        break;
      }
      case ImdType.BOX:
        this.frame.box = floats as Float32Array;
        break;
      case ImdType.FCOORDS:
        this.frame.positions = floats as Float32Array;
        break;
      case ImdType.VELOCITIES:
        this.frame.velocities = floats as Float32Array;
        break;
      default:
        this.frame.forces = floats as Float32Array;
    }
    if (this.version === 3) {
      if (++this.pos === this.expected.length) events.push({ kind: 'frame', frame: this.finishFrame() });
    } else if (type === ImdType.ENERGIES) this.pos = 1;
    else {
      if (!this.frame.energies && this.lastEnergies) this.frame.energies = this.lastEnergies;
      events.push({ kind: 'frame', frame: this.finishFrame() });
    }
  }

  private startSession(s: SessionInfo): void {
    this.session = s;
    this.expected = ORDER.filter(([k]) => s[k]).map(([, t]) => t);
  }

  private finishFrame(): ImdFrame {
    const f = this.frame;
    // The object built up for this frame becomes the frame (no copy: a spread of it cost ~7 µs per frame).
    // Its keys keep the order a spread gave them: the packets' fields as they came, then index, then step.
    f.index = this.frames;
    f.step ??= f.energies?.step ?? this.frames;
    const frame = f as ImdFrame;
    this.frames++;
    this.frame = {};
    this.pos = 0;
    this.whole = undefined;
    return frame;
  }
}
