/**
 * Gradient descent with momentum: the step follows a running average of the gradients, which
 * damps the zig-zag across a ravine and builds up speed along its floor. Two common forms:
 *
 *   ewa      v <- beta * v + (1 - beta) * g     (exponentially weighted average; Andrew Ng's course)
 *   classic  v <- beta * v + g                  (heavy ball; a sum, not an average)
 *            w <- w - lr * v
 *
 * v_classic = v_ewa / (1 - beta) for the same gradients, so classic with lr is ewa with
 * lr / (1 - beta): the forms differ only in how lr is read.
 *
 * Optional bias correction, v_hat = v / (1 - beta^t), w <- w - lr * v_hat. As v starts at 0, the
 * first averages are biased toward 0 (v_1 = (1 - beta) g_1 in the ewa form); dividing by the sum of
 * the weights, 1 - beta^t, removes the bias (v_hat_1 = g_1). The same division in the classic form
 * makes v_hat equal its steady value g / (1 - beta) from the first step, so the two forms still
 * differ only by lr * (1 - beta).
 *
 * A schedule may set beta step by step (one-cycle's cycled momentum, beginStep's argument): that
 * step uses its beta_t in the v update (and g_scale = 1 - beta_t for ewa), and beta_t^t in the bias
 * correction, as for Adam's beta1.
 *
 * Float order, per element (g_scale = 1 - beta for ewa, 1 for classic, where the product is exact;
 * lr_hat = lr / (1 - beta^t) with bias correction, else lr; both computed in double per call):
 *   v = fround(beta * v + g_scale * g)
 *   w = fround(w - lr_hat * v)
 * State: v (n values, the precision of the alloc's buffer).
 */
import { checkDecay, defaultAlloc, Optimizer, runningPower, type Alloc, type FloatBuffer } from './optimizer.ts';
import type { OptimizerSpec } from './spec.ts';

export type MomentumSpec = Extract<OptimizerSpec, { type: 'momentum' }>;

export class Momentum extends Optimizer {
  readonly type = 'momentum';
  readonly beta: number;
  readonly form: 'ewa' | 'classic';
  readonly biasCorrection: boolean;
  private readonly v: FloatBuffer;
  /** The current step's beta (the schedule's, or beta) and the factor of g it gives. */
  private stepBeta: number;
  private gScale: number;
  /** stepBeta^t, a running product. */
  private betaPower = 1;

  constructor(n: number, spec: MomentumSpec, alloc: Alloc = defaultAlloc) {
    super(n);
    checkDecay('momentum', 'beta', spec.beta);
    if (spec.form !== 'ewa' && spec.form !== 'classic') throw new RangeError(`momentum: form must be "ewa" or "classic", got ${String(spec.form)}`);
    this.beta = spec.beta;
    this.form = spec.form;
    this.biasCorrection = spec.biasCorrection;
    this.stepBeta = spec.beta;
    this.gScale = spec.form === 'ewa' ? 1 - spec.beta : 1;
    this.v = this.allocate(alloc, 'v');
  }

  override beginStep(momentum: number | null = null): void {
    super.beginStep(momentum);
    const beta = momentum ?? this.beta;
    if (beta === this.stepBeta) {
      this.betaPower *= beta;
    } else {
      this.stepBeta = beta;
      this.gScale = this.form === 'ewa' ? 1 - beta : 1;
      this.betaPower = runningPower(beta, this.t);
    }
  }

  protected override get hasMomentum(): boolean {
    return true;
  }

  update(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void {
    this.checkUpdate(params, grads, lr, from, to);
    const k = this.constants;
    this.stepConstants(lr, k);
    const beta = k[0]!;
    const gScale = k[1]!;
    const lrHat = k[2]!;
    const { v } = this;
    for (let i = from; i < to; i++) {
      v[i] = beta * v[i]! + gScale * grads[i]!;
      params[i] = params[i]! - lrHat * v[i]!;
    }
  }

  /** beta, gScale, lrHat = lr / (1 - beta^t) with bias correction, else lr */
  stepConstants(lr: number, out: Float64Array): void {
    out[0] = this.stepBeta;
    out[1] = this.gScale;
    out[2] = this.biasCorrection ? lr / (1 - this.betaPower) : lr;
  }

  stateBuffers(): Record<string, FloatBuffer> {
    return { v: this.v };
  }

  protected override restoreStepScalars(): void {
    this.stepBeta = this.beta;
    this.gScale = this.form === 'ewa' ? 1 - this.beta : 1;
    this.betaPower = runningPower(this.beta, this.t);
  }
}
