/**
 * The container files, checked against the real thing: no Docker engine runs on these machines, so the
 * compose file's commands go through westream's own argument parser, the Dockerfile's paths must exist and
 * name the CLI's real bin, and the config files they mount must hold the deployment settings; and Compose's
 * own `config` validates the file (no engine needed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipWithoutPeer } from './support/peers.js';
import { REPO, westream } from './support/sim-dir.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  working_dir?: string;
}
const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');

describe('docker-compose.yml and Dockerfile', () => {
  it("every westream service's command is accepted by the CLI's own parser (no unknown flag, no missing value)", () => {
    const ours = Object.entries(compose.services).filter(([, s]) => s.image === 'westream');
    expect(ours.map(([n]) => n).sort()).toEqual(['sim-manager', 'worker']);
    const empty = mkdtempSync(join(tmpdir(), 'westream-compose-'));
    for (const [name, s] of ours) {
      const args = s.command ?? [];
      // Run for real in an empty directory: it fails on what is missing there (no Redis, no west.h5), never on
      // how it was called. A usage mistake would name the flag.
      const r = westream(empty, args, { WESTREAM_API_TOKEN: 'x' });
      expect(r.stderr, `${name}: ${args.join(' ')}`).not.toMatch(/Unknown option|unexpected argument|argument missing|unknown command/i);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(/cannot reach Redis at redis:\/\/redis:6379|west\.h5 does not exist|west\.yaml/);
    }
  });

  it("the compose file's quick start, each `docker compose run --rm sim-manager ARGS` run as `westream ARGS`, makes and initializes the sim root", () => {
    const header = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#'));
    const runs = header.map((l) => /docker compose run --rm sim-manager ([^#]+)/.exec(l)?.[1]?.trim()).filter((a): a is string => a !== undefined);
    expect(runs.map((a) => a.split(' ')[0])).toEqual(['example', 'init']);
    const host = mkdtempSync(join(tmpdir(), 'westream-compose-'));
    const sim = join(host, 'sim'); // the container's /sim
    for (const a of runs) {
      const cwd = a.startsWith('example ') ? host : sim; // the example makes the sim root; the rest run in it
      const r = westream(cwd, a.replaceAll('/sim', sim).split(/\s+/), { WESTREAM_API_TOKEN: 'x' });
      expect(r.code, `${a}: ${r.stderr}`).toBe(0);
    }
    expect(existsSync(join(sim, 'west.h5'))).toBe(true);
  });

  it('the sim-manager publishes its API on the host loopback only, and needs the token from the environment', () => {
    const sm = compose.services['sim-manager'] as Service;
    const api = (sm.command ?? [])[(sm.command ?? []).indexOf('--api') + 1];
    expect(api).toBe('0.0.0.0:8080');
    expect(sm.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(sm.environment?.WESTREAM_API_TOKEN).toMatch(/^\$\{WESTREAM_API_TOKEN:\?/);
    expect(compose.services.redis?.ports).toBeUndefined();
  });

  it('every container sees the sim root at the same path (/sim), as WEST_SIM_ROOT in the jobs requires', () => {
    for (const name of ['sim-manager', 'worker']) {
      const s = compose.services[name] as Service;
      expect(s.working_dir, name).toBe('/sim');
      expect(s.volumes, name).toContain('${WESTREAM_SIM:-./sim}:/sim');
    }
    expect(dockerfile).toMatch(/^WORKDIR \/sim$/m);
  });

  it('Redis runs with config/redis.conf (AOF every second, noeviction), which exists', () => {
    const r = compose.services.redis as Service;
    const mount = (r.volumes ?? []).find((v) => v.includes('redis.conf')) as string;
    const [host, inContainer] = mount.split(':');
    expect(existsSync(join(REPO, host as string))).toBe(true);
    expect(r.command?.[1]).toBe(inContainer);
    const conf = readFileSync(join(REPO, host as string), 'utf8');
    expect(conf).toMatch(/^appendonly yes/m);
    expect(conf).toMatch(/^appendfsync everysec/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction/m);
  });

  it("the Dockerfile's entry point is the CLI's bin, on PATH, and every path it copies exists", () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \["westream"\]$/m);
    const bin = (JSON.parse(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(Object.keys(bin)).toContain('westream');
    expect(dockerfile).toMatch(/^ENV PATH=\/opt\/westream\/node_modules\/\.bin:\$PATH$/m);
    for (const m of dockerfile.matchAll(/^COPY (.+) \S+$/gm))
      for (const src of (m[1] as string).split(/\s+/)) expect(existsSync(join(REPO, src)), src).toBe(true);
    // The build runs the repository's own scripts.
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toBeDefined();
    expect(dockerfile).toContain('npm run build');
  });

  // The Compose file's own validator, without an engine: the docker compose plugin where it exists, else
  // Debian's docker-compose (1.29, which reads the Compose spec too; the test deps install it).
  const composeCli: [string, ...string[]] | null =
    spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0
      ? ['docker', 'compose']
      : spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0
        ? ['docker-compose']
        : null;
  const skipCompose = skipWithoutPeer(
    'docker compose / docker-compose (Debian)',
    composeCli ? undefined : 'neither the docker compose plugin nor docker-compose is installed (apt-get install docker-compose)',
  );
  it.skipIf(skipCompose)('docker compose config accepts the file', () => {
    const [cmd, ...pre] = composeCli as [string, ...string[]];
    const r = spawnSync(cmd, [...pre, '-f', join(REPO, 'docker-compose.yml'), 'config', '--quiet'], {
      encoding: 'utf8',
      env: { ...process.env, WESTREAM_API_TOKEN: 'x' },
    });
    expect(r.status, r.stderr).toBe(0);
  });
});
