/** A polynomial potential along the progress coordinate: U(s) = Σ c_k s^k, and its derivative. */
export class Polynomial {
  private readonly c: Float64Array;
  private readonly dc: Float64Array;

  constructor(coefficients: readonly number[]) {
    this.c = Float64Array.from(coefficients);
    this.dc = new Float64Array(Math.max(coefficients.length - 1, 0));
    for (let k = 1; k < coefficients.length; k++) this.dc[k - 1] = k * (coefficients[k] as number);
  }

  /** U(s) by Horner's rule. */
  energy(s: number): number {
    return horner(this.c, s);
  }

  /** dU/ds. */
  derivative(s: number): number {
    return horner(this.dc, s);
  }
}

function horner(c: Float64Array, s: number): number {
  let acc = 0;
  for (let k = c.length - 1; k >= 0; k--) acc = acc * s + (c[k] as number);
  return acc;
}
