/**
 * Worker daemons as the sim-manager sees them, with real parts (a private redis-server, `westream worker`
 * processes, the real command line): the registry of nodes, the sweeping of a dead node's own queue, one GPU
 * per slot, and a stop while Redis is down.
 */
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BullmqWorkManager, NODE_QUEUE_PREFIX } from '@westream/work-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, survivors, waitForLine, type Started } from './support/processes.js';
import { startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, demoSimDir, REPO, runWithApi, streamSimDir, WESTREAM, slowSegments, westream, westreamAsync, westreamRun } from './support/sim-dir.js';

const skip =
  skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server')) ||
  skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

let redis: PrivateRedis;
beforeAll(async () => {
  if (!skip) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(reapStarted);

function worker(url: string, nodeId: string, args: string[] = [], env: Record<string, string> = {}): Started {
  return start(
    process.execPath,
    [
      WESTREAM,
      'worker',
      '--redis',
      url,
      '--node-id',
      nodeId,
      '--state-dir',
      join(redis.dir, `state-${nodeId}`),
      '--lock-duration',
      '2',
      '--heartbeat',
      '1',
      ...args,
    ],
    { env: childEnv(env) },
  );
}

/** `westream run --work-manager bullmq` in the background. */
function backgroundRun(dir: string, url: string): { out: () => string; closed: Promise<number | null>; kill: (sig: NodeJS.Signals) => void } {
  const child = westreamAsync(dir, ['run', '--config', 'west.yaml', '--work-manager', 'bullmq', '--redis', url]);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return { out: () => out, closed: new Promise((r) => child.once('close', (c) => r(c))), kill: (sig) => void child.kill(sig) };
}

describe.skipIf(skip)('worker daemons: registry and node queues', () => {
  it('a node killed mid-stream: the registry shows it dead, its segment re-runs elsewhere, and its own queue is swept', async () => {
    // Slow frames (0.3 s apart, 11 per segment) so the stream job is certainly running when its node dies.
    const env = { TOY_FRAME_INTERVAL: '0.3' };
    const x = worker(redis.url, 'node-x', ['--slots', '1'], env);
    const y = worker(redis.url, 'node-y', ['--slots', '1'], env);
    for (const w of [x, y]) await waitForLine(w, 'stdout', /ready: 1 slot/);
    // Two iterations: the second is node y's alone, and lasts past the sweep that empties node x's queue.
    const dir = streamSimDir((yml) => yml.replace('max_total_iterations: 4', 'max_total_iterations: 2'));
    expect(westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '2']).code).toBe(0);
    const run = backgroundRun(dir, redis.url);
    await waitForLine(x, 'stdout', /: started/, 60_000);
    await new Promise((r) => setTimeout(r, 1200)); // inside the stream
    x.child.kill('SIGKILL');
    await x.exited;

    const wm = await BullmqWorkManager.connect({ redisUrl: redis.url, runId: 'registry-probe', simRoot: dir, config: join(dir, 'west.yaml'), seed: 1n });
    const db = new Redis(redis.url);
    try {
      await new Promise((r) => setTimeout(r, 3500)); // the heartbeat's TTL is 3 × 1 s
      const reg = await wm.workers();
      expect(reg.map((w) => [w.node, w.alive])).toEqual([
        ['node-x', false],
        ['node-y', true],
      ]);
      const yInfo = reg.find((w) => w.node === 'node-y');
      expect(yInfo).toMatchObject({ slots: 1, pid: y.child.pid, draining: false, lockDurationMs: 2000 });
      expect(Date.now() - Date.parse(yInfo?.at ?? '')).toBeLessThan(3000);

      expect(await run.closed, run.out()).toBe(0);
      // Node x's stream job stalled when x died. Nobody but x's own daemon consumes that queue, so the run's
      // sweeper ran BullMQ's stall check on it and then emptied it: nothing is left active or waiting there.
      const q = `${NODE_QUEUE_PREFIX}:node-x`;
      const events = (await db.xrange(`${q}:events`, '-', '+')).map(([, f]) => `${f[1] ?? ''} ${f[3] ?? ''}`);
      expect(events.filter((e) => /^stalled \S+-stream-/.test(e)).length, events.join('\n')).toBe(1);
      expect(await db.llen(`${q}:active`)).toBe(0);
      expect(await db.llen(`${q}:wait`)).toBe(0);
      // Node y ran every segment of the later iteration, streams included, on its own queue.
      expect(y.stdout).toMatch(/-i2-s\d+: complete/);
      // The dead node's engine (waiting for a stream client) outlived its daemon; a daemon started again on
      // that node reaps it, as a supervisor's restart would.
      const again = worker(redis.url, 'node-x', ['--slots', '1']);
      await waitForLine(again, 'stdout', /killed [1-9]\d* process\(es\) left running by the westream worker with pid \d+, which did not end normally/);
      expect(survivors(dir)).toEqual([]);
    } finally {
      db.disconnect();
      await wm.close();
    }
  }, 180_000);
});

