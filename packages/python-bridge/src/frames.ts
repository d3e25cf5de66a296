/**
 * The bridge's wire format (protocol 1), both directions:
 * `u32 LE length of the rest | u32 LE header length | header JSON (UTF-8) | array buffers`.
 * The header's `arrays` lists each buffer's dtype and shape, in order; buffers are raw little-endian bytes.
 */

/** The dtypes that travel; numpy's `dtype.str` spelling. */
export type WireDtype = '<f8' | '<f4' | '<u4' | '<i4' | '<i8' | '<u2' | '|u1';

export type WireTypedArray = Float64Array | Float32Array | Uint32Array | Int32Array | BigInt64Array | Uint16Array | Uint8Array;

export interface WireArray {
  readonly dtype: WireDtype;
  readonly shape: readonly number[];
  readonly data: WireTypedArray;
}

export type Header = Record<string, unknown>;

export interface Frame {
  readonly header: Header;
  readonly arrays: WireArray[];
}

const CTORS: Record<WireDtype, { new (buf: ArrayBuffer, off: number, len: number): WireTypedArray; BYTES_PER_ELEMENT: number }> = {
  '<f8': Float64Array,
  '<f4': Float32Array,
  '<u4': Uint32Array,
  '<i4': Int32Array,
  '<i8': BigInt64Array,
  '<u2': Uint16Array,
  '|u1': Uint8Array,
};

/** The wire dtype of a typed array. */
function dtypeOf(a: WireTypedArray): WireDtype {
  if (a instanceof Float64Array) return '<f8';
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Uint32Array) return '<u4';
  if (a instanceof Int32Array) return '<i4';
  if (a instanceof BigInt64Array) return '<i8';
  if (a instanceof Uint16Array) return '<u2';
  return '|u1';
}

/** A typed array as a wire array of the given shape (default: 1-D). */
export function wire(data: WireTypedArray, shape: readonly number[] = [data.length]): WireArray {
  return { dtype: dtypeOf(data), shape, data };
}

export function encodeFrame(header: Header, arrays: readonly WireArray[] = []): Buffer {
  const specs = arrays.map((a) => ({ dtype: a.dtype, shape: a.shape }));
  const h = Buffer.from(JSON.stringify({ ...header, arrays: specs }), 'utf8');
  const bodies = arrays.map((a) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  const total = 4 + h.length + bodies.reduce((s, b) => s + b.length, 0);
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(total, 0);
  prefix.writeUInt32LE(h.length, 4);
  return Buffer.concat([prefix, h, ...bodies]);
}

/** Thrown for bytes that are not a frame of this protocol. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Decodes one frame body (everything after the length prefix). Arrays are copied into aligned memory. */
export function decodeBody(body: Buffer): Frame {
  if (body.length < 4) throw new FrameError(`frame of ${body.length} bytes has no header length`);
  const hlen = body.readUInt32LE(0);
  if (4 + hlen > body.length) throw new FrameError(`header length ${hlen} exceeds the frame (${body.length} bytes)`);
  let header: Header;
  try {
    header = JSON.parse(body.subarray(4, 4 + hlen).toString('utf8')) as Header;
  } catch (e) {
    throw new FrameError(`header is not JSON: ${(e as Error).message}`);
  }
  const specs = Array.isArray(header.arrays) ? (header.arrays as { dtype: WireDtype; shape: number[] }[]) : [];
  let pos = 4 + hlen;
  const arrays: WireArray[] = specs.map((s) => {
    const ctor = CTORS[s.dtype];
    if (!ctor) throw new FrameError(`unknown dtype ${String(s.dtype)}`);
    const count = s.shape.reduce((a, b) => a * b, 1);
    const nbytes = count * ctor.BYTES_PER_ELEMENT;
    if (pos + nbytes > body.length) throw new FrameError(`array of ${nbytes} bytes runs past the frame`);
    const copy = new ArrayBuffer(nbytes);
    new Uint8Array(copy).set(body.subarray(pos, pos + nbytes));
    pos += nbytes;
    return { dtype: s.dtype, shape: s.shape, data: new ctor(copy, 0, count) };
  });
  return { header, arrays };
}

/** Splits a byte stream into frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  /** Adds bytes; returns the frames completed by them. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.size < 4) break;
      const first = this.chunks[0] as Buffer;
      const total = (first.length >= 4 ? first : Buffer.concat(this.chunks)).readUInt32LE(0);
      // Concatenate only once the whole frame is here: a large array arrives in many chunks.
      if (this.size < 4 + total) break;
      const buf = this.chunks.length === 1 ? first : Buffer.concat(this.chunks);
      out.push(decodeBody(buf.subarray(4, 4 + total)));
      const rest = buf.subarray(4 + total);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }

  /** Frames in a complete byte string (a finished process's output). */
  static all(bytes: Buffer): Frame[] {
    return new FrameReader().push(bytes);
  }
}
