import { spawnSync } from 'node:child_process';
import {
  control,
  energiesBody,
  floatsBody,
  handshake,
  header,
  ImdProtocolError,
  ImdStreamParser,
  ImdType,
  sessionInfo,
  timeBody,
  type ImdEvent,
  type ImdFrame,
  type SessionInfo,
} from '@westream/imd';
import { describe, expect, it } from 'vitest';

const ALL: SessionInfo = { time: true, energies: true, box: true, positions: true, wrapped: false, velocities: true, forces: true };
const hex = (b: Buffer): string => b.toString('hex').replace(/(..)/g, '$1 ').trim();

function energies(step: number): Parameters<typeof energiesBody>[0] {
  return { step, temperature: 300.5, total: -1.5, potential: -2.25, vdw: 3, coulomb: -4, bonds: 5, angles: 6, dihedrals: 7, impropers: 8 };
}

/** A v3 stream as an engine writes it: handshake, session info, then `n` frames of `atoms` atoms. */
function v3Stream(le: boolean, n: number, atoms: number, s: SessionInfo = ALL): { bytes: Buffer; frames: ImdFrame[] } {
  const parts: Buffer[] = [handshake(3, le), sessionInfo(s)];
  const frames: ImdFrame[] = [];
  for (let i = 0; i < n; i++) {
    const xs = (k: number): Float32Array => Float32Array.from({ length: 3 * atoms }, (_, j) => Math.fround(i * 1000 + k * 100 + j * 0.5));
    const f: { -readonly [K in keyof ImdFrame]: ImdFrame[K] } = { index: i, step: 10 * i };
    if (s.time) {
      parts.push(header(ImdType.TIME, 1), timeBody(0.002, 0.02 * i, 10 * i, le));
      Object.assign(f, { dt: 0.002, time: 0.02 * i });
    }
    if (s.energies) {
      parts.push(header(ImdType.ENERGIES, 1), energiesBody(energies(10 * i), le));
      f.energies = { ...energies(10 * i), temperature: Math.fround(300.5) };
    }
    if (s.box) parts.push(header(ImdType.BOX, 1), floatsBody((f.box = Float32Array.from({ length: 9 }, (_, j) => i + j)), le));
    if (s.positions) parts.push(header(ImdType.FCOORDS, atoms), floatsBody((f.positions = xs(1)), le));
    if (s.velocities) parts.push(header(ImdType.VELOCITIES, atoms), floatsBody((f.velocities = xs(2)), le));
    if (s.forces) parts.push(header(ImdType.FORCES, atoms), floatsBody((f.forces = xs(3)), le));
    frames.push(f);
  }
  return { bytes: Buffer.concat(parts), frames };
}

const framesOf = (events: ImdEvent[]): ImdFrame[] => events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));

