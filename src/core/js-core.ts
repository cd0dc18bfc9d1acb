/**
 * The portable path of the gradient core (kernel 'js'): the single-thread TypeScript reference of
 * src/nn (Network) and src/optim (optimizers, weight decay, clipping), behind the Core interface.
 * It runs on the calling thread, needs no WebAssembly, and is what the WebAssembly core is checked
 * against. Step order, as in the WebAssembly core: gradient, weight decay on the decaying slices,
 * clipping by global norm, optimizer.
 *
 * Its buffers are float32 (a Core); given `array: Float64Array` every buffer, the optimizer's state
 * included, is float64 instead, and the same code trains without float32 rounding: the arithmetic
 * the parity bench (src/bench/parity.ts) compares with PyTorch's in double.
 */
import { sigmoid } from '../nn/activations.ts';
import type { LossName } from '../nn/losses.ts';
import { LOSSES, type Loss } from '../nn/losses.ts';
import { Network } from '../nn/network.ts';
import type { NetworkPlan } from '../nn/plan.ts';
import { shapeSize } from '../nn/shape.ts';
import { createOptimizer } from '../optim/index.ts';
import type { FloatBuffer, Optimizer, OptimizerState } from '../optim/optimizer.ts';
import { addWeightDecay, clipByGlobalNorm } from '../optim/regularize.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { checkBatch, checkLearningRate, checkOut, checkRegularization, CoreError } from './checks.ts';
import type { Core, RegularizationOptions } from './types.ts';

export interface JsCoreOptions<F extends FloatBuffer> {
  maxBatch: number;
  loss: LossName;
  seed?: number;
  /** The type of every buffer (default Float32Array). */
  array?: new (n: number) => F;
}

/** JsCore<Float32Array> is a Core (core.ts returns it as one); JsCore<Float64Array> the float64 reference. */
export class JsCore<F extends FloatBuffer = Float32Array> implements Omit<Core, 'params' | 'grads' | 'stats' | 'input' | 'labels'> {
  readonly kernel = 'js';
  readonly workers = 1;
  readonly plan: NetworkPlan;
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly params: F;
  readonly stats: F;
  readonly input: F;
  readonly labels: F;
  lastGradientNorm = NaN;
  /** The TypeScript path is not profiled. */
  readonly profile = null;
  private readonly network: Network;
  private readonly loss: Loss;
  private optimizer: Optimizer | null = null;
  private weightDecay = 0;
  private clipNorm: number | undefined;
  private closed = false;
  private readonly array: new (n: number) => F;

  constructor(options: JsCoreOptions<F>, plan: NetworkPlan) {
    this.plan = plan;
    this.maxBatch = options.maxBatch;
    this.paramCount = plan.paramCount;
    this.array = options.array ?? (Float32Array as unknown as new (n: number) => F);
    this.params = new this.array(this.paramCount);
    // Network allocates its buffers with the constructor of params: F throughout.
    this.network = new Network(plan, options.maxBatch, this.params, { seed: options.seed ?? 0 });
    this.stats = this.network.stats as F;
    this.input = new this.array(options.maxBatch * shapeSize(plan.input));
    this.labels = new this.array(options.maxBatch);
    this.loss = LOSSES[options.loss];
  }

  get grads(): F {
    return this.network.grads as F;
  }

  setOptimizer(spec: OptimizerSpec, options: RegularizationOptions = {}): void {
    this.check();
    checkRegularization(options);
    this.optimizer = createOptimizer(spec, this.paramCount, (n) => new this.array(n));
    this.weightDecay = options.weightDecay ?? 0;
    this.clipNorm = options.clipNorm ?? undefined;
  }

  trainStep(B: number, lr: number, step = 0, momentum: number | null = null): number {
    this.check();
    checkBatch(B, this.maxBatch);
    checkLearningRate(lr);
    const optimizer = this.requireOptimizer();
    const value = this.network.lossAndGradient(this.input, this.labels, B, this.loss, step);
    const grads = this.grads;
    if (this.weightDecay !== 0) {
      for (const s of this.plan.params) if (s.decay) addWeightDecay(grads, this.params, this.weightDecay, s.offset, s.offset + s.length);
    }
    if (this.clipNorm !== undefined) this.lastGradientNorm = clipByGlobalNorm(grads, this.clipNorm);
    optimizer.step(this.params, grads, lr, momentum);
    return value;
  }

  gradient(B: number, step = 0): number {
    this.check();
    checkBatch(B, this.maxBatch);
    return this.network.lossAndGradient(this.input, this.labels, B, this.loss, step);
  }

  evaluate(B: number, probabilities?: Float32Array | Float64Array): number {
    this.check();
    checkBatch(B, this.maxBatch);
    if (probabilities) checkOut('evaluate', probabilities, B);
    const logits = this.network.forward(this.input, B, 'infer');
    if (probabilities) for (let s = 0; s < B; s++) probabilities[s] = sigmoid(logits[s]!);
    return this.loss.forwardBackward(logits, this.labels, B);
  }

  predict(B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    checkOut('predict', out, B);
    this.network.predict(this.input, B, out);
  }

  getOptimizerState(): OptimizerState {
    this.check();
    return this.requireOptimizer().getState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.check();
    this.requireOptimizer().setState(state);
  }

  resetProfile(): void {}

  async close(): Promise<void> {
    this.closed = true;
  }

  private requireOptimizer(): Optimizer {
    if (!this.optimizer) throw new Error('gradient core: call setOptimizer before training');
    return this.optimizer;
  }

  private check(): void {
    if (this.closed) throw new CoreError('gradient core: the core is closed');
  }
}