describe.skipIf(skip)('worker daemons: segments that finish in milliseconds', () => {
  it('600 no-op segments over two daemons: every result is read whole, the run completes', async () => {
    // Jobs this fast finish between two reads of one reconciliation: a job read while active and found
    // completed a moment later once came back without its result, and the segment failed.
    const ws = ['fast-a', 'fast-b'].map((id) => worker(redis.url, id, ['--slots', '1']));
    for (const w of ws) await waitForLine(w, 'stdout', /ready: 1 slot/);
    const dir = mkdtempSync(join(tmpdir(), 'westream-fast-'));
    cpSync(join(REPO, 'bench/fixtures/noop'), dir, { recursive: true });
    const cfg = join(dir, 'west.cfg');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('bin_target_counts: 1000', 'bin_target_counts: 300').replace('max_total_iterations: 3', 'max_total_iterations: 2'),
    );
    expect(westream(dir, ['init', '--config', 'west.cfg', '--bstate', 'start,1,start', '--segs-per-state', '300']).code).toBe(0);
    const r = await westreamRun(dir, ['run', '--config', 'west.cfg', '--work-manager', 'bullmq', '--redis', redis.url]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('does not match');
  }, 120_000);
});

describe.skipIf(skip)('worker daemons: one GPU per slot', () => {
  it("--gpus 7,3: every segment sees its slot's device in CUDA_VISIBLE_DEVICES, never one another segment holds", async () => {
    const w = worker(redis.url, 'node-gpu', ['--gpus', '7,3']);
    await waitForLine(w, 'stdout', /ready: 2 slot\(s\) on GPU\(s\) 7,3/);
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 2'));
    const p = join(dir, 'westpa_scripts/runseg.sh');
    // A device claimed twice at once is written down (mkdir is atomic), so a clash cannot pass unseen, even
    // if the failed segment then succeeds on a retry.
    writeFileSync(
      p,
      readFileSync(p, 'utf8').replace(
        'set -euo pipefail\n',
        'set -euo pipefail\nclaim="$WEST_SIM_ROOT/gpu-$CUDA_VISIBLE_DEVICES"\nmkdir "$claim" || { echo "$WEST_CURRENT_SEG_ID: GPU $CUDA_VISIBLE_DEVICES in use" >> "$WEST_SIM_ROOT/gpu-clashes"; exit 9; }\necho "gpu=$CUDA_VISIBLE_DEVICES index=$WM_PROCESS_INDEX"\nsleep 0.2\nrmdir "$claim"\n',
      ),
    );
    chmodSync(p, 0o755);
    expect(
      westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '4']).code,
    ).toBe(0);
    const r = await westreamRun(dir, ['run', '--config', 'west.yaml', '--work-manager', 'bullmq', '--redis', redis.url]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const seen = readdirSync(join(dir, 'seg_logs'))
      .filter((f) => /^\d{6}-\d{6}\.log$/.test(f))
      .map((f) =>
        /gpu=(\S*) index=(\S*)/
          .exec(readFileSync(join(dir, 'seg_logs', f), 'utf8'))
          ?.slice(1)
          .join(' '),
      );
    expect(seen.length).toBeGreaterThanOrEqual(8);
    expect(new Set(seen)).toEqual(new Set(['7 0', '3 1']));
    expect(existsSync(join(dir, 'gpu-clashes'))).toBe(false);
  }, 120_000);

  it('--gpus that do not fit the slots: a clear error, exit 2', () => {
    for (const [args, msg] of [
      [['--gpus', '0,1', '--slots', '3'], /--gpus '0,1' names 2 device\(s\) for 3 slot\(s\)/],
      [['--gpus', '0,0'], /names a device twice/],
      [['--gpus', '0;rm -rf /'], /expected device indices or UUIDs/],
    ] as const) {
      const r = westream(redis.dir, ['worker', '--redis', redis.url, ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toContain('    at ');
    }
  });
});

describe.skipIf(skip)('stopping a run while Redis is down', () => {
  it('SIGINT with Redis gone: the run stops within seconds, keeping what is recorded; a later run resumes', async () => {
    const own = await startRedis();
    const w = worker(own.url, 'node-down', ['--slots', '1'], { SEG_SLEEP: '0.5' });
    await waitForLine(w, 'stdout', /ready: 1 slot/);
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 3'));
    slowSegments(dir);
    expect(
      westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2']).code,
    ).toBe(0);
    const run = backgroundRun(dir, own.url);
    await waitForLine(w, 'stdout', /: started/, 30_000);
    await own.stop();
    const t0 = Date.now();
    run.kill('SIGINT');
    const code = await run.closed;
    expect(Date.now() - t0, run.out()).toBeLessThan(10_000);
    expect(code, run.out()).not.toBe(0);
    expect(run.out()).toContain('SIGINT: stopping');
    expect(run.out()).not.toContain('    at ');
    // The worker says Redis is gone, without a line per retry.
    expect(w.stdout.match(/ECONNREFUSED/g)?.length ?? 0).toBeLessThanOrEqual(2);
    // And it can still be stopped: a drain while Redis is away ends within seconds, not never.
    const t1 = Date.now();
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(Date.now() - t1).toBeLessThan(15_000);
    // Redis back (empty: no persistence) and a worker: the run resumes and finishes.
    const again = await startRedis({ port: own.port, dir: own.dir });
    const w2 = worker(again.url, 'node-down-2', ['--slots', '1']);
    await waitForLine(w2, 'stdout', /ready: 1 slot/);
    try {
      const r = await westreamRun(dir, ['run', '--config', 'west.yaml', '--work-manager', 'bullmq', '--redis', again.url]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/reached max_total_iterations/);
    } finally {
      await again.stop();
    }
  }, 120_000);
});

describe.skipIf(skip)('the REST API in BullMQ mode', () => {
  it('/workers lists the daemons; /metrics has queue depths; /queues (bull-board) needs the token', async () => {
    const w = worker(redis.url, 'node-api', ['--slots', '1'], { SEG_SLEEP: '0.3' });
    await waitForLine(w, 'stdout', /ready: 1 slot/);
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 6'));
    slowSegments(dir);
    expect(
      westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2']).code,
    ).toBe(0);
    const { base, closed } = await runWithApi(dir, ['--config', 'west.yaml', '--work-manager', 'bullmq', '--redis', redis.url], {
      WESTREAM_API_TOKEN: 'tok-123',
    });
    const workers = (await (await fetch(`${base}/workers`)).json()) as { node: string; alive: boolean; slots: number }[];
    expect(workers).toEqual(expect.arrayContaining([expect.objectContaining({ node: 'node-api', alive: true, slots: 1 })]));
    // A node joining shows on the event stream (the registry is polled every 5 s).
    const ac = new AbortController();
    const events = await fetch(`${base}/events`, { signal: ac.signal });
    const joiner = worker(redis.url, 'node-api-2', ['--slots', '1'], { SEG_SLEEP: '0.3' });
    await waitForLine(joiner, 'stdout', /ready: 1 slot/);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    let sse = '';
    const dec = new TextDecoder();
    const seenBy = Date.now() + 15_000;
    while (!/event: worker-joined\ndata: \{"node":"node-api-2"\}/.test(sse) && Date.now() < seenBy) {
      const { value, done } = await reader.read();
      if (done) break;
      sse += dec.decode(value);
    }
    ac.abort();
    expect(sse).toMatch(/event: worker-joined\ndata: \{"node":"node-api-2"\}/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^westream_queue_jobs\{state="active"\} \d+$/m);
    expect(metrics).toMatch(/^westream_worker_slots\{node="node-api"\} 1$/m);

    const denied = await fetch(`${base}/queues`, { redirect: 'manual' });
    expect(denied.status).toBe(401);
    expect(await fetch(`${base}/queues?token=wrong`, { redirect: 'manual' }).then((r) => r.status)).toBe(401);
    expect(await fetch(`${base}/queues`, { redirect: 'manual', headers: { cookie: 'westream_token=%E0%A4%A' } }).then((r) => r.status)).toBe(401);
    const login = await fetch(`${base}/queues?token=tok-123`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(`${base}/queues`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const board = (await (await fetch(`${base}/queues/api/queues`, { headers: { authorization: 'Bearer tok-123' } })).json()) as { queues: { name: string }[] };
    expect(board.queues.map((q) => q.name)).toContain('segments');
    expect(await closed).toBe(0);
  }, 120_000);
});
