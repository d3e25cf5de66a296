import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamTrajectory } from '@westream/config';
import { ImdServer, type OutgoingFrame } from '@westream/imd';
import { describe, expect, it } from 'vitest';
import { discoverPort, runBuiltins } from '../src/stream-task.js';

const base: StreamTrajectory = {
  program: null,
  pcoord: null,
  guard: null,
  record: null,
  portDiscovery: 'engine',
  portPattern: { source: 'port (\\d+)', flags: '' },
  portTimeout: 5,
  portEnv: 'WEST_STREAM_PORT',
  bindErrorPattern: { source: 'in use', flags: '' },
  portRetries: 0,
  required: true,
  host: '127.0.0.1',
  timeout: 5,
  nAtoms: null,
  box: null,
  stdout: '/dev/null',
};

/** Serves `frames` (positions in Å, an optional cubic box) over IMD v3 and runs the built-ins on them. */
async function analyse(
  st: Partial<StreamTrajectory>,
  frames: number[][],
  box?: number,
  pcoordLen = frames.length,
  edit: (f: OutgoingFrame, i: number) => OutgoingFrame = (f) => f,
): ReturnType<typeof runBuiltins> {
  const server = await ImdServer.listen({
    version: 3,
    wait: true,
    log: () => undefined,
    session: { time: true, energies: false, box: box !== undefined, positions: true, wrapped: false, velocities: false, forces: false },
  });
  const engine = (async () => {
    for (let i = 0; i < frames.length; i++) {
      const f: OutgoingFrame = {
        step: 10 * i,
        time: i,
        dt: 0.1,
        positions: Float32Array.from(frames[i] as number[]),
        ...(box !== undefined ? { box: [box, 0, 0, 0, box, 0, 0, 0, box] } : {}),
      };
      await server.sendFrame(edit(f, i));
    }
    await server.close();
  })();
  try {
    return await runBuiltins({ ...base, ...st }, '127.0.0.1', server.port, pcoordLen, new AbortController().signal);
  } finally {
    await engine.catch(() => undefined);
  }
}

describe('builtin pcoord: distances from the stream', () => {
  it('takes the minimum image across the periodic box', async () => {
    const r = await analyse(
      { pcoord: { groups: [[0], [1]], stride: null, scale: 1 } },
      [
        [1, 5, 5, 29, 5, 5],
        [2, 5, 5, 27, 5, 5],
      ],
      30,
    );
    expect(r.pcoord?.[0]).toBeCloseTo(2, 5);
    expect(r.pcoord?.[1]).toBeCloseTo(5, 5);
  });

  it('takes group centres with each group made whole first, and scales', async () => {
    // group 0 straddles the boundary (0.5 and 29.5: centre 0 ≡ 30), atom 2 at x = 5
    const r = await analyse({ pcoord: { groups: [[0, 1], [2]], stride: null, scale: 0.1 } }, [[0.5, 1, 1, 29.5, 1, 1, 5, 1, 1]], 30, 1);
    expect(r.pcoord?.[0]).toBeCloseTo(0.5, 6);
  });

  it('without a box, plain Euclidean distance; with the configured box (IMD v2 streams none), the minimum image', async () => {
    const r = await analyse({ pcoord: { groups: [[0], [1]], stride: null, scale: 1 } }, [[0, 0, 0, 3, 4, 0]], undefined, 1);
    expect(r.pcoord).toEqual([5]);
    const boxed = await analyse({ pcoord: { groups: [[0], [1]], stride: null, scale: 1 }, box: [10, 10, 10] }, [[0, 0, 0, 9, 0, 0]], undefined, 1);
    expect(boxed.pcoord?.[0]).toBeCloseTo(1, 6);
  });

  it('samples frames 0, k, 2k, … to pcoord_len points; a count that does not fit is a clear error', async () => {
    const frames = Array.from({ length: 21 }, (_, i) => [0, 0, 0, i, 0, 0]);
    const r = await analyse({ pcoord: { groups: [[0], [1]], stride: null, scale: 1 } }, frames, undefined, 11);
    expect(r.pcoord).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    await expect(analyse({ pcoord: { groups: [[0], [1]], stride: null, scale: 1 } }, frames, undefined, 7)).rejects.toThrow(
      /the stream had 21 frame\(s\), but a stream of \(pcoord_len − 1\)·k \+ 1 frames \(pcoord_len 7\)/,
    );
    await expect(analyse({ pcoord: { groups: [[0], [1]], stride: 3, scale: 1 } }, frames, undefined, 11)).rejects.toThrow(
      /\(pcoord_len − 1\)·stride \+ 1 = 31 frames/,
    );
  });

  it('an atom index outside the frame is named', async () => {
    await expect(analyse({ pcoord: { groups: [[0], [9]], stride: null, scale: 1 } }, [[0, 0, 0, 1, 1, 1]], undefined, 1)).rejects.toThrow(
      /atom index 9 is outside the frame \(2 atoms, frame 0\)/,
    );
  });
});

