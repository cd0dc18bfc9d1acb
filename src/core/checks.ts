/** Argument checks shared by both cores, and the error a broken core throws. */
import type { RegularizationOptions } from './types.ts';

/** A failure of the core itself (a worker that threw, died or stalled): the core is unusable. */
export class CoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoreError';
  }
}

export function checkBatch(B: number, maxBatch: number): void {
  if (!(Number.isInteger(B) && B >= 1 && B <= maxBatch)) {
    throw new RangeError(`gradient core: batch size ${B} outside [1, ${maxBatch}] (maxBatch)`);
  }
}

export function checkLearningRate(lr: number): void {
  if (!(lr >= 0 && lr < Infinity)) throw new RangeError(`gradient core: learning rate must be finite and >= 0, got ${lr}`);
}

export function checkOut(what: string, out: Float32Array | Float64Array, n: number): void {
  if (out.length < n) throw new RangeError(`${what}: the output array holds ${out.length} values, ${n} needed`);
}

export function checkRegularization(o: RegularizationOptions): void {
  const decay = o.weightDecay ?? 0;
  if (!(decay >= 0 && decay < Infinity)) throw new RangeError(`setOptimizer: weightDecay must be finite and >= 0, got ${decay}`);
  if (o.clipNorm != null && !(o.clipNorm > 0 && o.clipNorm < Infinity)) {
    throw new RangeError(`setOptimizer: clipNorm must be finite and > 0, got ${o.clipNorm}`);
  }
}
