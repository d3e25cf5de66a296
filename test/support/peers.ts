/**
 * Real peers (Python packages, engines, servers) the tests talk to. A missing peer skips its tests with a
 * loud reason on a developer's machine, and fails the run under CI=true, so CI proves every peer ran.
 */
import { spawnSync } from 'node:child_process';

const cache = new Map<string, string | undefined>();

/** Undefined when the Python module imports; otherwise why it does not. */
export function pythonModuleMissing(module: string): string | undefined {
  if (!cache.has(module)) {
    const r = spawnSync('python3', ['-c', `import ${module}`], { encoding: 'utf8' });
    cache.set(module, r.status === 0 ? undefined : `python3 cannot import ${module}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  }
  return cache.get(module);
}

/** True when tests needing the peer must be skipped; under CI=true a missing peer throws instead. */
export function skipWithoutPeer(peer: string, missing: string | undefined): boolean {
  if (missing === undefined) return false;
  const message = `PEER MISSING: ${peer} — ${missing}. Run: npm run test:deps`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI requires every peer)`);
  console.warn(`\n*** ${message}; skipping its tests ***\n`);
  return true;
}

/** Undefined when `command` is on the PATH; otherwise why the peer is missing. */
export function commandMissing(command: string, install: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${command} not found on PATH (${install})`;
}
