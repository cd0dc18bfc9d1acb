/**
 * RMSprop: each weight gets its own step size, lr divided by the root of a running average of its
 * squared gradients, so steep directions take small steps and flat ones large steps.
 *
 *   s <- rho * s + (1 - rho) * g^2
 *   w <- w - lr * g / (sqrt(s) + epsilon)
 *
 * No bias correction (s starts at 0, so the first steps are larger: g / sqrt((1 - rho) g^2)).
 *
 * Float order, per element (one_minus_rho = 1 - rho in double, once):
 *   s = fround(rho * s + one_minus_rho * (g * g))
 *   w = fround(w - (lr * g) / (sqrt(s) + epsilon))
 * State: s (n values, the precision of the alloc's buffer).
 */
import { checkDecay, checkPositive, defaultAlloc, Optimizer, type Alloc, type FloatBuffer } from './optimizer.ts';
import type { OptimizerSpec } from './spec.ts';

export type RmspropSpec = Extract<OptimizerSpec, { type: 'rmsprop' }>;

export class Rmsprop extends Optimizer {
  readonly type = 'rmsprop';
  readonly rho: number;
  readonly epsilon: number;
  private readonly s: FloatBuffer;
  private readonly oneMinusRho: number;

  constructor(n: number, spec: RmspropSpec, alloc: Alloc = defaultAlloc) {
    super(n);
    checkDecay('rmsprop', 'rho', spec.rho);
    checkPositive('rmsprop', 'epsilon', spec.epsilon);
    this.rho = spec.rho;
    this.epsilon = spec.epsilon;
    this.oneMinusRho = 1 - spec.rho;
    this.s = this.allocate(alloc, 's');
  }

  update(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void {
    this.checkUpdate(params, grads, lr, from, to);
    const k = this.constants;
    this.stepConstants(lr, k);
    const rho = k[0]!;
    const oneMinusRho = k[1]!;
    const epsilon = k[2]!;
    const rate = k[3]!;
    const { s } = this;
    for (let i = from; i < to; i++) {
      const g = grads[i]!;
      s[i] = rho * s[i]! + oneMinusRho * (g * g);
      params[i] = params[i]! - (rate * g) / (Math.sqrt(s[i]!) + epsilon);
    }
  }

  /** rho, 1 - rho, epsilon, lr */
  stepConstants(lr: number, out: Float64Array): void {
    out[0] = this.rho;
    out[1] = this.oneMinusRho;
    out[2] = this.epsilon;
    out[3] = lr;
  }

  stateBuffers(): Record<string, FloatBuffer> {
    return { s: this.s };
  }
}
