/**
 * Vitest global set-up: puts the directory of the Python that `python3` on PATH runs first on PATH, when that
 * `python3` is a version manager's shim (pyenv's and asdf's are bash scripts that find and exec the real
 * interpreter: ~0.07 s of CPU per start here, and the tests start Python, w_run and w_init ~500 times). It is
 * what `pyenv exec` itself does: the same interpreter, its scripts (w_run, w_pdist …) beside it, found directly.
 * Set before the test files' processes start, so they and everything they spawn inherit it.
 */
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    try {
      return realpathSync(p);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export default function setup(): void {
  const found = onPath('python3');
  if (!found) return; // no Python: the peer checks say so, loudly
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const exe = r.status === 0 ? r.stdout.trim() : '';
  if (!exe || realpathSync(exe) === found) return; // python3 on PATH is the interpreter itself
  process.env.PATH = `${dirname(exe)}${delimiter}${process.env.PATH ?? ''}`;
}
