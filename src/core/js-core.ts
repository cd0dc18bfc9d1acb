/**
 * The portable path of the gradient core (kernel 'js'): the single-thread TypeScript reference of
 * src/nn (Network) and src/optim (optimizers, weight decay, clipping), behind the Core interface.
 * It runs on the calling thread, needs no WebAssembly, and is what the WebAssembly core is checked
 * against. Step order, as in the WebAssembly core: gradient, weight decay on the weights, clipping
 * by global norm, optimizer.
 */
import { layerShapes, parameterCount, type Architecture } from '../nn/architecture.ts';
import { LOSSES, type Loss } from '../nn/losses.ts';
import { Network } from '../nn/network.ts';
import { createOptimizer } from '../optim/index.ts';
import type { Optimizer, OptimizerState } from '../optim/optimizer.ts';
import { addWeightDecay, clipByGlobalNorm } from '../optim/regularize.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { checkBatch, checkLearningRate, checkOut, checkRegularization, CoreError } from './checks.ts';
import type { Core, CoreOptions, RegularizationOptions } from './core.ts';

export class JsCore implements Core {
  readonly kernel = 'js';
  readonly workers = 1;
  readonly arch: Architecture;
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly params: Float32Array;
  readonly input: Float32Array;
  readonly labels: Float32Array;
  readonly population: readonly Float32Array[];
  lastGradientNorm = NaN;
  private readonly network: Network;
  /** Forward passes of population members: their weights are copied into its params. */
  private readonly scratchNetwork: Network | null;
  private readonly loss: Loss;
  private readonly weightRanges: [number, number][];
  private optimizer: Optimizer | null = null;
  private weightDecay = 0;
  private clipNorm: number | undefined;
  private closed = false;

  constructor(options: CoreOptions) {
    this.arch = options.arch;
    this.maxBatch = options.maxBatch;
    this.paramCount = parameterCount(options.arch);
    this.params = new Float32Array(this.paramCount);
    this.network = new Network(options.arch, options.maxBatch, this.params);
    this.input = new Float32Array(options.maxBatch * options.arch.inputSize);
    this.labels = new Float32Array(options.maxBatch);
    const size = options.population ?? 0;
    this.population = Array.from({ length: size }, () => new Float32Array(this.paramCount));
    this.scratchNetwork = size > 0 ? new Network(options.arch, options.maxBatch) : null;
    this.loss = LOSSES[options.loss];
    this.weightRanges = layerShapes(options.arch).map((s) => [s.wOffset, s.wOffset + s.nIn * s.nOut]);
  }

  get grads(): Float32Array {
    return this.network.grads as Float32Array;
  }

  setOptimizer(spec: OptimizerSpec, options: RegularizationOptions = {}): void {
    this.check();
    checkRegularization(options);
    this.optimizer = createOptimizer(spec, this.paramCount);
    this.weightDecay = options.weightDecay ?? 0;
    this.clipNorm = options.clipNorm ?? undefined;
  }

  trainStep(B: number, lr: number): number {
    this.check();
    checkBatch(B, this.maxBatch);
    checkLearningRate(lr);
    const optimizer = this.requireOptimizer();
    const value = this.network.lossAndGradient(this.input, this.labels, B, this.loss);
    const grads = this.grads;
    if (this.weightDecay !== 0) for (const [from, to] of this.weightRanges) addWeightDecay(grads, this.params, this.weightDecay, from, to);
    if (this.clipNorm !== undefined) this.lastGradientNorm = clipByGlobalNorm(grads, this.clipNorm);
    optimizer.step(this.params, grads, lr);
    return value;
  }

  gradient(B: number): number {
    this.check();
    checkBatch(B, this.maxBatch);
    return this.network.lossAndGradient(this.input, this.labels, B, this.loss);
  }

  evaluate(B: number): number {
    this.check();
    checkBatch(B, this.maxBatch);
    return this.network.loss(this.input, this.labels, B, this.loss);
  }

  predict(B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    checkOut('predict', out, B);
    this.network.predict(this.input, B, out);
  }

  evaluatePopulation(count: number, B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    if (!(Number.isInteger(count) && count >= 0 && count <= this.population.length)) {
      throw new RangeError(`evaluatePopulation: count must be an integer in [0, ${this.population.length}] (the population option), got ${count}`);
    }
    checkOut('evaluatePopulation', out, count);
    const net = this.scratchNetwork!;
    for (let i = 0; i < count; i++) {
      net.params.set(this.population[i]!);
      out[i] = net.loss(this.input, this.labels, B, this.loss);
    }
  }

  getOptimizerState(): OptimizerState {
    this.check();
    return this.requireOptimizer().getState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.check();
    this.requireOptimizer().setState(state);
  }

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
