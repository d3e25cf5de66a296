/**
 * IMD v2/v3 on the wire (imdclient's docs/source/protocol_v3.rst; see shared/reference/imd-protocol.md).
 * Headers are 8 bytes, big-endian: int32 type, int32 length. Bodies are in the engine's byte order, which the
 * handshake reveals: its length field (the version, 2 or 3) is written unswapped.
 */

export const ImdType = {
  DISCONNECT: 0,
  ENERGIES: 1,
  FCOORDS: 2,
  GO: 3,
  HANDSHAKE: 4,
  KILL: 5,
  MDCOMM: 6,
  PAUSE: 7,
  TRATE: 8,
  IOERROR: 9,
  SESSIONINFO: 10,
  RESUME: 11,
  TIME: 12,
  BOX: 13,
  VELOCITIES: 14,
  FORCES: 15,
  WAIT: 16,
} as const;
export type ImdType = (typeof ImdType)[keyof typeof ImdType];

export const TYPE_NAMES: readonly string[] = Object.keys(ImdType);
export const HEADER_BYTES = 8;
export const ENERGIES_BYTES = 40;
export const TIME_BYTES = 24;
export const BOX_BYTES = 36;
export const SESSIONINFO_BYTES = 7;

export type ImdVersion = 2 | 3;

export interface SessionInfo {
  readonly time: boolean;
  readonly energies: boolean;
  readonly box: boolean;
  readonly positions: boolean;
  /** Byte 5: the spec and LAMMPS mean "wrapped into the box"; the GROMACS fork means "unwrapped". Stored, not used. */
  readonly wrapped: boolean;
  readonly velocities: boolean;
  readonly forces: boolean;
}

/** What a v2 session carries (v2 has no SESSIONINFO): energies and positions. */
export const V2_SESSION: SessionInfo = { time: false, energies: true, box: false, positions: true, wrapped: false, velocities: false, forces: false };

export interface ImdEnergies {
  readonly step: number;
  readonly temperature: number;
  readonly total: number;
  readonly potential: number;
  readonly vdw: number;
  readonly coulomb: number;
  readonly bonds: number;
  readonly angles: number;
  readonly dihedrals: number;
  readonly impropers: number;
}

export const ENERGY_TERMS = ['temperature', 'total', 'potential', 'vdw', 'coulomb', 'bonds', 'angles', 'dihedrals', 'impropers'] as const;

/** One IMD frame. Arrays are float32, `3 × n_atoms` (x1 y1 z1 …), in the units the engine sends. */
export interface ImdFrame {
  /** Frame index in this stream, from 0. */
  readonly index: number;
  readonly step: number;
  readonly time?: number;
  readonly dt?: number;
  readonly energies?: ImdEnergies;
  readonly box?: Float32Array;
  readonly positions?: Float32Array;
  readonly velocities?: Float32Array;
  readonly forces?: Float32Array;
}

/** The header of a message as an 8-byte big-endian buffer. */
export function header(type: ImdType, length: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES);
  b.writeInt32BE(type, 0);
  b.writeInt32BE(length, 4);
  return b;
}

/** The handshake: type big-endian, version in the engine's byte order. */
export function handshake(version: ImdVersion, littleEndian: boolean): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES);
  b.writeInt32BE(ImdType.HANDSHAKE, 0);
  if (littleEndian) b.writeInt32LE(version, 4);
  else b.writeInt32BE(version, 4);
  return b;
}

/** Reads the handshake as imdclient does: version 2 or 3 read big-endian, else byte-swapped, else an error. */
export function readHandshake(h: Buffer, offset = 0): { version: ImdVersion; littleEndian: boolean } | string {
  const type = h.readInt32BE(offset);
  if (type !== ImdType.HANDSHAKE) return `expected a HANDSHAKE (type 4) first, got type ${type}`;
  const be = h.readInt32BE(offset + 4);
  if (be === 2 || be === 3) return { version: be, littleEndian: false };
  const le = h.readInt32LE(offset + 4);
  if (le === 2 || le === 3) return { version: le, littleEndian: true };
  return `incompatible IMD version field 0x${h
    .readUInt32BE(offset + 4)
    .toString(16)
    .padStart(8, '0')} (expected 2 or 3 in either byte order)`;
}

export function sessionInfo(s: SessionInfo): Buffer {
  const flags = [s.time, s.energies, s.box, s.positions, s.wrapped, s.velocities, s.forces];
  return Buffer.concat([header(ImdType.SESSIONINFO, SESSIONINFO_BYTES), Buffer.from(flags.map((f) => (f ? 1 : 0)))]);
}

