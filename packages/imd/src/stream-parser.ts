/**
 * Incremental parser of what an IMD engine sends: handshake, session info (v3), then frames. Feed it chunks
 * as they arrive; it returns the events that became complete. Partial messages wait for more bytes. Anything
 * malformed is an `ImdProtocolError` that names the frame and the byte offset in the stream.
 *
 * v3 frames carry the packets the session announced, always in the fixed order TIME, ENERGIES, BOX, FCOORDS,
 * VELOCITIES, FORCES. v2 frames are [ENERGIES] FCOORDS; a frame without energies reuses the last ones
 * (as imdclient does).
 */
import {
  BOX_BYTES,
  ENERGIES_BYTES,
  HEADER_BYTES,
  ImdType,
  readEnergies,
  readFloats,
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
}

const ORDER: readonly [keyof SessionInfo, number][] = [
  ['time', ImdType.TIME],
  ['energies', ImdType.ENERGIES],
  ['box', ImdType.BOX],
  ['positions', ImdType.FCOORDS],
  ['velocities', ImdType.VELOCITIES],
  ['forces', ImdType.FORCES],
];

type Partial = { -readonly [K in keyof ImdFrame]?: ImdFrame[K] };

export class ImdStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of the stream consumed before `buf[0]`. */
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

  /** True when bytes of an unfinished message or frame are pending (a stream ending now was cut off). */
  get midFrame(): boolean {
    return this.buf.length > 0 || this.pos > 0;
  }

  push(chunk: Buffer): ImdEvent[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const events: ImdEvent[] = [];
    let at = 0;
    for (;;) {
      const used = this.step(this.buf, at, events);
      if (used === 0) break;
      at += used;
    }
    this.consumed += at;
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
    return events;
  }

  private fail(message: string, at: number): never {
    throw new ImdProtocolError(`IMD stream, frame ${this.frames}, byte offset ${this.consumed + at}: ${message}`, this.consumed + at, this.frames);
  }

  /** Parses one message at `at` if it is complete; returns the bytes it used (0: wait for more). */
  private step(b: Buffer, at: number, events: ImdEvent[]): number {
    if (b.length - at < HEADER_BYTES) return 0;
    if (this.version === undefined) {
      const hs = readHandshake(b, at);
      if (typeof hs === 'string') this.fail(hs, at);
      this.version = hs.version;
      this.le = hs.littleEndian;
      events.push({ kind: 'handshake', version: hs.version, littleEndian: hs.littleEndian });
      if (hs.version === 2) this.startSession(V2_SESSION);
      return HEADER_BYTES;
    }
    const type = b.readInt32BE(at);
    const length = b.readInt32BE(at + 4);
    if (this.session === undefined) {
      if (type !== ImdType.SESSIONINFO) this.fail(`expected SESSIONINFO after a v3 handshake, got ${this.name(type)}`, at);
      if (length !== SESSIONINFO_BYTES) this.fail(`SESSIONINFO length must be 7, got ${length}`, at);
      if (b.length - at < HEADER_BYTES + SESSIONINFO_BYTES) return 0;
      const s = readSessionInfo(b, at + HEADER_BYTES);
      this.startSession(s);
      events.push({ kind: 'session', session: s });
      return HEADER_BYTES + SESSIONINFO_BYTES;
    }
    return this.version === 3 ? this.v3Packet(b, at, type, length, events) : this.v2Packet(b, at, type, length, events);
  }

  private startSession(s: SessionInfo): void {
    this.session = s;
    this.expected = ORDER.filter(([k]) => s[k]).map(([, t]) => t);
  }

  private name(type: number): string {
    return type >= 0 && type < TYPE_NAMES.length ? `${TYPE_NAMES[type]} (type ${type})` : `unknown type ${type}`;
  }

  private v3Packet(b: Buffer, at: number, type: number, length: number, events: ImdEvent[]): number {
    const want = this.expected[this.pos];
    if (want === undefined) this.fail('the session announces no frame packets', at);
    if (type !== want) this.fail(`expected ${this.name(want)} (packet ${this.pos + 1} of ${this.expected.length} of a v3 frame), got ${this.name(type)}`, at);
    const used = this.body(b, at, type, length);
    if (used === 0) return 0;
    if (++this.pos === this.expected.length) events.push({ kind: 'frame', frame: this.finishFrame() });
    return used;
  }

  private v2Packet(b: Buffer, at: number, type: number, length: number, events: ImdEvent[]): number {
    if (type !== ImdType.ENERGIES && type !== ImdType.FCOORDS) this.fail(`expected ENERGIES or FCOORDS in a v2 stream, got ${this.name(type)}`, at);
    if (type === ImdType.ENERGIES && this.pos > 0) this.fail('two ENERGIES packets without FCOORDS between them', at);
    const used = this.body(b, at, type, length);
    if (used === 0) return 0;
    if (type === ImdType.ENERGIES) this.pos = 1;
    else {
      if (!this.frame.energies && this.lastEnergies) this.frame.energies = this.lastEnergies;
      events.push({ kind: 'frame', frame: this.finishFrame() });
    }
    return used;
  }

  /** Reads one packet's body into the frame in progress; 0 if it is not complete yet. */
  private body(b: Buffer, at: number, type: number, length: number): number {
    const data = at + HEADER_BYTES;
    const avail = b.length - data;
    const le = this.le;
    switch (type) {
      case ImdType.TIME: {
        if (length !== 1) this.fail(`TIME length must be 1, got ${length}`, at);
        if (avail < TIME_BYTES) return 0;
        const t = readTime(b, data, le);
        Object.assign(this.frame, t);
        return HEADER_BYTES + TIME_BYTES;
      }
      case ImdType.ENERGIES: {
        if (length !== 1) this.fail(`ENERGIES length must be 1, got ${length}`, at);
        if (avail < ENERGIES_BYTES) return 0;
        const e = readEnergies(b, data, le);
        this.frame.energies = e;
        this.lastEnergies = e;
        return HEADER_BYTES + ENERGIES_BYTES;
      }
      case ImdType.BOX: {
        if (length !== 1) this.fail(`BOX length must be 1, got ${length}`, at);
        if (avail < BOX_BYTES) return 0;
        this.frame.box = readFloats(b, data, 9, le);
        return HEADER_BYTES + BOX_BYTES;
      }
      default: {
        // FCOORDS, VELOCITIES, FORCES: length = n_atoms, body float32[3n]
        if (length < 0 || length > this.maxAtoms) this.fail(`${this.name(type)} announces ${length} atoms (outside 0..${this.maxAtoms})`, at);
        if (this.atoms !== undefined && length !== this.atoms) {
          this.fail(`${this.name(type)} has ${length} atoms, expected ${this.atoms}; check the topology / atom count`, at);
        }
        const bytes = 12 * length;
        if (avail < bytes) return 0;
        this.atoms = length;
        const xs = readFloats(b, data, 3 * length, le);
        if (type === ImdType.FCOORDS) this.frame.positions = xs;
        else if (type === ImdType.VELOCITIES) this.frame.velocities = xs;
        else this.frame.forces = xs;
        return HEADER_BYTES + bytes;
      }
    }
  }

  private finishFrame(): ImdFrame {
    const f = this.frame;
    const step = f.step ?? f.energies?.step ?? this.frames;
    const frame: ImdFrame = { ...f, index: this.frames, step };
    this.frames++;
    this.frame = {};
    this.pos = 0;
    return frame;
  }
}
