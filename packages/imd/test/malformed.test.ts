/**
 * Malformed and hostile streams: every case must end in a clean, typed error that names what went wrong (and,
 * where it applies, the frame and byte offset) within the client's timeout. Never a hang, never a crash.
 * Each case is served by a real TCP server writing the bytes; the client is the real one.
 */
import { createServer, type Socket } from 'node:net';
import {
  connectImd,
  energiesBody,
  floatsBody,
  handshake,
  header,
  ImdConnectError,
  ImdProtocolError,
  ImdStreamParser,
  ImdTimeoutError,
  ImdType,
  sessionInfo,
  timeBody,
  type ImdFrame,
  type SessionInfo,
} from '@westream/imd';
import { Rng } from '@westream/we';
import { afterEach, describe, expect, it } from 'vitest';

const TIMEOUT = 400;
const servers: { close: (cb: () => void) => void }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

type Script = (s: Socket) => Promise<void> | void;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function serve(script: Script): Promise<number> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.resume(); // read (and ignore) GO and friends
    void Promise.resolve(script(s)).catch(() => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

const ALL: SessionInfo = { time: true, energies: true, box: true, positions: true, wrapped: false, velocities: true, forces: true };
const N = 4;
const E = { step: 7, temperature: 300, total: 1, potential: 2, vdw: 3, coulomb: 4, bonds: 5, angles: 6, dihedrals: 7, impropers: 8 };
const xs = (n = N): Buffer =>
  floatsBody(
    Float32Array.from({ length: 3 * n }, (_, i) => i),
    true,
  );

const hs3 = (): Buffer => Buffer.concat([handshake(3, true), sessionInfo(ALL)]);
const pkt = {
  time: (): Buffer => Buffer.concat([header(ImdType.TIME, 1), timeBody(0.002, 1, 7, true)]),
  energies: (): Buffer => Buffer.concat([header(ImdType.ENERGIES, 1), energiesBody(E, true)]),
  box: (): Buffer => Buffer.concat([header(ImdType.BOX, 1), floatsBody([1, 0, 0, 0, 1, 0, 0, 0, 1], true)]),
  x: (n = N): Buffer => Buffer.concat([header(ImdType.FCOORDS, n), xs(n)]),
  v: (n = N): Buffer => Buffer.concat([header(ImdType.VELOCITIES, n), xs(n)]),
  f: (n = N): Buffer => Buffer.concat([header(ImdType.FORCES, n), xs(n)]),
};
const frame3 = (): Buffer => Buffer.concat([pkt.time(), pkt.energies(), pkt.box(), pkt.x(), pkt.v(), pkt.f()]);
const FRAME3_BYTES = frame3().length;
const HS3_BYTES = hs3().length;

/** Writes `bytes` and closes. */
const sendAndClose =
  (...bytes: Buffer[]): Script =>
  (s) =>
    void s.end(Buffer.concat(bytes));
/** Writes `bytes` and stays silent (open). */
const sendAndHang =
  (...bytes: Buffer[]): Script =>
  (s) =>
    void s.write(Buffer.concat(bytes));

interface Case {
  readonly name: string;
  readonly script: Script;
  readonly error: typeof ImdProtocolError | typeof ImdTimeoutError | typeof ImdConnectError;
  readonly message: RegExp;
  /** Frames that must be delivered before the error. */
  readonly frames?: number;
  readonly expectedAtoms?: number;
  /** Stream offset the error must name (ImdProtocolError). */
  readonly offset?: number;
  readonly frame?: number;
}

const cases: Case[] = [
  // --- the handshake
  {
    name: 'first header is not a handshake',
    script: sendAndClose(header(ImdType.FCOORDS, 3)),
    error: ImdProtocolError,
    message: /expected a HANDSHAKE \(type 4\) first, got type 2/,
    offset: 0,
  },
  {
    name: 'handshake with version 4',
    script: sendAndClose(Buffer.from('0000000404000000', 'hex')),
    error: ImdProtocolError,
    message: /incompatible IMD version field 0x04000000/,
  },
  {
    name: 'handshake with version 0',
    script: sendAndClose(Buffer.from('0000000400000000', 'hex')),
    error: ImdProtocolError,
    message: /incompatible IMD version/,
  },
  {
    name: 'handshake header in the wrong byte order (little-endian type)',
    script: sendAndClose(Buffer.from('0400000003000000', 'hex')),
    error: ImdProtocolError,
    message: /expected a HANDSHAKE \(type 4\) first, got type 67108864/,
  },
  {
    name: 'handshake cut after 4 bytes, then close',
    script: sendAndClose(Buffer.from('00000004', 'hex')),
    error: ImdConnectError,
    message: /closed it before the IMD session started \(4 byte\(s\) received\)/,
  },
  {
    name: 'immediate close',
    script: sendAndClose(),
    error: ImdConnectError,
    message: /accepted the connection but closed it before the IMD session started \(0 byte\(s\) received\)/,
  },
  { name: 'silence after accept', script: () => undefined, error: ImdTimeoutError, message: /no IMD handshake within 400 ms/ },
  {
    name: 'connection reset before the handshake (retried, as an engine still starting)',
    script: (s) => void s.resetAndDestroy(),
    error: ImdConnectError,
    message: /within 400 ms|until the 400 ms timeout/,
  },
  // --- the session
  {
    name: 'v3 handshake followed by a frame instead of SESSIONINFO',
    script: sendAndClose(handshake(3, true), pkt.x()),
    error: ImdProtocolError,
    message: /expected SESSIONINFO after a v3 handshake, got FCOORDS/,
    offset: 8,
  },
  {
    name: 'SESSIONINFO of length 6',
    script: sendAndClose(handshake(3, true), header(ImdType.SESSIONINFO, 6)),
    error: ImdProtocolError,
    message: /SESSIONINFO length must be 7, got 6/,
  },
  {
    name: 'SESSIONINFO of length 8',
    script: sendAndClose(handshake(3, true), header(ImdType.SESSIONINFO, 8)),
    error: ImdProtocolError,
    message: /SESSIONINFO length must be 7, got 8/,
  },
  {
    name: 'SESSIONINFO body cut short, then close',
    script: sendAndClose(handshake(3, true), header(ImdType.SESSIONINFO, 7), Buffer.from([1, 1, 1])),
    error: ImdConnectError,
    message: /closed it before the IMD session started \(19 byte\(s\) received\)/,
  },
  {
    name: 'SESSIONINFO body never completes (silence)',
    script: sendAndHang(handshake(3, true), header(ImdType.SESSIONINFO, 7), Buffer.from([1])),
    error: ImdTimeoutError,
    message: /no IMD handshake within/,
  },
  // --- v3 packets
  {
    name: 'unknown type 99 where TIME is due',
    script: sendAndClose(hs3(), header(99 as ImdType, 1)),
    error: ImdProtocolError,
    message: /expected TIME \(type 12\).*got unknown type 99/,
    offset: HS3_BYTES,
    frame: 0,
  },
  { name: 'negative type', script: sendAndClose(hs3(), header(-1 as ImdType, 1)), error: ImdProtocolError, message: /got unknown type -1/ },
  { name: 'TIME with length 2', script: sendAndClose(hs3(), header(ImdType.TIME, 2)), error: ImdProtocolError, message: /TIME length must be 1, got 2/ },
  {
    name: 'ENERGIES with length 0',
    script: sendAndClose(hs3(), pkt.time(), header(ImdType.ENERGIES, 0)),
    error: ImdProtocolError,
    message: /ENERGIES length must be 1, got 0/,
  },
  {
    name: 'BOX with length 9',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), header(ImdType.BOX, 9)),
    error: ImdProtocolError,
    message: /BOX length must be 1, got 9/,
  },
  {
    name: 'FCOORDS with a negative atom count',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), pkt.box(), header(ImdType.FCOORDS, -5)),
    error: ImdProtocolError,
    message: /FCOORDS \(type 2\) announces -5 atoms/,
  },
  {
    name: 'FCOORDS with a huge atom count (2^31 - 1)',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), pkt.box(), header(ImdType.FCOORDS, 0x7fffffff)),
    error: ImdProtocolError,
    message: /announces 2147483647 atoms \(outside 0\.\.50000000\)/,
  },
  {
    name: 'atom count other than expected',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), pkt.box(), pkt.x(5)),
    expectedAtoms: 4,
    error: ImdProtocolError,
    message: /FCOORDS \(type 2\) has 5 atoms, expected 4; check the topology/,
  },
  {
    name: 'atom count changes between frames',
    script: sendAndClose(hs3(), frame3(), pkt.time(), pkt.energies(), pkt.box(), pkt.x(5)),
    error: ImdProtocolError,
    message: /has 5 atoms, expected 4/,
    frames: 1,
    frame: 1,
  },
  {
    name: 'VELOCITIES with another atom count than FCOORDS',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), pkt.box(), pkt.x(), pkt.v(3)),
    error: ImdProtocolError,
    message: /VELOCITIES \(type 14\) has 3 atoms, expected 4/,
  },
  {
    name: 'packets out of the fixed order (FCOORDS before BOX)',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), pkt.x()),
    error: ImdProtocolError,
    message: /expected BOX \(type 13\) \(packet 3 of 6 of a v3 frame\), got FCOORDS/,
  },
  {
    name: 'TIME twice in one frame',
    script: sendAndClose(hs3(), pkt.time(), pkt.time()),
    error: ImdProtocolError,
    message: /expected ENERGIES \(type 1\).*got TIME/,
  },
  {
    name: 'a frame header in the wrong byte order',
    script: sendAndClose(hs3(), Buffer.from('0c00000001000000', 'hex')),
    error: ImdProtocolError,
    message: /got unknown type 201326592/,
  },
  {
    name: 'a client-to-server message (GO) from the engine',
    script: sendAndClose(hs3(), header(ImdType.GO, 0)),
    error: ImdProtocolError,
    message: /got GO \(type 3\)/,
  },
  // --- cut off
  {
    name: 'header cut in the middle of frame 1, then close',
    script: sendAndClose(hs3(), frame3(), Buffer.from('000000', 'hex')),
    error: ImdProtocolError,
    message: /ended in the middle of frame 1/,
    frames: 1,
  },
  {
    name: 'coordinates cut in half, then close',
    script: sendAndClose(hs3(), pkt.time(), pkt.energies(), pkt.box(), header(ImdType.FCOORDS, N), xs().subarray(0, 20)),
    error: ImdProtocolError,
    message: /ended in the middle of frame 0/,
  },
  {
    name: 'close after TIME, between packets of a frame',
    script: sendAndClose(hs3(), frame3(), frame3(), pkt.time()),
    error: ImdProtocolError,
    message: new RegExp(`ended in the middle of frame 2 \\(byte offset ${HS3_BYTES + 2 * FRAME3_BYTES + 32}\\)`),
    frames: 2,
  },
  {
    name: 'trailing garbage after complete frames',
    script: sendAndClose(hs3(), frame3(), Buffer.from('deadbeef', 'hex')),
    error: ImdProtocolError,
    message: /ended in the middle of frame 1/,
    frames: 1,
  },
  {
    name: 'connection reset in the middle of a frame',
    script: async (s) => {
      s.write(Buffer.concat([hs3(), frame3(), pkt.time()]));
      await sleep(50);
      s.resetAndDestroy();
    },
    error: ImdProtocolError,
    message: /ended in the middle of frame 1/,
    frames: 1,
  },
  // --- silence and trickles
  {
    name: 'silence in the middle of a frame',
    script: sendAndHang(hs3(), pkt.time(), header(ImdType.ENERGIES, 1)),
    error: ImdTimeoutError,
    message: /frame 0 did not arrive within 400 ms/,
  },
  {
    name: 'silence after two frames',
    script: sendAndHang(hs3(), frame3(), frame3()),
    error: ImdTimeoutError,
    message: /frame 2 did not arrive within 400 ms \(0 byte\(s\) of it received/,
    frames: 2,
  },
  {
    name: 'a byte at a time, slower than frames are due (trickle)',
    script: async (s) => {
      s.write(hs3());
      const f = frame3();
      for (let i = 0; i < f.length && !s.destroyed; i++) {
        s.write(f.subarray(i, i + 1));
        await sleep(40);
      }
    },
    error: ImdTimeoutError,
    message: /frame 0 did not arrive within 400 ms \(\d+ byte\(s\) of it received/,
  },
  // --- v2 streams
  {
    name: 'v2: a v3-only TIME packet',
    script: sendAndClose(handshake(2, true), pkt.time()),
    error: ImdProtocolError,
    message: /expected ENERGIES or FCOORDS in a v2 stream, got TIME/,
  },
  {
    name: 'v2: two ENERGIES in a row',
    script: sendAndClose(handshake(2, true), pkt.energies(), pkt.energies()),
    error: ImdProtocolError,
    message: /two ENERGIES packets without FCOORDS/,
  },
  { name: 'v2: a SESSIONINFO (v3 only)', script: sendAndClose(handshake(2, true), sessionInfo(ALL)), error: ImdProtocolError, message: /got SESSIONINFO/ },
  {
    name: 'v2: FCOORDS cut off, then close',
    script: sendAndClose(handshake(2, false), header(ImdType.FCOORDS, 10), Buffer.alloc(30)),
    error: ImdProtocolError,
    message: /ended in the middle of frame 0/,
  },
];

describe('IMD client: malformed streams end in a clean, typed error within the timeout', () => {
  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const port = await serve(c.script);
      const t0 = Date.now();
      const frames: ImdFrame[] = [];
      let err: unknown;
      try {
        const client = await connectImd({ port, timeoutMs: TIMEOUT, ...(c.expectedAtoms ? { expectedAtoms: c.expectedAtoms } : {}) });
        for await (const f of client) frames.push(f);
      } catch (e) {
        err = e;
      }
      expect(Date.now() - t0).toBeLessThan(TIMEOUT + 1500);
      expect(err, 'the stream must end in an error').toBeInstanceOf(c.error);
      expect((err as Error).message).toMatch(c.message);
      expect(frames).toHaveLength(c.frames ?? 0);
      if (c.offset !== undefined) expect((err as ImdProtocolError).offset).toBe(c.offset);
      if (c.frame !== undefined) expect((err as ImdProtocolError).frame).toBe(c.frame);
    });
  }
});

