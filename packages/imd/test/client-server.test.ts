import { createServer, Socket, type Server } from 'node:net';
import {
  connectImd,
  control,
  handshake,
  header,
  HEADER_BYTES,
  ImdServer,
  ImdType,
  sessionInfo,
  timeBody,
  floatsBody,
  type ImdFrame,
  type OutgoingFrame,
} from '@westream/imd';
import { afterEach, describe, expect, it } from 'vitest';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const quiet = (): void => undefined;

function frameAt(i: number, atoms: number): OutgoingFrame {
  const xs = (k: number): Float32Array => Float32Array.from({ length: 3 * atoms }, (_, j) => k * 1000 + i + j / 7);
  return {
    step: 10 * i,
    time: 0.02 * i,
    dt: 0.002,
    energies: { step: 10 * i, temperature: 300 + i, total: -1000 - i, potential: -1500, vdw: 1, coulomb: 2, bonds: 3, angles: 4, dihedrals: 5, impropers: 6 },
    box: Float32Array.of(30, 0, 0, 0, 31, 0, 0, 0, 32 + i),
    positions: xs(1),
    velocities: xs(2),
    forces: xs(3),
  };
}

async function listen(o: Partial<Parameters<typeof ImdServer.listen>[0]> & { version: 2 | 3 }): Promise<ImdServer> {
  const s = await ImdServer.listen({ log: quiet, ...o });
  cleanup.push(() => s.close());
  return s;
}

async function collect(it: AsyncIterable<ImdFrame>): Promise<ImdFrame[]> {
  const out: ImdFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** A raw TCP peer that records what the client sends, for checking the client's side of the protocol. */
async function rawEngine(onClient: (s: Socket, sent: number[][]) => void): Promise<{ port: number; sent: number[][]; server: Server }> {
  const sent: number[][] = [];
  const server = createServer((s) => {
    let pending = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      pending = Buffer.concat([pending, c]);
      while (pending.length >= HEADER_BYTES) {
        sent.push([pending.readInt32BE(0), pending.readInt32BE(4)]);
        pending = pending.subarray(HEADER_BYTES);
      }
    });
    s.on('error', () => undefined);
    onClient(s, sent);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, sent, server };
}

