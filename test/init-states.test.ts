/**
 * Issue 14 items 12 and 13: basis and target states at `westream init`, as WESTPA's w_init reads them.
 * A probability '0x10' was read as 16 and stored unnormalised; probabilities summing to 0.6 passed without a
 * word; a basis state whose pcoord lies outside the bins ended in "internal error" and a stack trace.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonModuleMissing, skipWithoutPeer } from './support/peers.js';
import { python, REPO, westream } from './support/sim-dir.js';

const skip = skipWithoutPeer('h5py (PyPI)', pythonModuleMissing('h5py'));

/** The random-walk sim root; `bins` replaces its boundaries. */
function simRoot(bins?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'westream-states-'));
  cpSync(join(REPO, 'test/fixtures/randomwalk'), dir, { recursive: true });
  if (bins) {
    const yaml = readFileSync(join(dir, 'west.yaml'), 'utf8');
    writeFileSync(join(dir, 'west.yaml'), yaml.replace(/boundaries: \[\[.*\]\]/, `boundaries: [${bins}]`));
  }
  return dir;
}

const noStack = (stderr: string): void => {
  expect(stderr).not.toContain('internal error');
  expect(stderr).not.toMatch(/^\s+at /m);
};

describe.skipIf(skip)('basis and target states at init (issue 14 items 12, 13)', () => {
  it('item 12: a probability written 0x10 is an error naming file:line; nothing is created', () => {
    const dir = simRoot();
    writeFileSync(join(dir, 'bstates.txt'), '# label probability auxref\na 0.5 origin\nb 0x10 origin\n');
    const r = westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstate', 'far,2.0']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`bstates.txt:3: probability '0x10' is not a decimal number (write it like 0.25 or 2.5e-1)`);
    noStack(r.stderr);
    expect(existsSync(join(dir, 'west.h5'))).toBe(false);
    for (const [flag, bad, what] of [
      ['--bstate', 'a,0b1,origin', "probability '0b1'"],
      ['--bstate', 'a,Infinity,origin', "probability 'Infinity'"],
      ['--tstate', 'far,0x2', "pcoord value '0x2'"],
    ] as const) {
      const args = flag === '--bstate' ? ['init', flag, bad, '--tstate', 'far,2.0'] : ['init', '--bstate', 'a,1,origin', flag, bad];
      const e = westream(dir, args);
      expect(e.code, bad).toBe(2);
      expect(e.stderr, bad).toContain(`${flag} '${bad}': ${what} is not a decimal number`);
    }
  });

  it('item 12: probabilities that sum to 0.6 are rescaled as w_init does (ibstates records them so) and the sum is in a warning', () => {
    const dir = simRoot();
    writeFileSync(join(dir, 'bstates.txt'), 'a 0.2 origin\nb 0.4 origin\n');
    const r = westream(dir, ['init', '--bstates-from', 'bstates.txt', '--tstate', 'far,2.0', '--segs-per-state', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: basis state probabilities sum to 0\.6\d*, not 1; rescaled by 1\.66\d* as w_init does: 'a' 0\.2 → 0\.33\d*, 'b' 0\.4 → 0\.66\d*$/m,
    );
    const got = JSON.parse(
      python(
        `import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
print(json.dumps({'p': f['ibstates/0/bstate_index']['probability'].tolist(), 'w': float(f['iterations/iter_00000001/seg_index']['weight'].sum())}))`,
        [join(dir, 'west.h5')],
      ),
    ) as { p: number[]; w: number };
    // WESTPA's arithmetic (w_init: p *= 1 / sum), done by Python.
    const westpa = JSON.parse(python('import json; t = 0.2 + 0.4; s = 1 / t; print(json.dumps([0.2 * s, 0.4 * s]))')) as number[];
    expect(got.p).toEqual(westpa);
    expect(Math.abs(got.w - 1)).toBeLessThan(1e-12);
    // Probabilities that already sum to 1 are stored as given, with no warning.
    const exact = simRoot();
    writeFileSync(join(exact, 'bstates.txt'), 'a 0.25 origin\nb 0.75 origin\n');
    const q = westream(exact, ['init', '--bstates-from', 'bstates.txt', '--tstate', 'far,2.0']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).not.toContain('warning');
  });

  it('item 13: a basis state whose pcoord lies outside the bins is a clean error naming the state, its pcoord and the bins', () => {
    const dir = simRoot('[-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]');
    writeFileSync(join(dir, 'bstates/far'), '7.5\n');
    const r = westream(dir, ['init', '--bstate', 'origin,0.5,origin', '--bstate', 'far,0.5,far', '--tstate', 'goal,2.5']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      "basis state 1 'far' has pcoord [7.5], outside the bins: coordinate 0 = 7.5 is not in [-1, 3), the span of system_options.bins (RectilinearBinMapper, 7 bins)",
    );
    expect(r.stderr).toContain("extend the outer boundaries to '-inf' and 'inf'");
    noStack(r.stderr);
    expect(existsSync(join(dir, 'west.h5'))).toBe(false);
    // A target state outside the bins, likewise.
    const t = westream(dir, ['init', '--bstate', 'origin,1,origin', '--tstate', 'goal,9']);
    expect(t.code, t.stderr).toBe(2);
    expect(t.stderr).toContain("target state 0 'goal' has pcoord [9], outside the bins: coordinate 0 = 9 is not in [-1, 3)");
    noStack(t.stderr);
  });
});
