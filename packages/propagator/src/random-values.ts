/**
 * WEST_RAND16/32/64/128/FLOAT for a child. They derive from (run seed, purpose, iteration, id) and nothing
 * else, so a segment re-run after a crash or a retry gets exactly the numbers of its first attempt and the
 * run as a whole is reproducible. (WESTPA draws them from an unseeded generator; and its WEST_RAND128 is the
 * sum of two 64-bit draws. Here WEST_RAND128 is a true 128-bit value.)
 */
import { Rng, type RandomStream } from '@westream/we';

export function randomEnv(seed: bigint, purpose: RandomStream, ...path: number[]): Record<string, string> {
  const rng = Rng.derive(seed, purpose, ...path);
  const r16 = rng.uint32() & 0xffff;
  const r32 = rng.uint32();
  const r64 = rng.uint64();
  const r128 = (rng.uint64() << 64n) | rng.uint64();
  return {
    WEST_RAND16: String(r16),
    WEST_RAND32: String(r32),
    WEST_RAND64: String(r64),
    WEST_RAND128: String(r128),
    WEST_RANDFLOAT: String(rng.float64()),
  };
}