describe('IMD: bounded random-mutation fuzz', () => {
  const valid = Buffer.concat([hs3(), frame3(), frame3(), frame3()]);
  const mutate = (rng: Rng): Buffer => {
    const b = Buffer.from(valid);
    const kind = Math.floor(rng.float64() * 4);
    if (kind === 0) {
      for (let k = 0, n = 1 + Math.floor(rng.float64() * 4); k < n; k++) b[Math.floor(rng.float64() * b.length)] = Math.floor(rng.float64() * 256);
      return b;
    }
    if (kind === 1) return b.subarray(0, Math.floor(rng.float64() * b.length));
    const at = Math.floor(rng.float64() * b.length);
    const len = 1 + Math.floor(rng.float64() * 16);
    if (kind === 2) return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]);
    return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: len }, () => Math.floor(rng.float64() * 256))), b.subarray(at)]);
  };

  it('parser: 20,000 mutated streams, fed in random chunks, give frames or an ImdProtocolError — nothing else', () => {
    const rng = Rng.derive(20261121n);
    let errors = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = mutate(rng);
      const p = new ImdStreamParser({ maxAtoms: 1000 });
      try {
        for (let at = 0; at < bytes.length;) {
          const n = 1 + Math.floor(rng.float64() * 64);
          p.push(bytes.subarray(at, at + n));
          at += n;
        }
      } catch (e) {
        if (!(e instanceof ImdProtocolError)) throw new Error(`mutation ${i}: ${String(e)}`);
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(bytes.length);
        errors++;
      }
      expect(p.framesParsed).toBeLessThanOrEqual(4);
    }
    expect(errors).toBeGreaterThan(1000); // the mutations do break streams
  });

  it('client over TCP: 150 mutated streams each end (frames, or a typed error) within the timeout', async () => {
    const rng = Rng.derive(7n);
    const streams = Array.from({ length: 150 }, () => mutate(rng));
    let i = 0;
    const port = await serve((s) => void s.end(streams[i++] as Buffer));
    const outcomes = { clean: 0, error: 0 };
    for (let k = 0; k < streams.length; k++) {
      const t0 = Date.now();
      try {
        const c = await connectImd({ port, timeoutMs: 300, maxAtoms: 1000 });
        for await (const f of c) expect(f.index).toBeLessThan(4);
        outcomes.clean++;
      } catch (e) {
        if (!(e instanceof ImdProtocolError || e instanceof ImdTimeoutError || e instanceof ImdConnectError)) throw e;
        outcomes.error++;
      }
      expect(Date.now() - t0).toBeLessThan(1500);
    }
    expect(outcomes.clean + outcomes.error).toBe(150);
    expect(outcomes.error).toBeGreaterThan(30);
  }, 120_000);
});
