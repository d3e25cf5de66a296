import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BridgeError,
  chooseInterpreter,
  decodeBody,
  describeSystem,
  describeSystemSync,
  encodeFrame,
  FrameReader,
  PythonBridge,
  wire,
} from '@westream/python-bridge';
import { pythonModuleMissing, skipWithoutPeer } from '../../../test/support/peers.js';
import { odldBody, pythonSimRoot } from '../../../test/support/python-setups.js';

const noWestpa = skipWithoutPeer('python westpa', pythonModuleMissing('westpa'));
const py = chooseInterpreter(null, {});

describe('frames', () => {
  it('round-trip a header and raw little-endian arrays, split into arbitrary chunks', () => {
    const f64 = Float64Array.from([1.5, -Infinity, Math.PI]);
    const u32 = Uint32Array.from([0, 7, 2 ** 32 - 1]);
    const bytes = encodeFrame({ op: 'x', n: 3 }, [wire(f64, [3, 1]), wire(u32)]);
    // the array bytes are on the wire as they are in memory (little-endian), not as JSON numbers
    expect(bytes.includes(Buffer.from(f64.buffer))).toBe(true);
    expect(bytes.toString('latin1')).not.toContain('3.14159');
    const r = new FrameReader();
    const frames = [...bytes].flatMap((b) => r.push(Buffer.from([b])));
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f.header.op).toBe('x');
    expect(f.arrays[0]!.shape).toEqual([3, 1]);
    expect(Array.from(f.arrays[0]!.data as Float64Array)).toEqual([1.5, -Infinity, Math.PI]);
    expect(Array.from(f.arrays[1]!.data as Uint32Array)).toEqual([0, 7, 2 ** 32 - 1]);
  });

  it('rejects a frame whose arrays run past its end', () => {
    const bytes = encodeFrame({ op: 'x' }, [wire(new Float64Array(4))]);
    expect(() => decodeBody(bytes.subarray(4, bytes.length - 8))).toThrow(/runs past the frame/);
  });
});

describe.skipIf(noWestpa)("the Python helper in the user's interpreter", () => {
  it("builds the user's WESTSystem subclass through westpa and hands back its pcoord shape, counts and a native mapper", async () => {
    const { root, cfg } = pythonSimRoot(odldBody());
    const b = await PythonBridge.start({ python: py, simRoot: root, configFile: cfg, purpose: 'test' });
    try {
      expect(b.westpaVersion).toMatch(/^20\d\d/);
      const s = await describeSystem(b);
      expect(s).toMatchObject({ pcoordNdim: 1, pcoordLen: 11, pcoordDtype: 'float32', nbins: 12 });
      expect(s.mapper).toEqual({ type: 'RectilinearBinMapper', boundaries: [[0, 1, 2, 3, 4, 4.5, 5, 5.5, 6, 7, 8, 9, Infinity]] });
      expect(s.binTargetCounts).toEqual(new Array(12).fill(4));
      // the sync form (the config loader's) gives the same
      expect(describeSystemSync({ python: py, simRoot: root, configFile: cfg, purpose: 'test' })).toEqual(s);
    } finally {
      b.close();
    }
  });

  it("assigns 100,000 points in one batched call with WESTPA's numbering (FuncBinMapper)", async () => {
    const { root, cfg } = pythonSimRoot(odldBody({ driver: 'odld_like.FuncSystem' }));
    const b = await PythonBridge.start({ python: py, simRoot: root, configFile: cfg, purpose: 'test' });
    try {
      const s = await describeSystem(b);
      expect(s.mapper).toEqual({ type: 'python', class: 'westpa.core.binning.assign.FuncBinMapper', nbins: 8 });
      const n = 100_000;
      const pts = Float64Array.from({ length: n }, (_, i) => (i * 10) / n);
      const f = await b.request('assign', {}, [wire(pts, [n, 1])]);
      const bins = f.arrays[0]!.data as Uint32Array;
      expect(bins.length).toBe(n);
      for (const i of [0, 1234, 50_000, 99_999]) expect(bins[i]).toBe(Math.floor(Math.fround(pts[i]!) / 0.75) % 8);
    } finally {
      b.close();
    }
  });

  it('sends user output to the log, never into the protocol', async () => {
    const { root, cfg } = pythonSimRoot(odldBody({ driver: 'noisy.NoisySystem' }));
    writeFileSync(
      join(root, 'noisy.py'),
      'import sys\nfrom odld_like import DoubleWellSystem\nclass NoisySystem(DoubleWellSystem):\n    def initialize(self):\n        print("hello from the user", flush=True)\n        sys.stdout.write("\\x00\\x00\\x00\\x10garbage")\n        super().initialize()\n',
    );
    let out = '';
    const b = await PythonBridge.start({ python: py, simRoot: root, configFile: cfg, purpose: 'test', onOutput: (t) => (out += t) });
    try {
      expect((await describeSystem(b)).nbins).toBe(12);
      await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('hello from the user');
    } finally {
      b.close();
    }
  });
});

