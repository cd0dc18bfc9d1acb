/**
 * Adam (Kingma & Ba, 2015, Algorithm 1): momentum on the gradient (m) and an RMSprop-style
 * running average of its square (v), both bias-corrected.
 *
 *   m <- beta1 * m + (1 - beta1) * g
 *   v <- beta2 * v + (1 - beta2) * g^2
 *   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
 *   w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)
 *
 * epsilon is added after the square root of the corrected v, as in the paper. With the
 * correction the first step is lr * g / (|g| + epsilon), about lr per weight whatever the
 * gradient's scale. Weight decay added to g (regularize.ts) is L2 regularisation, not AdamW.
 *
 * A schedule may set beta1 step by step (one-cycle's cycled momentum, beginStep's argument): that
 * step then uses its beta1_t in the m update and c1 = 1 - beta1_t^t, the correction PyTorch's Adam
 * computes from the current beta1.
 *
 * Float order, per element (one_minus_beta1/2 = 1 - beta1/2 once per step; c1 = 1 - beta1^t and
 * c2 = 1 - beta2^t per step, beta^t as running products, recomputed by t multiplications when the
 * step's beta1 differs from the last one; all in double):
 *   m = fround(beta1 * m + one_minus_beta1 * g)
 *   v = fround(beta2 * v + one_minus_beta2 * (g * g))
 *   w = fround(w - (lr * (m / c1)) / (sqrt(v / c2) + epsilon))
 * State: m, v (n each, the precision of the alloc's buffers).
 */
import { checkDecay, checkPositive, defaultAlloc, Optimizer, runningPower, type Alloc, type FloatBuffer } from './optimizer.ts';
import type { OptimizerSpec } from './spec.ts';

export type AdamSpec = Extract<OptimizerSpec, { type: 'adam' }>;

export class Adam extends Optimizer {
  readonly type = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly m: FloatBuffer;
  private readonly v: FloatBuffer;
  private readonly oneMinusBeta2: number;
  /** The current step's beta1 (the schedule's, or beta1) and 1 - it. */
  private stepBeta1: number;
  private oneMinusBeta1: number;
  /** stepBeta1^t and beta2^t, running products. */
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(n: number, spec: AdamSpec, alloc: Alloc = defaultAlloc) {
    super(n);
    checkDecay('adam', 'beta1', spec.beta1);
    checkDecay('adam', 'beta2', spec.beta2);
    checkPositive('adam', 'epsilon', spec.epsilon);
    this.beta1 = spec.beta1;
    this.beta2 = spec.beta2;
    this.epsilon = spec.epsilon;
    this.stepBeta1 = spec.beta1;
    this.oneMinusBeta1 = 1 - spec.beta1;
    this.oneMinusBeta2 = 1 - spec.beta2;
    this.m = this.allocate(alloc, 'm');
    this.v = this.allocate(alloc, 'v');
  }

  override beginStep(momentum: number | null = null): void {
    super.beginStep(momentum);
    const beta1 = momentum ?? this.beta1;
    if (beta1 === this.stepBeta1) {
      this.beta1Power *= beta1;
    } else {
      this.stepBeta1 = beta1;
      this.oneMinusBeta1 = 1 - beta1;
      this.beta1Power = runningPower(beta1, this.t);
    }
    this.beta2Power *= this.beta2;
  }

  protected override get hasMomentum(): boolean {
    return true;
  }

  update(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void {
    this.checkUpdate(params, grads, lr, from, to);
    const k = this.constants;
    this.stepConstants(lr, k);
    const beta1 = k[0]!;
    const oneMinusBeta1 = k[1]!;
    const beta2 = k[2]!;
    const oneMinusBeta2 = k[3]!;
    const c1 = k[4]!;
    const c2 = k[5]!;
    const epsilon = k[6]!;
    const rate = k[7]!;
    const { m, v } = this;
    for (let i = from; i < to; i++) {
      const g = grads[i]!;
      m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
      v[i] = beta2 * v[i]! + oneMinusBeta2 * (g * g);
      const mi = m[i]!;
      const vi = v[i]!;
      params[i] = params[i]! - (rate * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
    }
  }

  /** beta1, 1 - beta1, beta2, 1 - beta2, c1 = 1 - beta1^t, c2 = 1 - beta2^t, epsilon, lr */
  stepConstants(lr: number, out: Float64Array): void {
    out[0] = this.stepBeta1;
    out[1] = this.oneMinusBeta1;
    out[2] = this.beta2;
    out[3] = this.oneMinusBeta2;
    out[4] = 1 - this.beta1Power;
    out[5] = 1 - this.beta2Power;
    out[6] = this.epsilon;
    out[7] = lr;
  }

  stateBuffers(): Record<string, FloatBuffer> {
    return { m: this.m, v: this.v };
  }

  protected override restoreStepScalars(): void {
    this.stepBeta1 = this.beta1;
    this.oneMinusBeta1 = 1 - this.beta1;
    this.beta1Power = runningPower(this.beta1, this.t);
    this.beta2Power = runningPower(this.beta2, this.t);
  }
}