const until = async (ok: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('IMD client ↔ server: every field survives the wire', () => {
  for (const [version, le] of [
    [3, true],
    [3, false],
    [2, true],
    [2, false],
  ] as const) {
    it(`v${version} ${le ? 'little' : 'big'}-endian: ${version === 3 ? 'time, energies, box, x, v, f' : 'energies + positions'} of 25 frames`, async () => {
      const server = await listen({ version, littleEndian: le, wait: true });
      const sent: OutgoingFrame[] = [];
      const engine = (async () => {
        for (let i = 0; i < 25; i++) {
          sent.push(frameAt(i, 50));
          await server.sendFrame(frameAt(i, 50));
        }
        await server.close();
      })();
      const client = await connectImd({ port: server.port, expectedAtoms: 50 });
      expect(client.version).toBe(version);
      expect(client.littleEndian).toBe(le);
      const got = await collect(client);
      await engine;
      expect(got).toHaveLength(25);
      got.forEach((f, i) => {
        const s = sent[i] as OutgoingFrame;
        expect(f.index).toBe(i);
        expect(f.step).toBe(s.step);
        expect(f.positions).toEqual(s.positions);
        expect(f.energies?.temperature).toBeCloseTo(s.energies?.temperature as number, 3);
        if (version === 3) {
          expect(f.time).toBe(s.time);
          expect(f.dt).toBe(s.dt);
          expect(f.box).toEqual(s.box);
          expect(f.velocities).toEqual(s.velocities);
          expect(f.forces).toEqual(s.forces);
        } else {
          expect(f.time).toBeUndefined();
          expect(f.velocities).toBeUndefined();
        }
      });
    });
  }

  it('connects to an engine that starts listening only later (bounded retry)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const pending = connectImd({ port, timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 300));
    const server = await listen({ version: 3, port, wait: true });
    const client = await pending;
    cleanup.push(() => client.close());
    await server.sendFrame(frameAt(0, 3));
    const first = await client.next();
    expect(first.done).toBe(false);
    expect((first.value as ImdFrame).step).toBe(0);
  });

  it('gives up with a clear error when nothing listens within the timeout', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const t0 = Date.now();
    await expect(connectImd({ port, timeoutMs: 400 })).rejects.toThrow(
      new RegExp(`IMD engine at 127.0.0.1:${port}: nothing accepted a connection within 400 ms`),
    );
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});

describe('IMD client: flow control and the end of the stream', () => {
  it('v3: a full buffer sends PAUSE and stops reading; draining it sends RESUME; no frame is lost or reordered', async () => {
    const server = await listen({ version: 3, wait: true });
    let sentCount = 0;
    const engine = (async () => {
      for (let i = 0; i < 60; i++) {
        await server.sendFrame(frameAt(i, 2000));
        sentCount++;
      }
      await server.close();
    })();
    const client = await connectImd({ port: server.port, bufferFrames: 4 });
    await until(() => client.pausedForBackPressure);
    const atPause = sentCount;
    await new Promise((r) => setTimeout(r, 150));
    expect(sentCount).toBe(atPause); // the engine is blocked while paused
    expect(sentCount).toBeLessThan(60);
    const got = await collect(client);
    await engine;
    expect(got.map((f) => f.step)).toEqual(Array.from({ length: 60 }, (_, i) => 10 * i));
  });

  it('v2: pauses with PAUSE and goes on with a second PAUSE (v2 toggles; RESUME does not exist)', async () => {
    const { port, sent } = await rawEngine((s) => {
      s.write(handshake(2, true));
      const body = floatsBody(new Float32Array(3 * 100), true);
      for (let i = 0; i < 40; i++) s.write(Buffer.concat([header(ImdType.FCOORDS, 100), body]));
      s.end();
    });
    const client = await connectImd({ port, bufferFrames: 2 });
    await until(() => client.pausedForBackPressure);
    const got = await collect(client);
    expect(got).toHaveLength(40);
    const pauses = (): number => sent.filter(([t]) => t === ImdType.PAUSE).length;
    await until(() => pauses() >= 2 && pauses() % 2 === 0);
    const types = sent.map(([t]) => t);
    expect(types[0]).toBe(ImdType.GO);
    expect(types).not.toContain(ImdType.RESUME);
    expect(types.filter((t) => t === ImdType.PAUSE).length % 2).toBe(0); // every pause was toggled off again
    expect(types.filter((t) => t === ImdType.PAUSE).length).toBeGreaterThanOrEqual(2);
  });

  it('sends GO as soon as the session is known, and DISCONNECT on close', async () => {
    const { port, sent } = await rawEngine((s) => {
      s.write(
        Buffer.concat([
          handshake(3, true),
          sessionInfo({ time: true, energies: false, box: false, positions: false, wrapped: false, velocities: false, forces: false }),
        ]),
      );
      s.write(Buffer.concat([header(ImdType.TIME, 1), timeBody(0.5, 1, 2, true)]));
    });
    const client = await connectImd({ port });
    const f = await client.next();
    expect((f.value as ImdFrame).step).toBe(2);
    await client.close();
    await until(() => sent.length >= 2);
    expect(sent.map(([t]) => t)).toEqual([ImdType.GO, ImdType.DISCONNECT]);
    expect(await client.next()).toEqual({ value: undefined, done: true });
  });

  it('on EOF after complete frames: delivers every frame, then ends cleanly', async () => {
    const { port } = await rawEngine((s) => {
      s.write(handshake(2, false));
      for (let i = 0; i < 3; i++) s.write(Buffer.concat([header(ImdType.FCOORDS, 1), floatsBody([i, i, i], false)]));
      s.end();
    });
    const got = await collect(await connectImd({ port }));
    expect(got.map((f) => Array.from(f.positions ?? []))).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
    ]);
  });

  it('TRATE and KILL reach the engine', async () => {
    const server = await listen({ version: 3, wait: true });
    const client = await connectImd({ port: server.port });
    cleanup.push(() => client.close());
    client.setRate(3);
    client.kill();
    await until(() => server.killed);
    expect(server.rate).toBe(3);
    let sent = 0;
    for (let i = 0; i < 9; i++) if (await server.sendFrame(frameAt(i, 1))) sent++;
    expect(sent).toBe(3); // every third call goes out
  });
});

