/**
 * The REST API of a live run, over real HTTP: `westream run --api 127.0.0.1:0` on the demo (slowed so there
 * is time to look), queried with fetch while it runs. Status, iterations, segments, logs, events, metrics,
 * OpenAPI; bad input; path traversal; the token; pause, resume, stop.
 */
import { chmodSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseApiAddress } from '@westream/sim-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, until as waitUntil } from './support/processes.js';
import { demoSimDir, runWithApi, westream, westreamRun } from './support/sim-dir.js';

const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const TOKEN = 'test-token-4f8a';

let dir: string;
let base: string;
let run: Awaited<ReturnType<typeof runWithApi>>;
afterAll(reapStarted);

const get = async (path: string): Promise<{ status: number; body: unknown; text: string }> => {
  const r = await fetch(base + path);
  const text = await r.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body, text };
};
const post = (path: string, token?: string): Promise<Response> =>
  fetch(base + path, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
type Status = {
  state: string;
  requested: string | null;
  currentIteration: number;
  segments: { total: number; complete: number };
  workers: { node: string; alive: boolean }[];
  runId: string;
};
const status = async (): Promise<Status> => (await get('/status')).body as Status;
const until = (what: string, ok: () => Promise<boolean>): Promise<void> => waitUntil(what, ok, { context: () => run.out() });

describe.skipIf(skip)('REST API of a live run', () => {
  beforeAll(async () => {
    dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 30'));
    const p = join(dir, 'westpa_scripts/runseg.sh');
    writeFileSync(
      p,
      readFileSync(p, 'utf8').replace(
        'set -euo pipefail\n',
        'set -euo pipefail\necho "segment $WEST_CURRENT_SEG_ID of iteration $WEST_CURRENT_ITER starts"\nsleep 0.15\n',
      ),
    );
    chmodSync(p, 0o755);
    expect(westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2']).code).toBe(0);
    run = await runWithApi(dir, [], { WESTREAM_API_TOKEN: TOKEN });
    base = run.base;
  }, 180_000);

  it('binds loopback by default (the run was given only a port), and parses --api forms', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(parseApiAddress('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseApiAddress(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseApiAddress('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseApiAddress('off')).toBeNull();
    expect(() => parseApiAddress('localhost:99999')).toThrow(/--api 'localhost:99999'/);
  });

  it('GET /status: the run, its state, iteration, segments by status, workers', async () => {
    const s = await status();
    expect(s.state).toBe('running');
    expect(s.runId).toMatch(/^run-/);
    expect(s.currentIteration).toBeGreaterThanOrEqual(1);
    expect(s.segments.total).toBeGreaterThan(0);
    expect(s.workers).toEqual([expect.objectContaining({ alive: true })]);
  });

  it('GET /events streams segment and iteration events as they happen', async () => {
    const ac = new AbortController();
    const r = await fetch(`${base}/events`, { signal: ac.signal });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const dec = new TextDecoder();
    // Until all three kinds have come: a client that connects as an iteration ends sees its last segments
    // finish and the iteration end before any segment starts.
    const wanted = [/event: segment-started\n/, /event: segment-finished\ndata: \{.*"segId":\d+/, /event: iteration-finished\ndata: \{.*"nIter":\d+/];
    while (!wanted.every((re) => re.test(text))) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    ac.abort();
    expect(text).toMatch(/event: segment-started\n/);
    expect(text).toMatch(/event: segment-finished\ndata: \{"nIter":\d+,"segId":\d+/);
    expect(text).toMatch(/event: iteration-finished\ndata: \{"nIter":\d+,"nSegs":\d+/);
  }, 60_000);

  it('GET /iterations, /iterations/:n, segments, one segment, its log', async () => {
    await until('iteration 3', async () => (await status()).currentIteration >= 3);
    const rows = (await get('/iterations')).body as { nIter: number; norm: number; complete: boolean }[];
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows[0]).toMatchObject({ nIter: 1, complete: true });
    for (const r of rows) expect(r.norm).toBeCloseTo(1, 9);
    const it2 = (await get('/iterations/2')).body as { bins: { count: number; weight: number }[]; flux: { recycledWeight: number } };
    expect(it2.bins.reduce((a, b) => a + b.weight, 0)).toBeCloseTo(1, 9);
    const page = (await get('/iterations/2/segments?offset=1&limit=2')).body as {
      total: number;
      segments: { id: number; weight: number; status: string; finalPcoord: number[] }[];
    };
    expect(page.segments.map((s) => s.id)).toEqual([1, 2]);
    expect(page.segments.every((s) => s.status === 'complete' && s.finalPcoord.length === 1)).toBe(true);
    const seg = (await get('/iterations/2/segments/1')).body as { pcoord: number[][]; parents: number[]; links: { log: string } };
    expect(seg.pcoord.length).toBe(11); // the demo's pcoord_len
    expect(seg.parents.length).toBeGreaterThanOrEqual(1);
    const log = (await get(`${seg.links.log}?tail=1`)).body as { text: string; file: string };
    expect(log.file).toBe('seg_logs/000002-000001.log');
    expect(log.text).toBe('segment 1 of iteration 2 starts\n');
    const range = (await get('/iterations/2/segments/1/log?start=8&end=9')).body as { text: string };
    expect(range.text).toBe('1');
  });

  it('unknown iterations and segments: 404; malformed or oversized parameters: 400, with a message', async () => {
    for (const [path, code, msg] of [
      ['/iterations/999999', 404, /does not exist yet/],
      ['/iterations/1/segments/999', 404, /has \d+ segments/],
      ['/iterations/abc', 400, /params\/n must be integer/],
      ['/iterations/0', 400, /must be >= 1/],
      ['/iterations/1/segments?limit=100000', 400, /limit must be <= 1000/],
      ['/iterations/1/segments?offset=-1', 400, /offset/],
      ['/nope', 404, /no route GET \/nope/],
    ] as const) {
      const r = await get(path);
      expect(r.status, path).toBe(code);
      expect((r.body as { message: string }).message, path).toMatch(msg);
    }
    for (const path of [
      `/iterations/1/segments/${'9'.repeat(1500)}`,
      `/iterations/${'1'.repeat(1500)}`,
      `/iterations/1/segments?limit=${'9'.repeat(1500)}`,
      '/iterations/1/segments/0/log?tail=1e9',
    ]) {
      const r = await get(path);
      expect(r.status, path.slice(0, 60)).toBe(400);
      expect((r.body as { message: string }).message).toMatch(/^bad request: /);
    }
  });

  it('path traversal reads nothing outside the run: encoded dots, slashes, a planted symlink', async () => {
    for (const path of [
      '/iterations/1/segments/..%2F..%2F..%2Fetc%2Fpasswd/log',
      '/iterations/1/segments/0/log/../../../../etc/passwd',
      '/iterations/1/segments/%2e%2e/log',
      '/iterations/..%2f..%2fetc/segments/0/log',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(r.text).not.toContain('root:');
    }
    const victim = join(dir, 'seg_logs/000001-000000.log');
    rmSync(victim);
    symlinkSync('/etc/passwd', victim);
    const r = await get('/iterations/1/segments/0/log');
    expect(r.status).toBe(403);
    expect(r.text).not.toContain('root:');
    expect((r.body as { message: string }).message).toMatch(/outside the run directory|symbolic link/);
  });

  it('westream status --url renders the API as a table, or JSON', async () => {
    const table = await westreamRun(dir, ['status', '--url', base]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^run run-\S+ \(local\) — running/);
    expect(table.stdout).toMatch(/segments {7}\d+ complete, \d+ running/);
    expect(table.stdout).toMatch(/yes +2 /);
    const json = await westreamRun(dir, ['status', '--url', base, '--json']);
    expect((JSON.parse(json.stdout) as { state: string }).state).toBe('running');
    const down = await westreamRun(dir, ['status', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach the sim-manager at http:\/\/127\.0\.0\.1:1/);
  });

  it('GET /metrics (Prometheus) and /openapi.json, /docs', async () => {
    const m = await get('/metrics');
    expect(m.text).toMatch(/^westream_segments\{status="complete"\} \d+$/m);
    expect(m.text).toMatch(/^westream_current_iteration \d+$/m);
    expect(m.text).toMatch(/^westream_worker_slots\{node="[^"]+"\} 2$/m);
    const spec = (await get('/openapi.json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/status', '/iterations/{n}/segments/{id}/log', '/run/stop', '/events', '/metrics']));
    const docs = await get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('<html');
  });

  it('changes need the token (401 without, or with a wrong one); pause holds the next iteration, resume and stop work', async () => {
    for (const t of [undefined, 'wrong', `${TOKEN}x`]) {
      const r = await post('/run/pause', t);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { message: string }).message).toMatch(/Authorization: Bearer/);
    }
    expect((await status()).state).toBe('running');
    const p = await post('/run/pause', TOKEN);
    expect(p.status).toBe(200);
    await until('paused', async () => (await status()).state === 'paused');
    const held = (await status()).currentIteration;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status()).currentIteration).toBe(held);
    expect((await status()).segments.complete).toBe(0); // nothing of the next iteration ran
    expect((await post('/run/resume', TOKEN)).status).toBe(200);
    await until('the next iteration', async () => (await status()).currentIteration > held);
    const stop = await post('/run/stop', TOKEN);
    expect(((await stop.json()) as { state: string }).state).toBe('stopping');
    expect(await run.closed).toBe(130);
    expect(run.out()).toMatch(/stopped: \d+ iteration\(s\) run/);
    // What was recorded stays, and a new run continues from it.
    const s = JSON.parse(westream(dir, ['status', '--json']).stdout) as { completedIterations: number };
    expect(s.completedIterations).toBeGreaterThanOrEqual(held);
  }, 120_000);
});
