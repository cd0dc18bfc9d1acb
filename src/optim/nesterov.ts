/**
 * Nesterov momentum: like classic momentum, but the gradient is taken at the look-ahead point,
 * where the momentum is about to carry the weights. The usual reformulation needs no second
 * forward pass:
 *
 *   v <- beta * v + g
 *   w <- w - lr * (g + beta * v)
 *
 * Why it is the look-ahead method. The look-ahead form keeps weights u and evaluates the gradient
 * at u - lr * beta * v:
 *   v_t = beta * v_{t-1} + grad(u_{t-1} - lr * beta * v_{t-1})
 *   u_t = u_{t-1} - lr * v_t
 * Store w_t = u_t - lr * beta * v_t (the look-ahead point) instead of u_t. Then the gradient is
 * simply g_t = grad(w_{t-1}), at the weights we hold, and
 *   w_t = u_{t-1} - lr * v_t - lr * beta * v_t
 *       = w_{t-1} + lr * beta * v_{t-1} - lr * v_t - lr * beta * v_t     (u_{t-1} = w_{t-1} + lr beta v_{t-1})
 *       = w_{t-1} - lr * g_t - lr * beta * v_t                          (v_t - beta v_{t-1} = g_t)
 *       = w_{t-1} - lr * (g_t + beta * v_t).
 * Both start from v_0 = 0, w_0 = u_0; the two weights differ by lr * beta * v, which vanishes at
 * a minimum.
 *
 * Float order, per element:
 *   v = fround(beta * v + g)
 *   w = fround(w - lr * (g + beta * v))
 * State: v (n values, the precision of the alloc's buffer).
 */
import { checkDecay, defaultAlloc, Optimizer, type Alloc, type FloatBuffer } from './optimizer.ts';
import type { OptimizerSpec } from './spec.ts';

export type NesterovSpec = Extract<OptimizerSpec, { type: 'nesterov' }>;

export class Nesterov extends Optimizer {
  readonly type = 'nesterov';
  readonly beta: number;
  private readonly v: FloatBuffer;
  /** The current step's beta: the schedule's (one-cycle's cycled momentum), or beta. */
  private stepBeta: number;

  constructor(n: number, spec: NesterovSpec, alloc: Alloc = defaultAlloc) {
    super(n);
    checkDecay('nesterov', 'beta', spec.beta);
    this.beta = spec.beta;
    this.stepBeta = spec.beta;
    this.v = this.allocate(alloc, 'v');
  }

  override beginStep(momentum: number | null = null): void {
    super.beginStep(momentum);
    this.stepBeta = momentum ?? this.beta;
  }

  protected override get hasMomentum(): boolean {
    return true;
  }

  update(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void {
    this.checkUpdate(params, grads, lr, from, to);
    const k = this.constants;
    this.stepConstants(lr, k);
    const beta = k[0]!;
    const rate = k[1]!;
    const { v } = this;
    for (let i = from; i < to; i++) {
      const g = grads[i]!;
      v[i] = beta * v[i]! + g;
      params[i] = params[i]! - rate * (g + beta * v[i]!);
    }
  }

  /** beta, lr */
  stepConstants(lr: number, out: Float64Array): void {
    out[0] = this.stepBeta;
    out[1] = lr;
  }

  stateBuffers(): Record<string, FloatBuffer> {
    return { v: this.v };
  }
}