export function readSessionInfo(b: Buffer, offset = 0): SessionInfo {
  const f = (i: number): boolean => b[offset + i] !== 0;
  return { time: f(0), energies: f(1), box: f(2), positions: f(3), wrapped: f(4), velocities: f(5), forces: f(6) };
}

/** A control message from client to server (GO, PAUSE, …); `value` goes in the length slot. */
export function control(type: ImdType, value = 0): Buffer {
  return header(type, value);
}

export function energiesBody(e: ImdEnergies, le: boolean): Buffer {
  const b = Buffer.allocUnsafe(ENERGIES_BYTES);
  if (le) b.writeInt32LE(e.step, 0);
  else b.writeInt32BE(e.step, 0);
  ENERGY_TERMS.forEach((k, i) => {
    if (le) b.writeFloatLE(e[k], 4 + 4 * i);
    else b.writeFloatBE(e[k], 4 + 4 * i);
  });
  return b;
}

export function readEnergies(b: Buffer, offset: number, le: boolean): ImdEnergies {
  const f = (i: number): number => (le ? b.readFloatLE(offset + 4 + 4 * i) : b.readFloatBE(offset + 4 + 4 * i));
  const step = le ? b.readInt32LE(offset) : b.readInt32BE(offset);
  return { step, temperature: f(0), total: f(1), potential: f(2), vdw: f(3), coulomb: f(4), bonds: f(5), angles: f(6), dihedrals: f(7), impropers: f(8) };
}

export function timeBody(dt: number, time: number, step: bigint | number, le: boolean): Buffer {
  const b = Buffer.allocUnsafe(TIME_BYTES);
  if (le) {
    b.writeDoubleLE(dt, 0);
    b.writeDoubleLE(time, 8);
    b.writeBigInt64LE(BigInt(step), 16);
  } else {
    b.writeDoubleBE(dt, 0);
    b.writeDoubleBE(time, 8);
    b.writeBigInt64BE(BigInt(step), 16);
  }
  return b;
}

export function readTime(b: Buffer, offset: number, le: boolean): { dt: number; time: number; step: number } {
  return le
    ? { dt: b.readDoubleLE(offset), time: b.readDoubleLE(offset + 8), step: Number(b.readBigInt64LE(offset + 16)) }
    : { dt: b.readDoubleBE(offset), time: b.readDoubleBE(offset + 8), step: Number(b.readBigInt64BE(offset + 16)) };
}

/** float32 values in the given byte order (no copy when they already are float32 in this host's order). */
export function floatsBody(xs: ArrayLike<number>, le: boolean): Buffer {
  const f = xs instanceof Float32Array ? xs : Float32Array.from(xs);
  const b = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  return le === HOST_LE ? b : Buffer.from(b).swap32();
}

/** `count` float32 values at `offset`: one copy into an aligned array, swapped if the byte orders differ. */
export function readFloats(b: Buffer, offset: number, count: number, le: boolean): Float32Array {
  const out = new Float32Array(count);
  if (le === HOST_LE) {
    new Uint8Array(out.buffer).set(b.subarray(offset, offset + 4 * count));
  } else {
    for (let i = 0; i < count; i++) out[i] = le ? b.readFloatLE(offset + 4 * i) : b.readFloatBE(offset + 4 * i);
  }
  return out;
}

export const HOST_LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** MDCOMM body: int32 indices then float32 forces, in the engine's byte order. */
export function mdcomm(indices: ArrayLike<number>, forces: ArrayLike<number>, le: boolean): Buffer {
  const n = indices.length;
  if (forces.length !== 3 * n) throw new RangeError(`MDCOMM: ${n} indices need ${3 * n} force components, got ${forces.length}`);
  const b = Buffer.allocUnsafe(16 * n);
  for (let i = 0; i < n; i++) {
    if (le) b.writeInt32LE(indices[i] as number, 4 * i);
    else b.writeInt32BE(indices[i] as number, 4 * i);
  }
  for (let i = 0; i < 3 * n; i++) {
    if (le) b.writeFloatLE(forces[i] as number, 4 * n + 4 * i);
    else b.writeFloatBE(forces[i] as number, 4 * n + 4 * i);
  }
  return Buffer.concat([header(ImdType.MDCOMM, n), b]);
}
