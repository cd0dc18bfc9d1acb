/**
 * Counter-based random bits: a pure function of (key, index), so every thread, in any order and
 * however the work is split, draws the same bits for the same element; nothing is carried from one
 * call to the next. Dropout keys its masks by (seed, training step, layer) and indexes them by the
 * element's position in the batch: a resumed run draws the masks an uninterrupted one would.
 *
 * mix32 is the "lowbias32" integer hash (Chris Wellons' hash prospector): xor-shift / multiply
 * rounds with 32-bit integer arithmetic only, so TypeScript (Math.imul) and WebAssembly (i32.mul)
 * agree bit for bit. src/core/kernels/noise.as.ts is its WebAssembly twin.
 */

export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The key of one layer in one training step. */
export function noiseKey(seed: number, step: number, layer: number): number {
  return mix32((mix32((mix32(seed >>> 0) + (step >>> 0)) >>> 0) + layer) >>> 0);
}

/** 32 random bits for element `index` under `key`. */
export function noiseBits(key: number, index: number): number {
  return mix32((key ^ mix32(index >>> 0)) >>> 0);
}

/**
 * Dropout keeps element i iff (noiseBits(key, i) >>> 8) >= dropThreshold(rate): 24 bits compared as
 * integers, so the decision is exact and the same everywhere; P(drop) = round(rate * 2^24) / 2^24.
 */
export function dropThreshold(rate: number): number {
  return Math.round(rate * 16777216);
}
