/**
 * A fully connected network over whole mini-batches: the single-thread TypeScript reference.
 *
 * Buffers are allocated once, for at most `maxBatch` samples; forward and backward allocate
 * nothing. The array type of `params` (Float32Array for training, Float64Array for gradient
 * checks) is used for every buffer.
 *
 * Shapes (B = batch size, row-major):
 *   X      (B, inputSize)         the input batch
 *   Z_l    (B, nOut_l)            weighted sums of layer l;  A_l = f(Z_l)  (B, nOut_l)
 *   logits (B)                    Z of the output layer; p = sigmoid(logits) is P(dog)
 *   params, grads                 flat, laid out as in architecture.ts
 */
import { ACTIVATIONS, sigmoid, type Floats } from './activations.ts';
import { layerShapes, parameterCount, type Architecture, type LayerShape } from './architecture.ts';
import { denseBackward, denseForward } from './dense.ts';
import type { Loss } from './losses.ts';

type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

interface LayerBuffers {
  shape: LayerShape;
  W: Floats; // views into params
  b: Floats;
  dW: Floats; // views into grads
  db: Floats;
  Z: Floats; // (maxBatch, nOut)
  A: Floats; // (maxBatch, nOut); for the output layer unused (the loss reads the logits)
  dA: Floats; // (maxBatch, nOut) gradient of the loss with respect to A
  dZ: Floats; // (maxBatch, nOut)
}

export class Network {
  readonly arch: Architecture;
  readonly maxBatch: number;
  readonly params: Floats;
  readonly grads: Floats;
  private readonly layers: LayerBuffers[];

  constructor(arch: Architecture, maxBatch: number, params?: Floats) {
    const count = parameterCount(arch);
    if (params && params.length !== count) {
      throw new RangeError(`Network: params has ${params.length} values, the architecture needs ${count}`);
    }
    this.arch = arch;
    this.maxBatch = maxBatch;
    const Ctor = (params ? params.constructor : Float32Array) as FloatArrayConstructor;
    this.params = params ?? new Float32Array(count);
    this.grads = new Ctor(count);
    this.layers = layerShapes(arch).map((shape) => {
      const { nIn, nOut, wOffset, bOffset } = shape;
      return {
        shape,
        W: this.params.subarray(wOffset, wOffset + nIn * nOut),
        b: this.params.subarray(bOffset, bOffset + nOut),
        dW: this.grads.subarray(wOffset, wOffset + nIn * nOut),
        db: this.grads.subarray(bOffset, bOffset + nOut),
        Z: new Ctor(maxBatch * nOut),
        A: new Ctor(maxBatch * nOut),
        dA: new Ctor(maxBatch * nOut),
        dZ: new Ctor(maxBatch * nOut),
      };
    });
  }

  /** Runs X (B, inputSize) through the network; returns the logits buffer (valid for [0, B)). */
  forward(X: Floats, B: number): Floats {
    this.checkBatch(X, B);
    let input: Floats = X;
    for (const layer of this.layers) {
      const { nIn, nOut } = layer.shape;
      denseForward(input, layer.W, layer.b, layer.Z, B, nIn, nOut);
      if (!layer.shape.isOutput) ACTIVATIONS[layer.shape.activation].forward(layer.Z, layer.A, B * nOut);
      input = layer.A;
    }
    return this.layers[this.layers.length - 1]!.Z;
  }

  /**
   * Backpropagation after `forward(X, B)`: from dL/dlogits (B) fills `grads` for every layer.
   *   dZ_out = dlogits
   *   dW_l = dZ_l^T A_{l-1},  db_l = sum_batch dZ_l,  dA_{l-1} = dZ_l W_l,  dZ_{l-1} = dA_{l-1} * f'(Z_{l-1})
   */
  backward(X: Floats, B: number, dLogits: Floats): void {
    const out = this.layers[this.layers.length - 1]!;
    out.dZ.set(dLogits.subarray(0, B));
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const prev = l > 0 ? this.layers[l - 1]! : null;
      const { nIn, nOut } = layer.shape;
      denseBackward(prev ? prev.A : X, layer.W, layer.dZ, layer.dW, layer.db, prev ? prev.dA : null, B, nIn, nOut);
      if (prev) ACTIVATIONS[prev.shape.activation].backward(prev.Z, prev.A, prev.dA, prev.dZ, B * nIn);
    }
  }

  /** Forward, loss and backward for one batch: fills `grads` and returns the mean loss. */
  lossAndGradient(X: Floats, y: Floats, B: number, loss: Loss): number {
    const logits = this.forward(X, B);
    const dLogits = this.layers[this.layers.length - 1]!.dA; // free scratch of length >= B
    const value = loss.forwardBackward(logits, y, B, dLogits);
    this.backward(X, B, dLogits);
    return value;
  }

  /** Mean loss of a batch, without gradients. */
  loss(X: Floats, y: Floats, B: number, loss: Loss): number {
    return loss.forwardBackward(this.forward(X, B), y, B);
  }

  /** P(dog) for each sample of X, written to probabilities[0..B). */
  predict(X: Floats, B: number, probabilities: Floats): void {
    const logits = this.forward(X, B);
    for (let s = 0; s < B; s++) probabilities[s] = sigmoid(logits[s]!);
  }

  private checkBatch(X: Floats, B: number): void {
    if (!(Number.isInteger(B) && B >= 1 && B <= this.maxBatch)) {
      throw new RangeError(`Network: batch size ${B} outside [1, ${this.maxBatch}]`);
    }
    if (X.length < B * this.arch.inputSize) {
      throw new RangeError(`Network: input holds ${X.length} values, a batch of ${B} needs ${B * this.arch.inputSize}`);
    }
  }
}