describe('IMD codec: byte-exact with the spec', () => {
  it("writes the spec's example (little-endian v3 engine) byte for byte", () => {
    expect(hex(handshake(3, true))).toBe('00 00 00 04 03 00 00 00');
    expect(hex(handshake(2, false))).toBe('00 00 00 04 00 00 00 02');
    expect(hex(sessionInfo({ ...ALL, wrapped: false }))).toBe('00 00 00 0a 00 00 00 07 01 01 01 01 00 01 01');
    expect(hex(control(ImdType.GO))).toBe('00 00 00 03 00 00 00 00');
    expect(hex(control(ImdType.PAUSE))).toBe('00 00 00 07 00 00 00 00');
    expect(hex(control(ImdType.RESUME))).toBe('00 00 00 0b 00 00 00 00');
    expect(hex(control(ImdType.WAIT, 1))).toBe('00 00 00 10 00 00 00 01');
    expect(hex(Buffer.concat([header(ImdType.FCOORDS, 2), floatsBody(Float32Array.of(1, 2), true)]))).toBe('00 00 00 02 00 00 00 02 00 00 80 3f 00 00 00 40');
  });

  it('reads a stream built by Python struct with the layouts of the spec (big-endian v3, an independent encoder)', () => {
    const py = `
import struct, sys
out = struct.pack('!ii', 4, 3) + struct.pack('!ii', 10, 7) + bytes([1,1,1,1,1,1,1])
for i in range(3):
    out += struct.pack('!ii', 12, 1) + struct.pack('>ddq', 0.002, 0.5 * i, 100 * i)
    out += struct.pack('!ii', 1, 1) + struct.pack('>ifffffffff', 100 * i, *[float(k) for k in range(9)])
    out += struct.pack('!ii', 13, 1) + struct.pack('>9f', *[float(k + i) for k in range(9)])
    for t in (2, 14, 15):
        out += struct.pack('!ii', t, 2) + struct.pack('>6f', *[t + 0.25 * k + i for k in range(6)])
sys.stdout.buffer.write(out)`;
    const r = spawnSync('python3', ['-c', py]);
    expect(r.status, r.stderr.toString()).toBe(0);
    const events = new ImdStreamParser({ expectedAtoms: 2 }).push(r.stdout);
    expect(events[0]).toEqual({ kind: 'handshake', version: 3, littleEndian: false });
    const frames = framesOf(events);
    expect(frames).toHaveLength(3);
    const f = frames[2] as ImdFrame;
    expect([f.step, f.time, f.dt, f.energies?.step, f.energies?.impropers]).toEqual([200, 1, 0.002, 200, 8]);
    expect(Array.from(f.box ?? [])).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Array.from(f.positions ?? [])).toEqual([4, 4.25, 4.5, 4.75, 5, 5.25]);
    expect(Array.from(f.forces ?? [])).toEqual([17, 17.25, 17.5, 17.75, 18, 18.25]);
  });
});

