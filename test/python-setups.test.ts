/**
 * WESTPA users' own Python set-ups run unchanged by the real `westream` command: an ODLD-style Python system and
 * propagator, a FuncBinMapper, arrays in segment.data, the user's exceptions and import errors — under the local
 * work manager and through BullMQ worker daemons with a real Redis.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, waitForLine, type Started } from './support/processes.js';
import { odldBody, pythonSimRoot } from './support/python-setups.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, python, WESTREAM, westream, westreamRun } from './support/sim-dir.js';

const noPeers = skipWithoutPeer('python westpa + h5py', pythonModuleMissing('westpa') ?? pythonModuleMissing('h5py'));
const noRedis = noPeers || skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server'));

/** Facts of west.h5, read with h5py (WESTPA's own reader of it). */
interface H5Facts {
  nIters: number;
  iters: {
    n: number;
    nSegs: number;
    status: number[];
    parents: number[];
    weightSum: number;
    first: number[];
    last: number[];
    aux: Record<string, number[][]>;
  }[];
}
const facts = (dir: string): H5Facts =>
  JSON.parse(
    python(
      `import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
out = {'nIters': int(f.attrs['west_current_iteration']) - 1, 'iters': []}
for n in range(1, out['nIters'] + 1):
    g = f['iterations/iter_%08d' % n]
    si = g['seg_index'][...]
    pc = g['pcoord'][...]
    aux = {k: g['auxdata'][k][...].reshape(len(si), -1).tolist() for k in (g['auxdata'].keys() if 'auxdata' in g else [])}
    out['iters'].append({'n': n, 'nSegs': len(si), 'status': si['status'].tolist(), 'parents': si['parent_id'].tolist(), 'weightSum': float(si['weight'].sum()),
                         'first': pc[:, 0, 0].astype(float).tolist(), 'last': pc[:, -1, 0].astype(float).tolist(), 'aux': aux})
print(json.dumps(out))`,
      [join(dir, 'west.h5')],
    ),
  ) as H5Facts;

/** WESTPA's invariant: a segment starts where its parent ended (or at its initial state's pcoord). */
function expectContinuity(h: H5Facts, start: number): void {
  for (const it of h.iters) {
    expect(
      it.status.every((s) => s === 2),
      `iteration ${it.n} all COMPLETE`,
    ).toBe(true);
    expect(it.weightSum).toBeCloseTo(1, 12);
    const prev = h.iters[it.n - 2];
    it.parents.forEach((p, i) => expect(it.first[i]).toBe(p >= 0 ? prev?.last[p] : start));
  }
}

function initOdld(body: string, extraEnv: Record<string, string> = {}): string {
  const { root } = pythonSimRoot(body);
  const r = westream(root, ['init', '--config', 'west.cfg', '--bstate', 'start,1.0', '--segs-per-state', '4'], extraEnv);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return root;
}

// Each test runs the real command one or more times (a Python helper starts per process): minutes on a loaded machine.
vi.setConfig({ testTimeout: 300_000 });

