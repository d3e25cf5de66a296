/**
 * Seeded pseudo-random numbers for the WE core.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, 2018), 32-bit state words so every step is plain
 * `Math.imul`/shift arithmetic (no BigInt on the hot path). Seeding: SplitMix64 over the run seed and a
 * path of labels (e.g. iteration, segment), so any stream can be re-created from (seed, path) alone —
 * a segment or an iteration redone after a crash draws exactly the numbers it drew the first time.
 */

const MASK64 = (1n << 64n) - 1n;

/** One SplitMix64 step on a 64-bit state; returns [newState, output]. */
function splitmix64(state: bigint): [bigint, bigint] {
  const s = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [s, z ^ (z >> 31n)];
}

/** Mixes a seed and a path of non-negative integer labels into one 64-bit key. */
export function deriveKey(seed: bigint, path: readonly (number | bigint)[]): bigint {
  let [state, out] = splitmix64(seed & MASK64);
  for (const label of path) {
    [state, out] = splitmix64((out ^ (BigInt(label) & MASK64)) + state);
  }
  return out;
}

/** A seeded xoshiro128** generator. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator for the stream named by `path` under `seed` (same inputs, same numbers). */
  static derive(seed: bigint, ...path: (number | bigint)[]): Rng {
    return new Rng(deriveKey(seed, path));
  }

  constructor(key: bigint) {
    const [state, a] = splitmix64(key & MASK64);
    const [, b] = splitmix64(state);
    this.s0 = Number(a & 0xffffffffn) | 0;
    this.s1 = Number(a >> 32n) | 0;
    this.s2 = Number(b & 0xffffffffn) | 0;
    this.s3 = Number(b >> 32n) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next 32 random bits as an unsigned integer. */
  uint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  float64(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in [0, high). */
  uniform(high: number): number {
    return this.float64() * high;
  }

  /** 64 random bits as a BigInt. */
  uint64(): bigint {
    const hi = BigInt(this.uint32());
    return (hi << 32n) | BigInt(this.uint32());
  }

  /** A standard normal deviate (Box–Muller; one draw per call, the pair's twin is cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float64();
    const v = this.float64();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  private spare: number | undefined;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
