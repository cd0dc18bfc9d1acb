/**
 * Gradient descent, the rule everything else refines:
 *
 *   w <- w - lr * g          (g = dL/dw, averaged over the batch)
 *
 * Full-batch gradient descent, mini-batch SGD and batch-size-1 SGD are this same rule; only the
 * batch that produced g differs, and the training config chooses it. No state.
 *
 * Float order, per element: w = fround(w - lr * g).
 */
import { Optimizer, type Alloc, type FloatBuffer } from './optimizer.ts';
import type { OptimizerSpec } from './spec.ts';

export type SgdSpec = Extract<OptimizerSpec, { type: 'sgd' }>;

export class Sgd extends Optimizer {
  readonly type = 'sgd';

  constructor(n: number, _spec: SgdSpec = { type: 'sgd' }, _alloc?: Alloc) {
    super(n);
  }

  update(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void {
    this.checkUpdate(params, grads, lr, from, to);
    this.stepConstants(lr, this.constants);
    const rate = this.constants[0]!;
    for (let i = from; i < to; i++) params[i] = params[i]! - rate * grads[i]!;
  }

  /** lr */
  stepConstants(lr: number, out: Float64Array): void {
    out[0] = lr;
  }

  stateBuffers(): Record<string, FloatBuffer> {
    return {};
  }
}
