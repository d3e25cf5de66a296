/**
 * numpy's `ndarray.sum()` for float64, bit for bit: pairwise summation in blocks of 128 with an 8-way
 * unrolled inner loop (numpy `loops_utils.h`, `pairwise_sum`). WESTPA computes a bin's ideal weight as
 * `weights.sum() / target`, and which walkers merge depends on that value's last bit (ten walkers of 0.1
 * sum to 1.0 in numpy but to 0.9999999999999999 left to right), so the core sums the same way.
 * Checked against numpy on random arrays in packages/we/test/westpa-cross-check.test.ts.
 */
export function numpySum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    }
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, start, n2) + numpySum(a, start + n2, n - n2);
}

/**
 * numpy's `ndarray.sum()` for float32, bit for bit: the same pairwise scheme with float32 accumulators
 * (numpy's FLOAT_pairwise_sum), every addition rounded to float32. WESTPA's MAB driver hands weights to
 * the bin mapper in a float32 array, so the bottleneck search sums them this way.
 */
export function numpySum32(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  const f = Math.fround;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + (a[start + i] as number));
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = f(a[start + j] as number);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = f((r[j] as number) + (a[start + i + j] as number));
    }
    let res = f(f(f(r[0]! + r[1]!) + f(r[2]! + r[3]!)) + f(f(r[4]! + r[5]!) + f(r[6]! + r[7]!)));
    for (; i < n; i++) res = f(res + (a[start + i] as number));
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f(numpySum32(a, start, n2) + numpySum32(a, start + n2, n - n2));
}
