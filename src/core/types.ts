/**
 * What the gradient core is to its callers: the options of createCore and the Core interface that
 * both implementations (wasm-core.ts, js-core.ts) provide. core.ts explains how to use it.
 */
import type { NetworkSpec } from '../nn/layers/spec.ts';
import type { LossName } from '../nn/losses.ts';
import type { NetworkPlan } from '../nn/plan.ts';
import type { OptimizerState } from '../optim/optimizer.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import type { BatchRows, HeldImages } from './batch-rows.ts';
import type { KernelChoice, KernelName } from './kernels.ts';

export interface CoreOptions {
  /** The image shape and the layer list (src/nn/layers/spec.ts). */
  network: NetworkSpec;
  /** Largest batch any call will use; buffers are sized for it. */
  maxBatch: number;
  loss: LossName;
  /** Threads that compute, the calling thread included (default: os.availableParallelism()). */
  workers?: number;
  /**
   * 'cpu' (default): the WebAssembly core (or the TypeScript one, per `kernel`); 'gpu': the WebGPU
   * core (src/core/gpu), which needs the optional package webgpu and an adapter.
   */
  device?: 'cpu' | 'gpu';
  /** 'auto' (default): relaxed-SIMD FMA if the runtime has it, else plain SIMD, else 'js'. */
  kernel?: KernelChoice;
  /** Seed of dropout's masks (with the step number of each training call). Default 0. */
  seed?: number;
  /** A job not finished after this long means a stuck worker: the call throws (default 30 s). */
  stallTimeoutMs?: number;
  /** Layers with less work per batch than this (multiply-adds) run on the calling thread alone (default 2^20). */
  minSplitWork?: number;
  /** Folder holding worker.js and the kernel .wasm files (default: dist/core of this package). */
  assetDir?: string;
  /** Time every layer's jobs (Core.profile): `nn-train --profile` and the benchmarks. */
  profile?: boolean;
  /**
   * What the start-up warms: every job ('training', the default), or only the inference pass
   * ('inference', for a caller that only predicts: a fraction of the start-up time).
   */
  warmUp?: 'training' | 'inference';
}

/** Seconds spent per layer since the profile was last reset (the profile option). */
export interface LayerProfile {
  /** Per layer: forward jobs (training and inference), backward jobs. */
  forward: Float64Array;
  backward: Float64Array;
  /** The loss, the norm for clipping and the optimizer step. */
  update: number;
  /** trainStep/gradient calls and evaluate/predict calls counted. */
  trainingSteps: number;
  inferencePasses: number;
}

export interface RegularizationOptions {
  /** L2 weight decay lambda: g += lambda * w on weights and kernels (not biases, not batch norm). Default 0. */
  weightDecay?: number;
  /** Clip the gradient to this global norm (after weight decay). null or absent: no clipping. */
  clipNorm?: number | null;
}

export interface Core {
  /** The kernels in use: 'relaxed-simd', 'simd' or 'js'; the GPU core's 'webgpu: <adapter>'. */
  readonly kernel: KernelName | `webgpu: ${string}`;
  /** Threads that compute, the calling thread included (1 for 'js'). */
  readonly workers: number;
  readonly plan: NetworkPlan;
  readonly maxBatch: number;
  readonly paramCount: number;
  /** The weights (cut by the plan); the caller initialises or loads them. */
  readonly params: Float32Array;
  /** The gradient computed by the last gradient() call (layout of params); scratch during trainStep. */
  readonly grads: Float32Array;
  /** Batch norm's running statistics (cut by the plan): initial values at creation; load them with a model. */
  readonly stats: Float32Array;
  /** The batch: maxBatch rows of the input shape's size, row-major, HWC. */
  readonly input: Float32Array;
  /** The labels of the batch (1 = dog, 0 = cat). */
  readonly labels: Float32Array;
  /** Global gradient norm of the last trainStep when clipping is on, else NaN. */
  readonly lastGradientNorm: number;
  /** Time per layer with the profile option, else null; reset it with resetProfile(). */
  readonly profile: LayerProfile | null;
  resetProfile(): void;

  /** Chooses the optimizer and resets its state (step count 0, state buffers zero). */
  setOptimizer(spec: OptimizerSpec, options?: RegularizationOptions): void;
  /**
   * One training step on the first B samples of input/labels: forward (training mode), loss,
   * backward, weight decay, clipping, optimizer update. `step` (the global batch number) keys
   * dropout's masks; `momentum`, when given, is the step's momentum coefficient from the schedule
   * (Optimizer.beginStep). Returns the mean loss of the batch (before the update).
   */
  trainStep(B: number, lr: number, step?: number, momentum?: number | null): number;
  /** Forward (training mode), loss and backward without an update: fills grads, returns the mean loss. */
  gradient(B: number, step?: number): number;
  /** Mean loss of the first B samples in inference mode, no update (validation); with `probabilities`, P(dog) of each into it. */
  evaluate(B: number, probabilities?: Float32Array | Float64Array): number;
  /** P(dog) of the first B samples into out[0..B), inference mode. */
  predict(B: number, out: Float32Array | Float64Array): void;
  /** A copy of the optimizer state, in the shape of src/optim's getState (checkpoints). */
  getOptimizerState(): OptimizerState;
  /** Restores a state from getOptimizerState (or from a src/optim optimizer of the same spec). */
  setOptimizerState(state: OptimizerState): void;
  /**
   * Only on a core that runs ahead of its results (the GPU core), whose trainStep returns NaN at
   * once: the losses of the steps trained since the last call, in step order, of those whose result
   * has come back, or of all of them with `wait`. lastGradientNorm is that of the last one given.
   */
  takeLosses?(wait: boolean, into: (loss: number) => void): void;
  /**
   * Only on a core with memory of its own (the GPU core): keeps `images` there (one upload), so that
   * each batch is then described in `rows` (src/core/batch-rows.ts) instead of written into `input`,
   * and the device forms the inputs, augmentation included. From then on every call reads its B
   * rows through `rows` (labels still come from `labels`). Returns null when held, or why not (the
   * images exceed the device's limit for one buffer), holding nothing: batches then go through
   * `input` as before.
   */
  holdImages?(images: HeldImages): string | null;
  /** The rows of the next batch once images are held (holdImages), else null. */
  readonly rows?: BatchRows | null;
  /** Stops the workers. The core cannot be used afterwards. */
  close(): Promise<void>;
}
