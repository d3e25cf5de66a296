/**
 * A private Redis server for a test file: its own port, its own directory, no persistence unless asked.
 * Started from Debian's redis-server (a real server, not a mock); stopped by pid.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort, keep, reapStarted, start, waitForLine, type Started } from './processes.js';
import { childEnv, WESTREAM } from './sim-dir.js';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly server: Started;
  stop(): Promise<void>;
}

export async function startRedis(o: { aof?: boolean; port?: number; dir?: string; bind?: string } = {}): Promise<PrivateRedis> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'westream-redis-'));
  const port = o.port ?? (await freePort());
  const host = o.bind ?? '127.0.0.1';
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    '--protected-mode',
    'no',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--appendonly',
    o.aof ? 'yes' : 'no',
    '--appendfsync',
    'always',
  ];
  const server = start('redis-server', args);
  keep(server);
  await waitForLine(server, 'stdout', /Ready to accept connections/, 15_000);
  return {
    url: `redis://${host}:${port}`,
    port,
    dir,
    server,
    async stop() {
      server.child.kill('SIGTERM');
      await server.exited;
    },
  };
}

/**
 * The jobs a queue reported `completed`, read from its BullMQ event stream (kept in Redis, trimmed at ~10k):
 * what really went through that queue, whatever the processes say in their logs.
 */
export async function completedJobIds(url: string, streamKey: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const entries = await c.xrange(streamKey, '-', '+');
    const ids: string[] = [];
    for (const [, fields] of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
      if (f.get('event') === 'completed' && f.has('jobId')) ids.push(f.get('jobId') as string);
    }
    return ids;
  } finally {
    c.disconnect();
  }
}

/**
 * A private Redis for the enclosing describe block (started before its tests, stopped after), and the worker
 * daemons its tests start reaped after each test. Returns a getter: the server exists only once beforeAll ran.
 */
export function redisForSuite(): () => PrivateRedis {
  let redis: PrivateRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(reapStarted);
  return () => {
    if (!redis) throw new Error('redisForSuite: the server is not started (use it inside a test)');
    return redis;
  };
}

/** `westream worker` daemons on `redis`, one slot each, each with its own state directory; resolves once all are ready. */
export async function startWorkerDaemons(redis: PrivateRedis, ids: readonly string[]): Promise<Started[]> {
  const ws = ids.map((id) =>
    start(process.execPath, [WESTREAM, 'worker', '--redis', redis.url, '--node-id', id, '--slots', '1', '--state-dir', join(redis.dir, `state-${id}`)], {
      env: childEnv(),
    }),
  );
  for (const w of ws) await waitForLine(w, 'stdout', /ready: 1 slot/);
  return ws;
}
