/** Means with honest error bars for correlated series (WE iterations) and for independent samples. */

export interface Estimate {
  readonly mean: number;
  /** Standard error of the mean. */
  readonly se: number;
  /** How many independent pieces the error bar rests on (blocks, seeds or samples). */
  readonly n: number;
}

/** Mean and standard error of independent samples. */
export function meanSe(xs: readonly number[]): Estimate {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : NaN;
  return { mean, se: Math.sqrt(v / n), n };
}

/**
 * Block averages: the series cut into `blocks` consecutive blocks whose means are nearly independent when each
 * block is much longer than the series' correlation time (a leftover tail is dropped).
 */
export function blockAverage(xs: readonly number[], blocks: number): Estimate {
  const size = Math.floor(xs.length / blocks);
  if (size < 1) throw new Error(`${xs.length} values cannot make ${blocks} blocks`);
  const means: number[] = [];
  for (let b = 0; b < blocks; b++) {
    let s = 0;
    for (let i = b * size; i < (b + 1) * size; i++) s += xs[i] as number;
    means.push(s / size);
  }
  return meanSe(means);
}

/** Rate from independent first-passage times: k = 1/⟨t⟩, its standard error by the delta method. */
export function rateFromPassages(times: readonly number[]): Estimate {
  const t = meanSe(times);
  return { mean: 1 / t.mean, se: t.se / (t.mean * t.mean), n: t.n };
}

/** `1.23e-2 ± 4.5e-4 (3.7 %)`. */
export function show(e: Estimate): string {
  return `${e.mean.toExponential(3)} ± ${e.se.toExponential(2)} (${((100 * e.se) / Math.abs(e.mean)).toFixed(1)} %)`;
}
