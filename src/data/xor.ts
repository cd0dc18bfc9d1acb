/**
 * A tiny synthetic problem for tests and benchmarks: XOR as four Gaussian clusters around
 * (+-1, +-1), label 1 when the signs differ. Not linearly separable: a hidden layer is needed.
 * x is (count, 2), y is (count).
 */
import type { Rng } from '../random/rng.ts';

export function xorClusters(count: number, rng: Rng, spread = 0.35): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(count * 2);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const a = rng.int(2);
    const b = rng.int(2);
    x[2 * i] = (a ? 1 : -1) + spread * rng.normal();
    x[2 * i + 1] = (b ? 1 : -1) + spread * rng.normal();
    y[i] = a ^ b;
  }
  return { x, y };
}
