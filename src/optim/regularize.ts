/**
 * What is done to the gradient before the optimizer sees it: L2 weight decay and clipping by
 * global norm. Every function works on a range [from, to) so that the gradient core can run it
 * per thread; clipping across threads is: partial squaredNorm per range, added in a fixed order
 * (range order) in double, norm = sqrt(sum), then scaleInPlace(grads, clipScale(norm, maxNorm), ...)
 * on every range.
 */
import type { FloatBuffer } from './optimizer.ts';

/**
 * L2 weight decay: the loss gains (lambda / 2) * sum(w^2), so g <- g + lambda * w.
 * Per element: g = fround(g + lambda * w). Applies to every index in [from, to); to spare the
 * biases, call it on the weight ranges only (architecture.ts gives the offsets).
 * With Adam this is L2 regularisation (the decay passes through Adam's scaling), not the
 * decoupled weight decay of AdamW.
 */
export function addWeightDecay(grads: FloatBuffer, params: FloatBuffer, lambda: number, from = 0, to = grads.length): void {
  for (let i = from; i < to; i++) grads[i] = grads[i]! + lambda * params[i]!;
}

/** sum of g^2 over [from, to), accumulated in double in index order. */
export function squaredNorm(grads: FloatBuffer, from = 0, to = grads.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += grads[i]! * grads[i]!;
  return sum;
}

/** g = fround(g * factor) over [from, to). */
export function scaleInPlace(grads: FloatBuffer, factor: number, from = 0, to = grads.length): void {
  for (let i = from; i < to; i++) grads[i] = grads[i]! * factor;
}

/**
 * The factor that brings a gradient of global norm `norm` down to `maxNorm`: maxNorm / norm
 * (in double) when norm > maxNorm, else 1. A non-finite norm gives 1: the gradient is left as it
 * is, and the caller sees the norm and can report the divergence.
 */
export function clipScale(norm: number, maxNorm: number): number {
  return Number.isFinite(norm) && norm > maxNorm ? maxNorm / norm : 1;
}

/**
 * Clipping by global norm (one thread): if ||g|| > maxNorm, g <- g * maxNorm / ||g||, which keeps
 * the direction and bounds the step. Returns ||g|| before clipping (worth logging).
 */
export function clipByGlobalNorm(grads: FloatBuffer, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = Math.sqrt(squaredNorm(grads, 0, grads.length));
  const factor = clipScale(norm, maxNorm);
  if (factor !== 1) scaleInPlace(grads, factor, 0, grads.length);
  return norm;
}
