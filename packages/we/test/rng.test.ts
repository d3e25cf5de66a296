import { describe, expect, it } from 'vitest';
import { Rng, deriveKey } from '@westream/we';

describe('Rng (xoshiro128** seeded by SplitMix64)', () => {
  it('a stream is a function of (seed, path) alone', () => {
    const a = Rng.derive(42n, 3, 17);
    const b = Rng.derive(42n, 3, 17);
    const xs = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(xs);
    // neighbouring paths and seeds give unrelated streams
    expect(Rng.derive(42n, 3, 18).uint32()).not.toBe(xs[0]);
    expect(Rng.derive(43n, 3, 17).uint32()).not.toBe(xs[0]);
    expect(deriveKey(42n, [3, 17])).not.toBe(deriveKey(42n, [17, 3]));
  });

  it('float64 is uniform on [0, 1): moments and a chi-square over 20 cells', () => {
    const r = Rng.derive(7n);
    const n = 200_000;
    const cells = new Array<number>(20).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = r.float64();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      cells[Math.floor(x * 20)]! += 1;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    const expected = n / 20;
    const chi2 = cells.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(43.8); // χ²(19 dof) at p = 0.001
  });

  it('normal deviates have mean 0 and variance 1', () => {
    const r = Rng.derive(8n);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
});
