/**
 * A private Redis server for a test file: its own port, its own directory, no persistence unless asked.
 * Started from Debian's redis-server (a real server, not a mock); stopped by pid.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, keep, start, waitForLine, type Started } from './processes.js';

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
  const args = ['--port', String(port), '--bind', host, '--protected-mode', 'no', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction', '--appendonly', o.aof ? 'yes' : 'no', '--appendfsync', 'always'];
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
