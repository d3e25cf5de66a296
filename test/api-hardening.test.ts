/**
 * Issue 14 items 4, 5 and 11, each as the attack that found it, against a live `westream run --api`:
 * the token file (a planted symlink, a loose mode), log routes (a FIFO, hard links), and the OpenAPI drift
 * (defaults marked required, TRACE, /metrics missing early iterations, the Host header and DNS rebinding).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { reapStarted, until } from './support/processes.js';
import { demoSimDir, runWithApi, westream } from './support/sim-dir.js';

const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));
const TOKEN = 'hardening-token-7c1d';
const INIT = ['init', '--bstates-from', 'bstates.txt', '--tstates-from', 'tstates.txt', '--segs-per-state', '2'];
afterAll(reapStarted);
// The token-file tests need a run given no token; the live run below is given one explicitly.
delete process.env.WESTREAM_API_TOKEN;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: { message?: string } & Record<string, unknown>;
}

/** One HTTP request with any method and Host header (fetch forbids setting Host), with a deadline. */
function http(base: string, path: string, o: { method?: string; host?: string; token?: string; timeoutMs?: number } = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: o.method ?? 'GET',
        headers: { ...(o.host ? { host: o.host } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (b: Buffer) => (text += b.toString()));
        res.on('end', () => {
          let json = {};
          try {
            json = JSON.parse(text) as object;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${o.method ?? 'GET'} ${path}: no answer in ${o.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const slowed = (dir: string): void => {
  const p = join(dir, 'westpa_scripts/runseg.sh');
  writeFileSync(p, readFileSync(p, 'utf8').replace('set -euo pipefail\n', 'set -euo pipefail\nsleep 0.15\n'));
  chmodSync(p, 0o755);
};

describe.skipIf(skip)('a live run attacked through its API (issue 14 items 5, 11)', () => {
  let dir: string;
  let base: string;
  let port: string;
  let run: Awaited<ReturnType<typeof runWithApi>>;
  let finishedBeforeListen: number;
  beforeAll(async () => {
    // Unslowed: the first iterations finish while the API thread is still loading fastify.
    dir = demoSimDir((y) =>
      y
        .replace('max_total_iterations: 40', 'max_total_iterations: 200')
        .replace('    seed: 20261121', '    seed: 20261121\n    api:\n      allowed_hosts: [westream.test]'),
    );
    expect(westream(dir, INIT).code).toBe(0);
    run = await runWithApi(dir, [], { WESTREAM_API_TOKEN: TOKEN });
    base = run.base;
    port = new URL(base).port;
    finishedBeforeListen = (
      run
        .out()
        .split('REST API on')[0]
        ?.match(/"iteration finished"/g) ?? []
    ).length;
    expect((await http(base, '/run/pause', { method: 'POST', token: TOKEN })).status).toBe(200);
    await until('the run pauses', async () => (await http(base, '/status')).json.state === 'paused', { ms: 60_000, context: run.out });
  }, 120_000);

  it('item 11: /metrics westream_iterations_total counts the iterations finished before the API listened', async () => {
    expect(finishedBeforeListen, 'the run must finish an iteration before the API listens, or this proves nothing').toBeGreaterThan(0);
    const status = (await http(base, '/status')).json as { lastIteration: { nIter: number } };
    const metrics = (await http(base, '/metrics')).text;
    // A fresh run from iteration 1, paused: it finished iterations 1..lastIteration.nIter.
    expect(metrics).toMatch(new RegExp(`^westream_iterations_total ${status.lastIteration.nIter}$`, 'm'));
  });

  it('item 5: a FIFO in place of a log is refused at once (403, says why), and never blocks /status', async () => {
    const log = join(dir, 'seg_logs/000001-000000.log');
    rmSync(log);
    expect(spawnSync('mkfifo', [log]).status).toBe(0);
    const [r, s] = await Promise.all([http(base, '/iterations/1/segments/0/log', { timeoutMs: 5000 }), http(base, '/status', { timeoutMs: 5000 })]);
    expect(r.status).toBe(403);
    expect(r.json.message).toMatch(/seg_logs\/000001-000000\.log is not a regular file \(a FIFO\)/);
    expect(s.status).toBe(200);
    expect((await http(base, '/metrics', { timeoutMs: 5000 })).status).toBe(200);
  });

  it('item 5: a hard link in seg_logs to a file outside the run (or inside it) is refused (403) without its content', async () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'westream-outside-')), 'secret.txt');
    writeFileSync(outside, 'SECRET-OUTSIDE-THE-RUN\n');
    const log = join(dir, 'seg_logs/000001-000001.log');
    rmSync(log);
    linkSync(outside, log);
    const r = await http(base, '/iterations/1/segments/1/log');
    expect(r.status).toBe(403);
    expect(r.text).not.toContain('SECRET');
    expect(r.json.message).toMatch(/has 2 hard links; the API serves only files with one link/);
    rmSync(log);
    linkSync(join(dir, 'west.yaml'), log);
    expect((await http(base, '/iterations/1/segments/1/log')).status).toBe(403);
    // The log of a segment that nothing tampered with is still served.
    const ok = await http(base, '/iterations/1/segments/2/log');
    expect(ok.status, ok.text).toBe(200);
  });

  it('item 11: the Host header must be loopback, an IP address or a configured name (DNS rebinding gets 403)', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`]) {
      for (const path of ['/status', '/iterations/1/segments/2/log', '/metrics', '/openapi.json', '/']) {
        const r = await http(base, path, { host });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.json.message).toMatch(/is not one this API answers to.*westream\.api\.allowed_hosts.*DNS rebinding/);
      }
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'app.localhost', `westream.test:${port}`, 'WESTREAM.TEST']) {
      expect((await http(base, '/status', { host })).status, host).toBe(200);
    }
  });

  it('item 11: TRACE (and other methods a path lacks) answer 405 with Allow; an unknown path stays 404', async () => {
    for (const [method, path] of [
      ['TRACE', '/status'],
      ['TRACE', '/iterations/1'],
      ['PATCH', '/status'],
      ['DELETE', '/iterations/1/segments/0/log'],
      ['GET', '/run/stop'],
    ] as const) {
      const r = await http(base, path, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(String(r.headers.allow), `${method} ${path}`).toMatch(path === '/run/stop' ? /POST/ : /GET/);
    }
    expect((await http(base, '/no-such-route')).status).toBe(404);
  });

  it('item 11: query parameters with a default are not required in /openapi.json, and are optional for real', async () => {
    const spec = (await http(base, '/openapi.json')).json as {
      paths: Record<string, { get?: { parameters?: { in: string; name: string; required?: boolean; schema: { default?: unknown } }[] } }>;
    };
    const query = (path: string) => (spec.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query');
    const withDefaults = [...query('/iterations/{n}/segments'), ...query('/evolution')];
    expect(withDefaults.map((p) => p.name).sort()).toEqual(['bins', 'dim', 'from', 'limit', 'offset']);
    for (const p of withDefaults) {
      expect(p.schema.default, p.name).toBeDefined();
      expect(p.required ?? false, p.name).toBe(false);
    }
    // Every combination the schema admits is served: tail with a byte range tails the range; an inverted range is empty.
    writeFileSync(join(dir, 'seg_logs/000001-000002.log'), 'one\ntwo\nthree\nfour\n');
    const tailed = await http(base, '/iterations/1/segments/2/log?tail=1&start=0&end=14'); // 'one\ntwo\nthree\n'
    expect(tailed.status, tailed.text).toBe(200);
    expect(tailed.json).toMatchObject({ text: 'three\n', start: 8, end: 14 });
    const inverted = await http(base, '/iterations/1/segments/2/log?start=10&end=5');
    expect(inverted.status).toBe(200);
    expect(inverted.json).toMatchObject({ start: 10, end: 10, text: '' });
    const page = (await http(base, '/iterations/1/segments')).json as { offset: number; limit: number };
    expect(page).toMatchObject({ offset: 0, limit: 100 });
    expect((await http(base, '/evolution')).status).toBe(200);
  });
});

describe.skipIf(skip)('the API token file .westream/api-token (issue 14 item 4)', () => {
  it('a symlink planted at .westream/api-token is refused with a clear message; its target is left as it was', () => {
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 2'));
    expect(westream(dir, INIT).code).toBe(0);
    const target = join(mkdtempSync(join(tmpdir(), 'westream-victim-')), 'victim.txt');
    writeFileSync(target, 'do not overwrite\n', { mode: 0o644 });
    chmodSync(target, 0o644);
    mkdirSync(join(dir, '.westream'), { recursive: true });
    symlinkSync(target, join(dir, '.westream/api-token'));
    const r = westream(dir, ['run', '--api', '0']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `${join(dir, '.westream/api-token')} is a symbolic link (to ${target}); westream writes the API token only to a file of its own`,
    );
    expect(r.stderr).toContain('Remove the link, then run again.');
    expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
    expect(readFileSync(target, 'utf8')).toBe('do not overwrite\n');
    expect(statSync(target).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(dir, '.westream/api-token')).isSymbolicLink()).toBe(true);
  }, 60_000);

  it('a token file left with mode 644 is replaced by a new one with mode 600; a hard link to it from seg_logs is not served', async () => {
    const dir = demoSimDir((y) => y.replace('max_total_iterations: 40', 'max_total_iterations: 30'));
    slowed(dir);
    expect(westream(dir, INIT).code).toBe(0);
    const file = join(dir, '.westream/api-token');
    mkdirSync(join(dir, '.westream'), { recursive: true });
    writeFileSync(file, 'old-token\n');
    chmodSync(file, 0o644);
    const run = await runWithApi(dir, []);
    expect(run.out()).toContain(`the token to pause or stop the run is in ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).not.toBe('old-token');
    expect(token.length).toBeGreaterThan(16);
    await until('iteration 1 has logs', async () => ((await http(run.base, '/status')).json as { lastIteration: unknown }).lastIteration !== null, {
      ms: 60_000,
      context: run.out,
    });
    const log = join(dir, 'seg_logs/000001-000000.log');
    rmSync(log);
    linkSync(file, log);
    const r = await http(run.base, '/iterations/1/segments/0/log');
    expect(r.status).toBe(403);
    expect(r.text).not.toContain(token);
    expect((await http(run.base, '/run/stop', { method: 'POST', token })).status).toBe(200);
    expect(await run.closed).toBe(130); // stopped through the API: ExitCode.STOPPED
  }, 120_000);
});
