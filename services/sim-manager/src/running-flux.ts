/**
 * The running estimate of the flux into the targets that a WE user watches converge: the mean recycled weight
 * per iteration over the second half of the iterations so far (the first half is the approach to the steady
 * state, the usual rule of thumb), with its standard error from block averages — consecutive iterations are
 * correlated, so the naive error would be too small. Blocks: about √m of them, at least 4.
 */
export interface FluxEstimate {
  readonly mean: number;
  readonly se: number;
  /** Iterations averaged. */
  readonly n: number;
}

/** null while there are too few iterations for an error bar (fewer than 8); the mean stays 0 until a flux. */
export function runningFlux(perIteration: readonly number[]): FluxEstimate | null | 0 {
  const half = perIteration.slice(Math.floor(perIteration.length / 2));
  const m = half.length;
  if (perIteration.length < 8) return null;
  const blocks = Math.max(4, Math.floor(Math.sqrt(m)));
  const size = Math.floor(m / blocks);
  const used = half.slice(m - blocks * size); // the newest iterations, whole blocks
  const means: number[] = [];
  for (let b = 0; b < blocks; b++) means.push(used.slice(b * size, (b + 1) * size).reduce((a, x) => a + x, 0) / size);
  const mean = means.reduce((a, x) => a + x, 0) / blocks;
  if (mean === 0) return 0;
  const v = means.reduce((a, x) => a + (x - mean) ** 2, 0) / (blocks - 1);
  return { mean, se: Math.sqrt(v / blocks), n: used.length };
}
