/**
 * The gradient core: what the training loop, nn-eval and the genetic algorithm call to run the
 * network. One interface, two implementations:
 *   - WasmCore (wasm-core.ts): WebAssembly SIMD kernels on a pool of worker_threads plus the
 *     calling thread, all over one shared WebAssembly.Memory;
 *   - JsCore (js-core.ts): the single-thread TypeScript reference of src/nn and src/optim, for
 *     checking and for runtimes without WebAssembly SIMD.
 *
 * Usage (one batch at a time; the data pipeline writes the batch straight into core.input and
 * core.labels, which are views of the shared memory, so nothing is copied):
 *
 *   const core = await createCore({ arch, maxBatch: 64, loss: 'bce' });
 *   initParams(arch, core.params, rng);            // or core.params.set(weightsFromAFile)
 *   core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 1e-4 });
 *   for (...) { fill core.input / core.labels with B samples; const loss = core.trainStep(B, lr); }
 *   await core.close();
 *
 * Results are bit-identical whatever the number of workers (no sum is split between threads), and
 * equal to the TypeScript reference within float32 rounding (the WebAssembly products sum in a
 * different order and may fuse multiply-adds; the optimizer arithmetic is the same bit for bit).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Architecture } from '../nn/architecture.ts';
import type { LossName } from '../nn/losses.ts';
import type { OptimizerState } from '../optim/optimizer.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
export { CoreError } from './checks.ts';
import { JsCore } from './js-core.ts';
import type { KernelChoice, KernelName } from './kernels.ts';
import { MAX_THREADS } from './sync.ts';
import { createWasmCore } from './wasm-core.ts';

export interface CoreOptions {
  arch: Architecture;
  /** Largest batch any call will use; buffers are sized for it. */
  maxBatch: number;
  loss: LossName;
  /** Threads that compute, the calling thread included (default: os.availableParallelism()). */
  workers?: number;
  /** 'auto' (default): relaxed-SIMD FMA if the runtime has it, else plain SIMD, else 'js'. */
  kernel?: KernelChoice;
  /** Parameter vectors to allocate for evaluatePopulation (default 0). */
  population?: number;
  /** A job not finished after this long means a stuck worker: the call throws (default 30 s). */
  stallTimeoutMs?: number;
  /** Layers with fewer multiply-adds per batch than this run on the calling thread alone (default 2^20). */
  minSplitWork?: number;
  /** Folder holding worker.js and the kernel .wasm files (default: dist/core of this package). */
  assetDir?: string;
}

export interface RegularizationOptions {
  /** L2 weight decay lambda: g += lambda * w on weights (not biases). Default 0. */
  weightDecay?: number;
  /** Clip the gradient to this global norm (after weight decay). null or absent: no clipping. */
  clipNorm?: number | null;
}

export interface Core {
  /** The kernels in use: 'relaxed-simd', 'simd' or 'js'. */
  readonly kernel: KernelName;
  /** Threads that compute, the calling thread included (1 for 'js'). */
  readonly workers: number;
  readonly arch: Architecture;
  readonly maxBatch: number;
  readonly paramCount: number;
  /** The weights (layout of src/nn/architecture.ts); the caller initialises or loads them. */
  readonly params: Float32Array;
  /** The gradient computed by the last gradient() call (layout of params); scratch during trainStep. */
  readonly grads: Float32Array;
  /** The batch: maxBatch rows of inputSize floats, row-major. */
  readonly input: Float32Array;
  /** The labels of the batch (1 = dog, 0 = cat). */
  readonly labels: Float32Array;
  /** Parameter vectors for evaluatePopulation (the `population` option): the caller fills them. */
  readonly population: readonly Float32Array[];
  /** Global gradient norm of the last trainStep when clipping is on, else NaN. */
  readonly lastGradientNorm: number;

  /** Chooses the optimizer and resets its state (step count 0, state buffers zero). */
  setOptimizer(spec: OptimizerSpec, options?: RegularizationOptions): void;
  /**
   * One training step on the first B samples of input/labels: forward, loss, backward, weight
   * decay, clipping, optimizer update. Returns the mean loss of the batch (before the update).
   */
  trainStep(B: number, lr: number): number;
  /** Forward, loss and backward without an update: fills grads, returns the mean loss. */
  gradient(B: number): number;
  /** Mean loss of the first B samples, no update (validation). */
  evaluate(B: number): number;
  /** P(dog) of the first B samples into out[0..B). */
  predict(B: number, out: Float32Array | Float64Array): void;
  /** Mean loss of each of the first `count` population vectors on the batch, into out[0..count). */
  evaluatePopulation(count: number, B: number, out: Float32Array | Float64Array): void;
  /** A copy of the optimizer state, in the shape of src/optim's getState (checkpoints). */
  getOptimizerState(): OptimizerState;
  /** Restores a state from getOptimizerState (or from a src/optim optimizer of the same spec). */
  setOptimizerState(state: OptimizerState): void;
  /** Stops the workers. The core cannot be used afterwards. */
  close(): Promise<void>;
}

/** Creates the core: compiles the kernels, starts the workers and warms the kernels up. */
export async function createCore(options: CoreOptions): Promise<Core> {
  checkOptions(options);
  const kernel = options.kernel ?? 'auto';
  if (kernel !== 'js') {
    const core = await createWasmCore(options, kernel, options.workers ?? defaultWorkers(), options.assetDir ?? defaultAssetDir());
    if (core) return core;
  }
  return new JsCore(options);
}

function checkOptions(o: CoreOptions): void {
  const positiveInt = (name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): void => {
    if (!(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max)) {
      throw new RangeError(`createCore: ${name} must be an integer in [1, ${max}], got ${String(v)}`);
    }
  };
  positiveInt('maxBatch', o.maxBatch);
  positiveInt('arch.inputSize', o.arch.inputSize);
  o.arch.hidden.forEach((h, i) => positiveInt(`arch.hidden[${i}]`, h));
  if (o.workers !== undefined) positiveInt('workers', o.workers, MAX_THREADS);
  if (o.population !== undefined && !(Number.isInteger(o.population) && o.population >= 0)) {
    throw new RangeError(`createCore: population must be an integer >= 0, got ${String(o.population)}`);
  }
  if (!['auto', 'relaxed-simd', 'simd', 'js'].includes(o.kernel ?? 'auto')) {
    throw new RangeError(`createCore: kernel must be auto, relaxed-simd, simd or js, got ${String(o.kernel)}`);
  }
  if (o.loss !== 'bce' && o.loss !== 'mse') throw new RangeError(`createCore: loss must be bce or mse, got ${String(o.loss)}`);
}

/** Threads to use when the caller does not say. */
export function defaultWorkers(): number {
  return Math.min(availableParallelism(), MAX_THREADS);
}

/** dist/core of this package, found from this file whether it runs from src/ or from a bundle in dist/. */
function defaultAssetDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'core');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('gradient core: cannot find the package root (package.json) to load dist/core');
    dir = parent;
  }
}