describe('builtin guard', () => {
  it('trips on a jump larger than the limit (minimum image: wrapping across the box is no jump)', async () => {
    await expect(
      analyse(
        { guard: { maxDisplacement: 1 } },
        [
          [0.1, 0, 0],
          [29.9, 0, 0],
          [29.5, 0, 0],
        ],
        30,
      ),
    ).resolves.toMatchObject({ frames: 3 });
    await expect(
      analyse({ guard: { maxDisplacement: 1 } }, [
        [1, 1, 1],
        [1.5, 1, 1],
        [4, 1, 1],
      ]),
    ).rejects.toThrow(/guard: atom 0 moved 2\.500 between frame 1 \(step 10\) and frame 2 \(step 20\), more than max_displacement 1/);
  });

  it('trips on NaN', async () => {
    await expect(
      analyse({ guard: { maxDisplacement: 1 } }, [
        [1, 1, 1],
        [1, Number.NaN, 1],
      ]),
    ).rejects.toThrow(/guard: atom 0 has a non-finite coordinate \(NaN\) in frame 1 \(step 10\)/);
  });
});

// issue 14 item 14: an engine that blew up streams NaN/Inf; the built-ins must fail the segment, naming the frame.
describe('issue14-14 non-finite IMD frames fail the builtin pcoord and the guard', () => {
  const pcoord = { pcoord: { groups: [[0], [1]], stride: null, scale: 1 } } as const;
  const frames = [
    [0, 0, 0, 1, 0, 0],
    [0, 0, 0, 2, 0, 0],
    [0, 0, 0, 3, 0, 0],
  ];

  it('issue14-14 NaN or ±Inf in positions', async () => {
    // Atom 1 is in the pcoord's group; atom 0's NaN alone would also give a NaN distance.
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const hit = frames.map((f, i) => (i === 1 ? [0, 0, 0, bad, 0, 0] : f));
      await expect(analyse(pcoord, hit)).rejects.toThrow(
        new RegExp(`builtin pcoord: atom 1 has a non-finite coordinate \\(${String(bad).replace('-', '\\-')}\\) in frame 1 \\(step 10\\)`),
      );
      await expect(analyse({ guard: { maxDisplacement: 100 } }, hit)).rejects.toThrow(/guard: atom 1 has a non-finite coordinate .* in frame 1 \(step 10\)/);
    }
    // Negative control: the same frames, all finite, give the distances.
    await expect(analyse(pcoord, frames)).resolves.toMatchObject({ pcoord: [1, 2, 3] });
  });

  it('issue14-14 NaN or ±Inf in the box', async () => {
    const badBox =
      (v: number) =>
      (f: OutgoingFrame, i: number): OutgoingFrame =>
        i === 2 ? { ...f, box: [30, 0, 0, 0, v, 0, 0, 0, 30] } : f;
    await expect(analyse(pcoord, frames, 30, 3, badBox(Number.NaN))).rejects.toThrow(
      /builtin pcoord: the box has a non-finite value \(NaN, element 4 of 9\) in frame 2 \(step 20\)/,
    );
    await expect(analyse({ guard: { maxDisplacement: 100 } }, frames, 30, 3, badBox(Infinity))).rejects.toThrow(
      /guard: the box has a non-finite value \(Infinity, element 4 of 9\) in frame 2/,
    );
    await expect(analyse(pcoord, frames, 30, 3, badBox(30))).resolves.toMatchObject({ pcoord: [1, 2, 3] });
  });

  it('issue14-14 NaN or ±Inf in the time', async () => {
    await expect(analyse(pcoord, frames, undefined, 3, (f, i) => (i === 0 ? { ...f, time: Number.NaN } : f))).rejects.toThrow(
      /builtin pcoord: the time is not finite \(NaN\) in frame 0 \(step 0\)/,
    );
    await expect(analyse({ guard: { maxDisplacement: 100 } }, frames, undefined, 3, (f, i) => (i === 1 ? { ...f, dt: -Infinity } : f))).rejects.toThrow(
      /guard: the dt is not finite \(-Infinity\) in frame 1 \(step 10\)/,
    );
  });
});

describe("discoverPort: the port from the engine's log", () => {
  it('finds a line that appears later, in any of the files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-port-'));
    const out = join(dir, 'out.log');
    writeFileSync(out, 'starting\n');
    setTimeout(() => appendFileSync(join(dir, 'err.log'), 'IMD: Listening for IMD connection on port 41871.\n'), 100);
    const port = await discoverPort([out, join(dir, 'err.log')], /IMD: Listening for IMD connection on port (\d+)/, 3000, new Promise(() => undefined));
    expect(port).toBe(41871);
  });

  it('fails when the engine ends first, or when the time is up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'westream-port-'));
    const log = join(dir, 'out.log');
    writeFileSync(log, 'no port here\n');
    await expect(discoverPort([log], /port (\d+)/, 3000, Promise.resolve())).rejects.toThrow(
      /the propagator ended without printing a line that matches the port pattern \/port \(\\d\+\)\//,
    );
    const t0 = Date.now();
    await expect(discoverPort([log], /port (\d+)/, 200, new Promise(() => undefined))).rejects.toThrow(/within 0\.2 s/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