describe.skipIf(noWestpa)('Python failure modes: exit-2 errors that say what to do', () => {
  const expectBridgeError = async (p: Promise<unknown>, kind: string, ...patterns: RegExp[]): Promise<BridgeError> => {
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(BridgeError);
    const be = e as BridgeError;
    expect(be.kind).toBe(kind);
    expect(be.exitCode).toBe(2);
    for (const re of patterns) expect(be.message).toMatch(re);
    return be;
  };

  it('a missing interpreter names it, where it came from, and what to set', async () => {
    const { root, cfg } = pythonSimRoot(odldBody());
    const python = chooseInterpreter('/nonexistent/bin/python3');
    await expectBridgeError(
      PythonBridge.start({ python, simRoot: root, configFile: cfg, purpose: "west.system.driver 'odld_like.DoubleWellSystem'" }),
      'no-python',
      /\/nonexistent\/bin\/python3/,
      /from west\.westream\.python/,
      /was not found/,
      /WESTREAM_PYTHON/,
      /west\.system\.driver/,
    );
    expect(() =>
      describeSystemSync({ python: chooseInterpreter(null, { WESTREAM_PYTHON: '/nope/python' }), simRoot: root, configFile: cfg, purpose: 'x' }),
    ).toThrow(/'\/nope\/python' \(from WESTREAM_PYTHON\) was not found/);
  });

  it('a Python without westpa says to install it there (a real interpreter without westpa)', async () => {
    const { root, cfg } = pythonSimRoot(odldBody());
    // the same Python with its site-packages switched off: numpy and westpa are not importable
    const wrapper = join(root, 'bare-python');
    writeFileSync(wrapper, '#!/bin/sh\nexec python3 -S "$@"\n');
    chmodSync(wrapper, 0o755);
    await expectBridgeError(
      PythonBridge.start({ python: chooseInterpreter(wrapper), simRoot: root, configFile: cfg, purpose: 'the system driver' }),
      'no-westpa',
      /cannot import it/,
      /pip install westpa/,
      /bare-python/,
    );
  });

  it("an import error in the user's module names the config key, the module, the interpreter, with the traceback", async () => {
    const { root, cfg } = pythonSimRoot(odldBody({ driver: 'broken_import.System' }));
    const b = await PythonBridge.start({ python: py, simRoot: root, configFile: cfg, purpose: 'test' });
    try {
      const e = await expectBridgeError(
        describeSystem(b),
        'import',
        /west\.system\.driver: cannot load 'broken_import\.System' in python3/,
        /a_module_nobody_has/,
        /module_path/,
      );
      expect(e.traceback).toContain('broken_import.py');
    } finally {
      b.close();
    }
  });

  it("an exception in the user's code shows their traceback and where it happened", async () => {
    const { root, cfg } = pythonSimRoot(odldBody({ driver: 'odld_like.BrokenSystem' }));
    const b = await PythonBridge.start({ python: py, simRoot: root, configFile: cfg, purpose: 'test' });
    try {
      const e = await expectBridgeError(describeSystem(b), 'user', /building the system/, /ValueError: this system is broken on purpose/);
      expect(e.traceback).toMatch(/odld_like\.py", line \d+, in initialize/);
      // the helper survives its user's exception and answers the next request
      await expectBridgeError(describeSystem(b), 'user', /broken on purpose/);
    } finally {
      b.close();
    }
  });
});

describe.skipIf(noWestpa)('no orphan helper', () => {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim()[0] !== 'Z';
    } catch {
      return false;
    }
  };
  const waitGone = async (pid: number, ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!alive(pid)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return !alive(pid);
  };

  it('the helper exits on EOF when the bridge closes', async () => {
    const { root, cfg } = pythonSimRoot(odldBody());
    const b = await PythonBridge.start({ python: py, simRoot: root, configFile: cfg, purpose: 'test' });
    const pid = b.pid!;
    expect(alive(pid)).toBe(true);
    b.close();
    expect(await waitGone(pid, 5000)).toBe(true);
  });

  it('the helper exits when the Node process that started it is killed with SIGKILL, even mid-call', async () => {
    const { root, cfg } = pythonSimRoot(odldBody({ driver: 'slow.SlowSystem' }));
    // a system that takes a minute to build: the helper is busy in user code when its parent dies
    writeFileSync(
      join(root, 'slow.py'),
      'import time\nfrom odld_like import DoubleWellSystem\nclass SlowSystem(DoubleWellSystem):\n    def initialize(self):\n        time.sleep(60)\n        super().initialize()\n',
    );
    const dist = new URL('../dist/index.js', import.meta.url).pathname;
    const script = `import { PythonBridge, chooseInterpreter } from ${JSON.stringify(dist)};
const b = await PythonBridge.start({ python: chooseInterpreter(null), simRoot: ${JSON.stringify(root)}, configFile: ${JSON.stringify(cfg)}, purpose: 'test' });
console.log(String(b.pid)); b.request('system'); setInterval(() => {}, 1000);`;
    const node = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      node.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      node.once('exit', (c) => reject(new Error(`node exited ${c}`)));
    });
    expect(alive(pid)).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // it is inside time.sleep now
    node.kill('SIGKILL');
    expect(await waitGone(pid, 5000)).toBe(true);
  });
});
