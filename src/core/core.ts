/**
 * The gradient core: what the training loop and nn-eval call to run a network. One interface, two
 * implementations:
 *   - WasmCore (wasm-core.ts): WebAssembly SIMD kernels on a pool of worker_threads plus the
 *     calling thread, all over one shared WebAssembly.Memory, one driver per layer kind (layers/);
 *   - JsCore (js-core.ts): the single-thread TypeScript reference of src/nn and src/optim, for
 *     checking and for runtimes without WebAssembly SIMD.
 *
 * Usage (one batch at a time; the data pipeline writes the batch straight into core.input and
 * core.labels, which are views of the shared memory, so nothing is copied):
 *
 *   const core = await createCore({ network, maxBatch: 64, loss: 'bce', seed });
 *   initParams(core.plan, core.params, rng);       // or core.params.set(weightsFromAFile)
 *   core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 1e-4 });
 *   for (...) { fill core.input / core.labels with B samples; const loss = core.trainStep(B, lr, step); }
 *   await core.close();
 *
 * Results are bit-identical whatever the number of workers (no sum is split between threads, and
 * dropout's masks come from a counter-based generator keyed by seed, step and layer), and equal to
 * the TypeScript reference within float32 rounding (the WebAssembly products sum in a different
 * order and may fuse multiply-adds; the optimizer arithmetic is the same bit for bit).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planNetwork } from '../nn/plan.ts';
export { CoreError } from './checks.ts';
import { JsCore } from './js-core.ts';
import type { Core, CoreOptions } from './types.ts';
export type { Core, CoreOptions, LayerProfile, RegularizationOptions } from './types.ts';
import { MAX_THREADS } from './sync.ts';
import { createWasmCore, layoutInput } from './wasm-core.ts';
import { KERNEL_CHOICES, loadKernels } from './kernels.ts';
import { computeLayout } from './layout.ts';

/**
 * Creates the core: plans the network (a PlanError when its layers do not fit), compiles the
 * kernels, starts the workers and warms the kernels up.
 */
export async function createCore(options: CoreOptions): Promise<Core> {
  checkOptions(options);
  const plan = planNetwork(options.network);
  if (options.device === 'gpu') {
    const { createGpuCore } = await import('./gpu/gpu-core.ts');
    return createGpuCore(options, plan, options.assetDir ?? defaultAssetDir());
  }
  const kernel = options.kernel ?? 'auto';
  if (kernel !== 'js') {
    const core = await createWasmCore(options, plan, kernel, options.workers ?? defaultWorkers(), options.assetDir ?? defaultAssetDir());
    if (core) return core;
  }
  return new JsCore(options, plan);
}

/**
 * Throws a CoreMemoryError (a RangeError naming the largest buffers) when the network at this batch
 * size would not fit in WebAssembly's 4 GiB: what createCore would find, without starting
 * anything, so a command can refuse such a config before it decodes a single image.
 */
export function checkCoreMemory(options: Pick<CoreOptions, 'network' | 'maxBatch' | 'workers' | 'assetDir'>): void {
  const loaded = loadKernels('auto', options.assetDir ?? defaultAssetDir());
  if (!loaded) return; // no WebAssembly SIMD: the TypeScript path has no 4 GiB limit
  const plan = planNetwork(options.network);
  computeLayout(layoutInput(loaded.module, plan, options.maxBatch, options.workers ?? defaultWorkers()));
}

function checkOptions(o: CoreOptions): void {
  const positiveInt = (name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): void => {
    if (!(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max)) {
      throw new RangeError(`createCore: ${name} must be an integer in [1, ${max}], got ${String(v)}`);
    }
  };
  positiveInt('maxBatch', o.maxBatch);
  if (o.workers !== undefined) positiveInt('workers', o.workers, MAX_THREADS);
  if (!(KERNEL_CHOICES as readonly unknown[]).includes(o.kernel ?? 'auto')) {
    throw new RangeError(`createCore: kernel must be one of ${KERNEL_CHOICES.join(', ')}, got ${String(o.kernel)}`);
  }
  if (o.device !== undefined && o.device !== 'cpu' && o.device !== 'gpu') throw new RangeError(`createCore: device must be cpu or gpu, got ${String(o.device)}`);
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
