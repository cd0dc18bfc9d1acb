/**
 * The per-step numbers of an optimizer, computed in double exactly as the TypeScript optimizers of
 * src/optim compute them (beta^t as a running product, lr / (1 - beta^t), ...), and written into
 * the step descriptor that the WebAssembly update pass reads (src/core/kernels/update.as.ts):
 *
 *   byte 4 kind   8 params   12 grads   16 state 1   20 state 2   24 decay on   28 scale on
 *   32 lambda (f64)   40 scale (f64)   48.. constants (f64), per kind:
 *     sgd       lr
 *     momentum  beta, gScale (1 - beta for 'ewa', 1 for 'classic'), lrHat (lr / (1 - beta^t) with bias correction)
 *     nesterov  beta, lr
 *     rmsprop   rho, 1 - rho, epsilon, lr
 *     adam      beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, 1 - beta2^t, epsilon, lr
 */
import { runningPower } from '../optim/optimizer.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { OPTIMIZER_KIND } from './kernels.ts';

export interface StepBuffers {
  params: number;
  grads: number;
  state1: number;
  state2: number;
}

export class StepScalars {
  private power1 = 1;
  private power2 = 1;
  private readonly words: Int32Array;
  private readonly numbers: Float64Array;

  constructor(
    readonly spec: OptimizerSpec,
    memory: WebAssembly.Memory,
    offset: number,
    buffers: StepBuffers,
    readonly weightDecay: number,
  ) {
    this.words = new Int32Array(memory.buffer, offset, 12);
    this.numbers = new Float64Array(memory.buffer, offset, 16);
    this.words[1] = OPTIMIZER_KIND[spec.type];
    this.words[2] = buffers.params;
    this.words[3] = buffers.grads;
    this.words[4] = buffers.state1;
    this.words[5] = buffers.state2;
    this.words[6] = weightDecay !== 0 ? 1 : 0;
    this.numbers[4] = weightDecay;
  }

  /** Starts a step: the running powers beta^t move on (as Optimizer.beginStep does). */
  beginStep(): void {
    const { spec } = this;
    if (spec.type === 'momentum') this.power1 *= spec.beta;
    else if (spec.type === 'adam') {
      this.power1 *= spec.beta1;
      this.power2 *= spec.beta2;
    }
  }

  /** After restoring a state with step count t. */
  restore(t: number): void {
    const { spec } = this;
    if (spec.type === 'momentum') this.power1 = runningPower(spec.beta, t);
    else if (spec.type === 'adam') {
      this.power1 = runningPower(spec.beta1, t);
      this.power2 = runningPower(spec.beta2, t);
    }
  }

  /** Writes the descriptor for this step: learning rate and clipping factor (1 = none). */
  write(lr: number, scale: number): void {
    const { spec, numbers } = this;
    this.words[7] = scale !== 1 ? 1 : 0;
    numbers[5] = scale;
    const k = (i: number, value: number): void => {
      numbers[6 + i] = value;
    };
    switch (spec.type) {
      case 'sgd':
        k(0, lr);
        break;
      case 'momentum':
        k(0, spec.beta);
        k(1, spec.form === 'ewa' ? 1 - spec.beta : 1);
        k(2, spec.biasCorrection ? lr / (1 - this.power1) : lr);
        break;
      case 'nesterov':
        k(0, spec.beta);
        k(1, lr);
        break;
      case 'rmsprop':
        k(0, spec.rho);
        k(1, 1 - spec.rho);
        k(2, spec.epsilon);
        k(3, lr);
        break;
      case 'adam':
        k(0, spec.beta1);
        k(1, 1 - spec.beta1);
        k(2, spec.beta2);
        k(3, 1 - spec.beta2);
        k(4, 1 - this.power1);
        k(5, 1 - this.power2);
        k(6, spec.epsilon);
        k(7, lr);
        break;
    }
  }
}
