/**
 * The finite-difference gradient: how backpropagation is proven.
 *
 * Central difference, error O(eps^2):
 *   dL/dw_i ~ (L(w + eps e_i) - L(w - eps e_i)) / (2 eps)
 */
import type { Floats } from './activations.ts';

/**
 * Estimates dL/dparams[i] for each i in `indices` (default: all), writing them to out[i].
 * `loss` must read the current contents of `params`; each parameter is restored exactly after use.
 */
export function finiteDifferenceGradient(
  loss: () => number,
  params: Floats,
  out: Floats,
  eps = 1e-5,
  indices?: Iterable<number>,
): void {
  const all = indices ?? Array.from({ length: params.length }, (_, i) => i);
  for (const i of all) {
    const saved = params[i]!;
    params[i] = saved + eps;
    const plus = loss();
    params[i] = saved - eps;
    const minus = loss();
    params[i] = saved;
    out[i] = (plus - minus) / (2 * eps);
  }
}

/**
 * Relative error of two gradients, max over i of |a_i - b_i| / max(|a_i| + |b_i|, floor):
 * scale-free, and the floor keeps near-zero entries from dividing by ~0.
 * A NaN or infinite entry on either side gives Infinity: such a gradient is never "close".
 */
export function maxRelativeError(a: Floats, b: Floats, indices?: Iterable<number>, floor = 1e-8): number {
  let worst = 0;
  const all = indices ?? Array.from({ length: a.length }, (_, i) => i);
  for (const i of all) {
    const ai = a[i]!;
    const bi = b[i]!;
    if (!Number.isFinite(ai) || !Number.isFinite(bi)) return Infinity;
    const err = Math.abs(ai - bi) / Math.max(Math.abs(ai) + Math.abs(bi), floor);
    if (err > worst) worst = err;
  }
  return worst;
}
