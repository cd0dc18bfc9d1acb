/**
 * A network over whole mini-batches: the single-thread TypeScript reference, one walk over the
 * layer list in each direction. The WebAssembly core (src/core) computes the same thing on every
 * thread and is checked against this; tests use it in Float64 to check backpropagation against
 * finite differences.
 *
 * Buffers are allocated once, for at most `maxBatch` samples; forward and backward allocate
 * nothing. The array type of `params` (Float32Array for training, Float64Array for gradient
 * checks) is used for every buffer.
 *
 * Shapes (B = batch size, row-major, each sample HWC):
 *   a_0 = X (B, input)   a_{l+1} = layer_l(a_l) (B, output_l)   logits = a_L (B, 1)
 *   da_l = dL/da_l; backward walks l = L-1 .. 0: layer_l.backward(da_{l+1}) -> parameter gradients, da_l
 *   params, grads (paramCount), stats (statCount): flat, cut by the plan (plan.ts)
 */
import { sigmoid, type Floats } from './activations.ts';
import type { LayerPass, Mode } from './layers/layer.ts';
import type { Loss } from './losses.ts';
import { noiseKey } from '../random/noise.ts';
import type { NetworkPlan } from './plan.ts';
import { shapeSize } from './shape.ts';
import { initStats } from './init.ts';

type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface NetworkOptions {
  /** Running statistics (statCount values); default: fresh ones (means 0, variances 1). */
  stats?: Floats;
  /** Seed of dropout's masks (with the step number of each training call). */
  seed?: number;
}

export class Network {
  readonly plan: NetworkPlan;
  readonly maxBatch: number;
  readonly params: Floats;
  readonly grads: Floats;
  readonly stats: Floats;
  readonly seed: number;
  /** One pass object per layer: views of its buffers. */
  private readonly passes: LayerPass[];
  /** Gradient of the loss with respect to the logits (B). */
  private readonly dLogits: Floats;

  constructor(plan: NetworkPlan, maxBatch: number, params?: Floats, options: NetworkOptions = {}) {
    if (params && params.length !== plan.paramCount) {
      throw new RangeError(`Network: params has ${params.length} values, the network needs ${plan.paramCount}`);
    }
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new RangeError(`Network: maxBatch must be a whole number >= 1, got ${maxBatch}`);
    this.plan = plan;
    this.maxBatch = maxBatch;
    this.seed = options.seed ?? 0;
    const Ctor = (params ? params.constructor : Float32Array) as FloatArrayConstructor;
    this.params = params ?? new Ctor(plan.paramCount);
    this.grads = new Ctor(plan.paramCount);
    if (options.stats && options.stats.length !== plan.statCount) {
      throw new RangeError(`Network: stats has ${options.stats.length} values, the network needs ${plan.statCount}`);
    }
    this.stats = options.stats ?? new Ctor(plan.statCount);
    if (!options.stats) initStats(plan, this.stats);

    const L = plan.layers.length;
    // a[l] and da[l] for l = 1..L (a[0] is the caller's input; da[0] is never needed).
    const a: Floats[] = [new Ctor(0)];
    const da: (Floats | null)[] = [null];
    for (let l = 0; l < L; l++) {
      const n = maxBatch * shapeSize(plan.layers[l]!.output);
      a.push(new Ctor(n));
      da.push(new Ctor(n));
    }
    this.dLogits = da[L]!;
    const views = (slices: { name: string; offset: number; length: number }[], buffer: Floats) =>
      Object.fromEntries(slices.map((s) => [s.name, buffer.subarray(s.offset, s.offset + s.length)]));
    this.passes = plan.layers.map((layer, l) => ({
      B: 0,
      mode: 'infer',
      noiseKey: 0,
      x: a[l]!,
      y: a[l + 1]!,
      dy: da[l + 1]!,
      dx: l === 0 ? null : da[l]!, // nothing needs dL/dX of the input batch
      params: views(layer.params, this.params),
      grads: views(layer.params, this.grads),
      stats: views(layer.stats, this.stats),
      saved: Object.fromEntries(layer.saved.map((s) => [s.name, new Ctor(s.perSample * maxBatch + s.fixed)])),
    }));
  }

  /**
   * Runs X (B, input) through the network; returns the logits buffer (valid for [0, B)). In 'train'
   * mode batch norm uses (and records) batch statistics and dropout draws the masks of `step`.
   */
  forward(X: Floats, B: number, mode: Mode = 'infer', step = 0): Floats {
    this.checkBatch(X, B);
    const { plan } = this;
    this.passes[0]!.x = X;
    for (let l = 0; l < plan.layers.length; l++) {
      const layer = plan.layers[l]!;
      const pass = this.passes[l]!;
      pass.B = B;
      pass.mode = mode;
      pass.noiseKey = noiseKey(this.seed, step, l);
      layer.kind.forward(layer.spec, layer.input, layer.output, pass);
    }
    return this.passes[plan.layers.length - 1]!.y;
  }

  /** Backpropagation after forward(X, B, 'train'): from dL/dlogits (B) fills `grads`. */
  backward(B: number, dLogits: Floats): void {
    const { plan } = this;
    if (dLogits !== this.dLogits) this.dLogits.set(dLogits.subarray(0, B));
    for (let l = plan.layers.length - 1; l >= 0; l--) {
      const layer = plan.layers[l]!;
      layer.kind.backward(layer.spec, layer.input, layer.output, this.passes[l]!);
    }
  }

  /** Forward (training mode), loss and backward for one batch: fills `grads`, returns the mean loss. */
  lossAndGradient(X: Floats, y: Floats, B: number, loss: Loss, step = 0): number {
    const logits = this.forward(X, B, 'train', step);
    const value = loss.forwardBackward(logits, y, B, this.dLogits);
    this.backward(B, this.dLogits);
    return value;
  }

  /** Mean loss of a batch, without gradients (inference mode unless told otherwise). */
  loss(X: Floats, y: Floats, B: number, loss: Loss, mode: Mode = 'infer', step = 0): number {
    return loss.forwardBackward(this.forward(X, B, mode, step), y, B);
  }

  /** P(dog) for each sample of X, written to probabilities[0..B). */
  predict(X: Floats, B: number, probabilities: Floats): void {
    const logits = this.forward(X, B, 'infer');
    for (let s = 0; s < B; s++) probabilities[s] = sigmoid(logits[s]!);
  }

  private checkBatch(X: Floats, B: number): void {
    if (!(Number.isInteger(B) && B >= 1 && B <= this.maxBatch)) {
      throw new RangeError(`Network: batch size ${B} outside [1, ${this.maxBatch}]`);
    }
    const inputSize = shapeSize(this.plan.input);
    if (X.length < B * inputSize) {
      throw new RangeError(`Network: input holds ${X.length} values, a batch of ${B} needs ${B * inputSize}`);
    }
  }
}