describe('IMD stream parser', () => {
  for (const le of [true, false]) {
    it(`parses v3 ${le ? 'little' : 'big'}-endian frames whole and split at every byte`, () => {
      const { bytes, frames } = v3Stream(le, 3, 4);
      expect(framesOf(new ImdStreamParser().push(bytes))).toEqual(frames);
      for (let cut = 1; cut < bytes.length; cut++) {
        const p = new ImdStreamParser({ expectedAtoms: 4 });
        const got = [...framesOf(p.push(bytes.subarray(0, cut))), ...framesOf(p.push(bytes.subarray(cut)))];
        expect(got).toEqual(frames);
        expect(p.midFrame).toBe(false);
      }
      const drip = new ImdStreamParser();
      const got: ImdFrame[] = [];
      for (let i = 0; i < bytes.length; i++) got.push(...framesOf(drip.push(bytes.subarray(i, i + 1))));
      expect(got).toEqual(frames);
    });
  }

  it('parses v3 sessions that announce only some packets', () => {
    const s: SessionInfo = { ...ALL, energies: false, velocities: false, forces: false };
    const { bytes, frames } = v3Stream(true, 2, 3, s);
    const events = new ImdStreamParser().push(bytes);
    expect(events[1]).toEqual({ kind: 'session', session: s });
    expect(framesOf(events)).toEqual(frames);
    expect(framesOf(events)[1]?.velocities).toBeUndefined();
  });

  it('parses v2 (GROMACS/LAMMPS): ENERGIES + FCOORDS, and FCOORDS alone reusing the last energies', () => {
    const e = energies(7);
    const bytes = Buffer.concat([
      handshake(2, true),
      header(ImdType.ENERGIES, 1),
      energiesBody(e, true),
      header(ImdType.FCOORDS, 1),
      floatsBody(Float32Array.of(1, 2, 3), true),
      header(ImdType.FCOORDS, 1),
      floatsBody(Float32Array.of(4, 5, 6), true),
    ]);
    const frames = framesOf(new ImdStreamParser().push(bytes));
    expect(frames.map((f) => [f.index, f.step, Array.from(f.positions ?? [])])).toEqual([
      [0, 7, [1, 2, 3]],
      [1, 7, [4, 5, 6]],
    ]);
    expect(frames[1]?.energies?.temperature).toBe(Math.fround(300.5));
  });

  it('reports a stream cut off in the middle of a frame', () => {
    const { bytes } = v3Stream(true, 2, 4);
    const p = new ImdStreamParser();
    expect(framesOf(p.push(bytes.subarray(0, bytes.length - 5)))).toHaveLength(1);
    expect(p.midFrame).toBe(true);
  });

  const bad: [string, () => Buffer, RegExp, ParserArgs?][] = [
    ['a handshake of another type', () => header(ImdType.GO, 3), /expected a HANDSHAKE \(type 4\) first, got type 3/],
    ['version 4', () => Buffer.concat([header(ImdType.HANDSHAKE, 4)]), /incompatible IMD version field 0x00000004/],
    ['v3 without session info', () => Buffer.concat([handshake(3, true), header(ImdType.TIME, 1)]), /expected SESSIONINFO after a v3 handshake, got TIME/],
    ['session info of length 6', () => Buffer.concat([handshake(3, true), header(ImdType.SESSIONINFO, 6)]), /SESSIONINFO length must be 7, got 6/],
    [
      'packets out of order',
      () => Buffer.concat([handshake(3, true), sessionInfo(ALL), header(ImdType.ENERGIES, 1)]),
      /expected TIME \(type 12\) \(packet 1 of 6 of a v3 frame\), got ENERGIES/,
    ],
    ['an unknown type', () => Buffer.concat([handshake(3, true), sessionInfo(ALL), header(99 as ImdType, 1)]), /got unknown type 99/],
    ['TIME of length 2', () => Buffer.concat([handshake(3, true), sessionInfo(ALL), header(ImdType.TIME, 2)]), /TIME length must be 1, got 2/],
    ['a negative atom count', () => Buffer.concat([handshake(2, true), header(ImdType.FCOORDS, -5)]), /announces -5 atoms/],
    ['a huge atom count', () => Buffer.concat([handshake(2, true), header(ImdType.FCOORDS, 2 ** 31 - 1)]), /announces 2147483647 atoms/],
    [
      'an atom-count mismatch',
      () => Buffer.concat([handshake(2, true), header(ImdType.FCOORDS, 3)]),
      /FCOORDS \(type 2\) has 3 atoms, expected 4; check the topology/,
      { expectedAtoms: 4 },
    ],
    ['a v3 type in a v2 stream', () => Buffer.concat([handshake(2, true), header(ImdType.TIME, 1)]), /expected ENERGIES or FCOORDS in a v2 stream, got TIME/],
    [
      'two ENERGIES in a row (v2)',
      () => Buffer.concat([handshake(2, true), header(ImdType.ENERGIES, 1), energiesBody(energies(1), true), header(ImdType.ENERGIES, 1)]),
      /two ENERGIES packets/,
    ],
  ];
  type ParserArgs = ConstructorParameters<typeof ImdStreamParser>[0];
  for (const [what, bytes, message, opts] of bad) {
    it(`rejects ${what} with the frame and byte offset`, () => {
      const p = new ImdStreamParser(opts);
      let err: unknown;
      try {
        p.push(bytes());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImdProtocolError);
      expect((err as Error).message).toMatch(/^IMD stream, frame 0, byte offset \d+: /);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('names the frame and offset of an error deep in the stream', () => {
    const { bytes } = v3Stream(true, 3, 2);
    const broken = Buffer.from(bytes);
    const frameBytes = (bytes.length - 8 - 15) / 3;
    const at = 8 + 15 + 2 * frameBytes; // the TIME header of frame 2
    broken.writeInt32BE(ImdType.BOX, at);
    expect(() => new ImdStreamParser().push(broken)).toThrow(`IMD stream, frame 2, byte offset ${at}: expected TIME`);
  });
});