describe.skipIf(noPeers)('Python system + Python propagator (ODLD style), local work manager', () => {
  it("runs the user's propagator in blocks; each segment starts at its parent's last point; west.h5 as WESTPA writes it", () => {
    const dir = initOdld(odldBody({ iterations: 4, blockSize: 5 }) + '  westream:\n    slots: 2\n');
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const h = facts(dir);
    expect(h.nIters).toBe(4);
    expectContinuity(h, 7);
    // the dynamics moved them: not all at the start any more
    expect(new Set(h.iters[3]!.last).size).toBeGreaterThan(5);
  });

  it('arrays the propagator puts in segment.data are stored in auxdata/', () => {
    const dir = initOdld(odldBody({ propagator: 'odld_like.DataPropagator', iterations: 2 }));
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const it2 = facts(dir).iters[1]!;
    expect(it2.aux.origin).toEqual(it2.status.map((_, i) => [2, i]));
    expect(it2.aux.energy?.[0]?.length).toBe(11);
    expect(it2.aux.energy?.[0]?.[10]).toBeCloseTo((it2.last[0]! - 5) ** 2, 5);
  });

  it('a FuncBinMapper assigns through the helper: the next iteration has exactly 4 walkers in every occupied stripe bin', () => {
    const dir = initOdld(odldBody({ driver: 'odld_like.FuncSystem', iterations: 3 }));
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const h = facts(dir);
    expectContinuity(h, 7);
    for (const n of [2, 3]) {
      const it = h.iters[n - 1]!;
      // the user's function, applied to where each walker starts (its parent's end, as float32)
      const stripe = (x: number): number => Math.floor(Math.fround(x) / 0.75) % 8;
      const counts = new Map<number, number>();
      for (const x of it.first) counts.set(stripe(x), (counts.get(stripe(x)) ?? 0) + 1);
      expect(
        [...counts.values()].every((c) => c === 4),
        `iteration ${n}: ${JSON.stringify([...counts])}`,
      ).toBe(true);
      // negative control: by WESTPA's rectilinear bins of 1.0 the same walkers are not 4 per bin
      const rect = new Map<number, number>();
      for (const x of it.first) rect.set(Math.floor(x), (rect.get(Math.floor(x)) ?? 0) + 1);
      if (n === 3) expect([...rect.values()].every((c) => c === 4)).toBe(false);
    }
  });

  it("a MABBinMapper in the user's system runs as westream's native MAB: the adaptive bins follow the walkers, every occupied bin at its target", () => {
    const dir = initOdld(odldBody({ driver: 'odld_like.MabSystem', iterations: 3 }));
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const h = facts(dir);
    expectContinuity(h, 7);
    // MAB places its bins between the extreme walkers, so the walkers keep spreading out, 4 to a bin
    const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);
    expect(h.iters[2]!.nSegs % 4).toBe(0);
    expect(h.iters[2]!.nSegs).toBeGreaterThan(4);
    expect(spread(h.iters[2]!.first)).toBeGreaterThan(0.5);
  });

  it("an exception in the user's propagate halts with their traceback and the iteration; iteration 1 stays recorded", () => {
    const dir = initOdld(odldBody({ propagator: 'odld_like.FailingPropagator', iterations: 3 }) + '  westream:\n    max_segment_retries: 1\n');
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/segment \d+ of iteration 2: propagating segment\(s\) [\d, ]+ of iteration 2: RuntimeError: the integrator blew up on purpose/);
    expect(r.stderr).toMatch(/odld_like\.py", line \d+, in propagate/);
    expect(r.stderr).not.toMatch(/internal error/);
    const h = facts(dir);
    expect(h.iters[0]!.status.every((s) => s === 2)).toBe(true);
  });

  it("an import error in the propagator's module is exit 2 naming west.propagation.propagator", () => {
    const dir = initOdld(odldBody());
    const cfg = join(dir, 'west.cfg');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('propagator: odld_like.DoubleWellPropagator', 'propagator: broken_import.Propagator'));
    const r = westream(dir, ['run', '--config', 'west.cfg']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/west\.propagation\.propagator: cannot load 'broken_import\.Propagator' in python3: .*a_module_nobody_has/);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('a missing interpreter is exit 2 naming the key and what to set', () => {
    const dir = initOdld(odldBody());
    const r = westream(dir, ['run', '--config', 'west.cfg'], { WESTREAM_PYTHON: '/nonexistent/python3' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'\/nonexistent\/python3' \(from WESTREAM_PYTHON\) was not found; set west\.westream\.python/);
  });
});

describe.skipIf(noRedis)('Python propagator through BullMQ worker daemons', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(reapStarted);

  const worker = (nodeId: string, slots: number): Started =>
    start(
      process.execPath,
      [WESTREAM, 'worker', '--redis', redis.url, '--node-id', nodeId, '--slots', String(slots), '--state-dir', join(redis.dir, `state-${nodeId}`)],
      { env: childEnv() },
    );

  it("two daemons run the user's propagator (one helper per slot); the same continuity; a FuncBinMapper on the sim-manager", async () => {
    const ws = [worker('py-a', 2), worker('py-b', 1)];
    for (const w of ws) await waitForLine(w, 'stdout', /ready: \d slot/);
    const dir = initOdld(odldBody({ driver: 'odld_like.FuncSystem', iterations: 3, propagator: 'odld_like.DataPropagator' }));
    const r = await westreamRun(dir, ['run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis.url]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const h = facts(dir);
    expect(h.nIters).toBe(3);
    expectContinuity(h, 7);
    expect(h.iters[2]!.aux.origin).toEqual(h.iters[2]!.status.map((_, i) => [3, i]));
    // both nodes propagated, each through its own Python helper log
    const logs = ['py-a', 'py-b'].map((n) => join(dir, 'seg_logs', `python-${n}.log`));
    for (const l of logs) expect(() => readFileSync(l), l).not.toThrow();
  });

  it("an exception in the user's propagate on a daemon halts the run with their traceback; iteration 1 stays recorded", async () => {
    const w = worker('py-c', 1);
    await waitForLine(w, 'stdout', /ready: 1 slot/);
    const dir = initOdld(odldBody({ propagator: 'odld_like.FailingPropagator', iterations: 3 }) + '  westream:\n    max_segment_retries: 0\n');
    const r = await westreamRun(dir, ['run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis.url]);
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.stderr).toMatch(/of iteration 2: RuntimeError: the integrator blew up on purpose/);
    expect(r.stderr).toMatch(/odld_like\.py", line \d+, in propagate/);
    expect(facts(dir).iters[0]!.status.every((s) => s === 2)).toBe(true);
  });
});