describe('IMD server: behaves like the engines', () => {
  it('sends handshake and session info on accept, before anything is asked', async () => {
    const server = await listen({ version: 3, littleEndian: true });
    const got = await new Promise<Buffer>((resolve) => {
      const s = new Socket();
      let b = Buffer.alloc(0);
      s.connect(server.port, '127.0.0.1');
      s.on('data', (c: Buffer) => {
        b = Buffer.concat([b, c]);
        if (b.length >= 23) {
          s.destroy();
          resolve(b);
        }
      });
    });
    expect(got.toString('hex')).toBe('0000000403000000' + '0000000a00000007' + '01010101000101');
  });

  it('drops a client that sends no GO within the limit, then accepts the next one', async () => {
    const lines: string[] = [];
    const server = await ImdServer.listen({ version: 2, goTimeoutMs: 200, log: (l) => lines.push(l) });
    cleanup.push(() => server.close());
    const silent = new Socket();
    const closed = new Promise((r) => silent.on('close', r));
    silent.on('error', () => undefined);
    silent.connect(server.port, '127.0.0.1');
    silent.resume(); // read, so the server's close is seen
    await closed;
    expect(lines.join('\n')).toMatch(/No IMD_GO within 1 s/);
    const client = await connectImd({ port: server.port });
    cleanup.push(() => client.close());
    await until(() => server.connected);
  });

  it('in wait mode blocks the engine until a client sends GO; without it, drops frames while nobody listens', async () => {
    const lines: string[] = [];
    const waiting = await ImdServer.listen({ version: 3, wait: true, log: (l) => lines.push(l) });
    cleanup.push(() => waiting.close());
    expect(lines).toContain(`IMD: Listening for IMD connection on port ${waiting.port}.`);
    expect(lines).toContain('IMD: Will wait until I have a connection and IMD_GO orders.');
    let done = false;
    const p = waiting.sendFrame(frameAt(0, 1)).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    const client = await connectImd({ port: waiting.port });
    cleanup.push(() => client.close());
    await p;
    expect(((await client.next()).value as ImdFrame).step).toBe(0);

    const free = await listen({ version: 3 });
    expect(await free.sendFrame(frameAt(0, 1))).toBe(false);
  });

  it('v3 PAUSE is idempotent and RESUME ends it; v2 PAUSE toggles', async () => {
    for (const version of [3, 2] as const) {
      const server = await listen({ version, wait: true });
      const s = new Socket();
      s.on('data', () => undefined);
      await new Promise<void>((r) => s.connect(server.port, '127.0.0.1', r));
      cleanup.push(() => void s.destroy());
      s.write(control(ImdType.GO));
      await until(() => server.connected);
      s.write(Buffer.concat([control(ImdType.PAUSE), control(version === 3 ? ImdType.PAUSE : ImdType.TRATE, 1)]));
      let sent = false;
      await new Promise((r) => setTimeout(r, 50));
      const p = server.sendFrame(frameAt(0, 1)).then(() => (sent = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(sent).toBe(false);
      s.write(control(version === 3 ? ImdType.RESUME : ImdType.PAUSE));
      await p;
      expect(sent).toBe(true);
    }
  });
});

/** Byte-equal float arrays (toEqual walks 60,000 elements slowly); says which differ first. */
function expectSame(a: Float32Array | undefined, b: ArrayLike<number> | undefined, what: string): void {
  expect(a, what).toBeDefined();
  expect(b, what).toBeDefined();
  const x = a as Float32Array;
  const y = b instanceof Float32Array ? b : Float32Array.from(b as ArrayLike<number>);
  const same = x.length === y.length && Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  if (!same) expect(Array.from(x.slice(0, 8)), `${what} (first values)`).toEqual(Array.from(y.slice(0, 8)));
  expect(same, what).toBe(true);
}

describe('IMD client: frame memory (release)', () => {
  for (const [version, le] of [
    [3, true],
    [3, false],
    [2, true],
  ] as const) {
    it(`v${version} ${le ? 'little' : 'big'}-endian, 20,000 atoms: frames kept are never overwritten while released frames' memory is reused`, async () => {
      const ATOMS = 20_000;
      const server = await listen({ version, littleEndian: le, wait: true });
      const sent: OutgoingFrame[] = [];
      const engine = (async () => {
        for (let i = 0; i < 40; i++) {
          sent.push(frameAt(i, ATOMS));
          await server.sendFrame(frameAt(i, ATOMS));
        }
        await server.close();
      })();
      const client = await connectImd({ port: server.port, expectedAtoms: ATOMS, bufferFrames: 3 });
      const kept: ImdFrame[] = [];
      let released = 0;
      for await (const f of client) {
        // Every third frame is kept; the others are checked now and given back.
        const s = sent[f.index] as OutgoingFrame;
        expectSame(f.positions, s.positions, `positions of frame ${f.index}`);
        // v3 with the atom count known: the frame was read in one piece (the parser's WholeFrame).
        if (version === 3) expect(f.positions?.buffer, 'x and f share one frame buffer').toBe(f.forces?.buffer);
        if (f.index % 3 === 0) kept.push(f);
        else {
          if (version === 3) expectSame(f.forces, s.forces, `forces of frame ${f.index}`);
          client.release(f);
          released++;
          expect(() => client.release(f), 'a second release would give its memory to two frames').toThrow(
            /frame \d+ \(step \d+\) was not handed out by this client, or was released already/,
          );
        }
      }
      await engine;
      expect(kept).toHaveLength(14);
      expect(released).toBe(26);
      expect(client.reusedBuffers, 'released memory was reused').toBeGreaterThan(10);
      // Long after: each kept frame still holds exactly what was sent for it.
      for (const f of kept) {
        const s = sent[f.index] as OutgoingFrame;
        expectSame(f.positions, s.positions, `positions of frame ${f.index}`);
        if (version === 3) {
          expectSame(f.velocities, s.velocities, `velocities of frame ${f.index}`);
          expectSame(f.forces, s.forces, `forces of frame ${f.index}`);
          expectSame(f.box, s.box, `box of frame ${f.index}`);
        }
      }
      expect(() => client.release({ ...(kept[0] as ImdFrame) }), 'a frame this client did not hand out').toThrow(/was not handed out by this client/);
    });
  }

  it('without release every frame has memory of its own (nothing is reused)', async () => {
    const server = await listen({ version: 3, wait: true });
    const engine = (async () => {
      for (let i = 0; i < 10; i++) await server.sendFrame(frameAt(i, 5000));
      await server.close();
    })();
    const client = await connectImd({ port: server.port, expectedAtoms: 5000 });
    const got = await collect(client);
    await engine;
    expect(client.reusedBuffers).toBe(0);
    expect(new Set(got.map((f) => f.positions?.buffer)).size).toBe(10);
    got.forEach((f, i) => expectSame(f.forces, frameAt(i, 5000).forces, `forces of frame ${i}`));
  });
});
