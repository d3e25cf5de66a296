/**
 * Three "nodes" (network namespaces, each with its own loopback) with one `westream worker` each, Redis on the
 * bridge, the sim-manager in the root namespace. Segments stream over IMD on their node's 127.0.0.1: a stream
 * task that ran on any other node than its engine's could not connect. The run must equal the local one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsMissing, makeNodes, type Nodes } from '../bench/lib/netns.mjs';
import { commandMissing, pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, start, survivors, waitForLine, type Started } from './support/processes.js';
import { completedJobIds, startRedis, type PrivateRedis } from './support/redis.js';
import { childEnv, pcoordsOf, streamSimDir, WESTREAM, westream, westreamRun } from './support/sim-dir.js';

const skip =
  skipWithoutPeer('redis-server (Debian)', commandMissing('redis-server', 'apt-get install redis-server')) ||
  skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py')) ||
  skipWithoutPeer('network namespaces (root + iproute2)', netnsMissing());

let nodes: Nodes;
let redis: PrivateRedis;
beforeAll(async () => {
  if (skip) return;
  nodes = makeNodes(3);
  redis = await startRedis({ bind: nodes.hostAddress });
});
afterAll(async () => {
  reapStarted();
  await redis?.stop();
  nodes?.teardown();
});

const config = (y: string): string => y.replace('max_total_iterations: 4', 'max_total_iterations: 2').replace('bin_target_counts: 2', 'bin_target_counts: 3');

describe.skipIf(skip)("bullmq across three network-namespace nodes, streaming on each node's loopback", () => {
  it("every node runs segments, every stream task reaches its own engine, and west.h5 equals the local run's pcoords", async () => {
    const local = streamSimDir(config);
    expect(westream(local, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '3']).code).toBe(0);
    const lr = westream(local, ['run', '--config', 'west.yaml']);
    expect(lr.code, lr.stderr).toBe(0);

    const workers: Started[] = nodes.names.map((ns, i) =>
      start(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          WESTREAM,
          'worker',
          '--redis',
          redis.url,
          '--node-id',
          `node${i}`,
          '--slots',
          '1',
          '--state-dir',
          join(redis.dir, `state-${i}`),
          '--lock-duration',
          '5',
        ],
        { env: childEnv() },
      ),
    );
    for (const w of workers) await waitForLine(w, 'stdout', /ready: 1 slot/);
    const dir = streamSimDir(config);
    expect(westream(dir, ['init', '--config', 'west.yaml', '--bstates-from', 'bstates.txt', '--segs-per-state', '3']).code).toBe(0);
    const r = await westreamRun(dir, ['run', '--config', 'west.yaml', '--work-manager', 'bullmq', '--redis', redis.url]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(pcoordsOf(dir)).toEqual(pcoordsOf(local));

    // Which node ran which segment (each worker logs its jobs). Delivery is at least once: on a loaded machine a
    // segment may start on two nodes (a lock renewed late); the one that completes last is recorded.
    for (const w of workers) await waitForLine(w, 'stdout', /: complete/, 5000);
    const ranBy = new Map<string, number>();
    const startedOn = workers.map(() => new Set<string>());
    workers.forEach((w, i) => {
      for (const m of w.stdout.matchAll(/-i(\d+)-s(\d+): complete/g)) ranBy.set(`${m[1]}-${m[2]}`, i);
      for (const m of w.stdout.matchAll(/-i(\d+)-s(\d+): started/g)) startedOn[i]?.add(`${m[1]}-${m[2]}`);
    });
    const logs = readdirSync(join(dir, 'seg_logs')).filter((f) => /^\d{6}-\d{6}\.log$/.test(f));
    expect(logs.length).toBeGreaterThanOrEqual(6);
    for (const f of logs) {
      const [n, s] = f.replace('.log', '').split('-').map(Number);
      expect(ranBy.has(`${n}-${s}`), `segment ${s} of iteration ${n} was run by one of the nodes`).toBe(true);
      const port = /on port (\d+)\./.exec(readFileSync(join(dir, 'seg_logs', f), 'utf8'))?.[1];
      expect(readFileSync(join(dir, 'seg_logs', f.replace('.log', '_analysis.log')), 'utf8')).toContain(`connected to 127.0.0.1:${port}:`);
    }
    expect(new Set(ranBy.values()).size, 'all three nodes took segments').toBe(3);
    // Each segment's stream task was a job on the queue of the node that ran the segment, and only there: every
    // stream job on a node's queue is of a segment that node started, and every segment it completed has one.
    for (const [i] of workers.entries()) {
      const streamed = new Set(
        (await completedJobIds(redis.url, `westream:node:node${i}:events`)).map((id) => /-i(\d+)-s(\d+)-stream-/.exec(id)).map((m) => `${m?.[1]}-${m?.[2]}`),
      );
      const completedHere = [...ranBy].filter(([, node]) => node === i).map(([seg]) => seg);
      expect(
        completedHere.filter((seg) => !streamed.has(seg)),
        `segments node${i} completed without a stream job on its queue`,
      ).toEqual([]);
      expect(
        [...streamed].filter((seg) => !startedOn[i]?.has(seg)),
        `stream jobs on node${i}'s queue for segments it never started`,
      ).toEqual([]);
      expect(streamed.size).toBeGreaterThan(0);
    }
    expect(survivors(dir)).toEqual([]);
  }, 300_000);
});
