/**
 * The WebAssembly gradient core: T threads (the calling thread and T - 1 worker_threads) run the
 * SIMD kernels over one shared WebAssembly.Memory holding weights, gradients, optimizer state,
 * statistics, activations and the batch.
 *
 * A training step is one walk over the layer list each way, then the optimizer pass:
 *   forward   for l = 0 .. L-1: the forward steps of layer l's driver (layers/driver.ts)
 *   loss      on the calling thread: the loss of the logits, and dL/dlogits
 *   backward  for l = L-1 .. 0: the backward steps of layer l's driver
 *   update    (norm, for clipping) then the optimizer step, parameter ranges split between threads
 * Each step is a job: published to the workers and run by every thread, or (when the layer's work
 * is small) run by the calling thread alone. Inference is the forward walk in 'infer' mode.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sigmoid } from '../nn/activations.ts';
import type { Mode } from '../nn/layers/layer.ts';
import { LOSSES, type Loss } from '../nn/losses.ts';
import { noiseKey } from '../random/noise.ts';
import { initStats } from '../nn/init.ts';
import type { NetworkPlan } from '../nn/plan.ts';
import { shapeSize } from '../nn/shape.ts';
import { createOptimizer } from '../optim/index.ts';
import type { Optimizer, OptimizerState } from '../optim/optimizer.ts';
import { clipScale } from '../optim/regularize.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { checkBatch, checkLearningRate, checkOut, checkRegularization, CoreError } from './checks.ts';
import type { Core, CoreOptions, LayerProfile, RegularizationOptions } from './types.ts';
import { instantiate, loadKernels, probeGeometry, type KernelExports, type WasmKernelName } from './kernels.ts';
import { foldedLayers } from './layers/fusion.ts';
import { coreLayer } from './layers/index.ts';
import { computeLayout, type CoreLayout, type LayoutInput } from './layout.ts';
import { Control, JOB } from './sync.ts';
import { ThreadRunner } from './thread.ts';
import { UpdateStep } from './update-step.ts';
import type { WorkerData } from './worker.ts';

const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const DEFAULT_MIN_SPLIT_WORK = 1 << 20;

/** Images of the warm-up passes (see WasmCore.warmUp). */
const WARM_UP_BATCH = 8;

/** What computeLayout needs, for this plan on this module's kernels (see layout.ts). */
export function layoutInput(module: WebAssembly.Module, plan: NetworkPlan, maxBatch: number, threads: number): LayoutInput {
  const { heapBase, geometry } = probeGeometry(module);
  return { plan, maxBatch, threads, heapBase, geometry };
}

/** Compiles the kernels and starts the workers; null when the runtime has no WebAssembly SIMD. */
export async function createWasmCore(
  options: CoreOptions,
  plan: NetworkPlan,
  choice: 'auto' | WasmKernelName,
  threads: number,
  assetDir: string,
): Promise<WasmCore | null> {
  const loaded = loadKernels(choice, assetDir);
  if (!loaded) return null;
  const input = layoutInput(loaded.module, plan, options.maxBatch, threads);
  const layout = computeLayout(input);
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages, shared: true });
  const { plan: _, ...sizes } = input;
  const workers = await startWorkers(assetDir, threads - 1, (thread) => ({ module: loaded.module, memory, network: options.network, sizes, thread }));
  const core = new WasmCore(options, plan, loaded.name, layout, memory, instantiate(loaded.module, memory), workers);
  core.warmUp(options.warmUp ?? 'training');
  return core;
}

/** Starts `count` workers and waits until each has instantiated its kernels. */
async function startWorkers(assetDir: string, count: number, data: (thread: number) => WorkerData): Promise<Worker[]> {
  const url = pathToFileURL(join(assetDir, 'worker.js'));
  const workers: Worker[] = [];
  try {
    for (let t = 1; t <= count; t++) {
      const worker = new Worker(url, { workerData: data(t) });
      workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', (err) => reject(new Error(`gradient core: worker ${t} failed to start: ${err.message}`)));
        worker.once('exit', (code) => reject(new Error(`gradient core: worker ${t} exited with code ${code} while starting`)));
      });
      worker.removeAllListeners();
      // A forgotten close() must not keep the process alive.
      worker.unref();
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  return workers;
}

export class WasmCore implements Core {
  readonly kernel: WasmKernelName;
  readonly workers: number;
  readonly plan: NetworkPlan;
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly stats: Float32Array;
  readonly input: Float32Array;
  readonly labels: Float32Array;
  lastGradientNorm = NaN;
  readonly profile: LayerProfile | null;

  private readonly control: Control;
  private readonly runner: ThreadRunner;
  private readonly loss: Loss;
  private readonly seed: number;
  /** Per layer: the barrier-separated steps of its forward job in training and in inference, and of its backward job. */
  private readonly trainSteps: Int32Array;
  private readonly inferSteps: Int32Array;
  private readonly backwardSteps: Int32Array;
  /** Per layer: split its jobs between the threads (else the calling thread runs them alone). */
  private readonly splitLayer: boolean[];
  private readonly splitUpdate: boolean;
  private readonly logits: Float32Array;
  private readonly dLogits: Float32Array;
  private readonly partials: Float64Array;
  private readonly states: Float32Array[];
  private readonly stallTimeoutMs: number;
  private optimizer: Optimizer | null = null;
  private updateStep: UpdateStep | null = null;
  private clipNorm: number | undefined;
  /** Why the core is unusable (a failed worker, or closed), or null. */
  private broken: string | null = null;
  private closing = false;

  constructor(
    options: CoreOptions,
    plan: NetworkPlan,
    kernel: WasmKernelName,
    private readonly layout: CoreLayout,
    private readonly memory: WebAssembly.Memory,
    kernels: KernelExports,
    private readonly pool: Worker[],
  ) {
    this.kernel = kernel;
    this.workers = layout.threadCount;
    this.plan = plan;
    this.maxBatch = options.maxBatch;
    this.paramCount = layout.paramCount;
    this.seed = options.seed ?? 0;
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const buffer = memory.buffer;
    const P = layout.paramCount;
    const f32 = (offset: number, n: number): Float32Array => new Float32Array(buffer, offset, n);
    this.params = f32(layout.params, P);
    this.grads = f32(layout.grads, P);
    this.stats = f32(layout.stats, layout.statCount);
    this.states = [f32(layout.state1, P), f32(layout.state2, P)];
    this.input = f32(layout.activations[0]!, layout.maxBatch * shapeSize(plan.input));
    this.labels = f32(layout.labels, layout.maxBatch);
    const L = plan.layers.length;
    this.logits = f32(layout.activations[L]!, layout.maxBatch);
    this.dLogits = f32(layout.gradients[L]!, layout.maxBatch);
    this.partials = new Float64Array(buffer, layout.normPartials, layout.normBlocks.length);
    this.control = new Control(memory, layout.control);
    this.runner = new ThreadRunner(kernels, plan, layout, memory, this.control, 0);
    this.loss = LOSSES[options.loss];
    const drivers = plan.layers.map((l) => coreLayer(l.spec));
    // A layer folded into the one before it (layers/fusion.ts) has no jobs for what that one does.
    const folded = foldedLayers(plan);
    this.trainSteps = Int32Array.from(plan.layers, (l, i) => (folded[i] ? 0 : drivers[i]!.forwardSteps(l, 'train')));
    this.inferSteps = Int32Array.from(plan.layers, (l, i) => (folded[i] ? 0 : drivers[i]!.forwardSteps(l, 'infer')));
    this.backwardSteps = Int32Array.from(plan.layers, (l, i) => (folded[i] === 'all' ? 0 : drivers[i]!.backwardSteps(l)));
    const minWork = options.minSplitWork ?? DEFAULT_MIN_SPLIT_WORK;
    const threaded = layout.threadCount > 1;
    this.splitLayer = plan.layers.map((l, i) => threaded && drivers[i]!.work(l, layout.maxBatch) >= minWork);
    // The optimizer pass reads and writes ~5 floats per parameter: split when that is worth a barrier.
    this.splitUpdate = threaded && 16 * P >= minWork;
    this.profile = options.profile ? { forward: new Float64Array(L), backward: new Float64Array(L), update: 0, trainingSteps: 0, inferencePasses: 0 } : null;
    pool.forEach((worker, i) => {
      // Seen between calls (the event loop runs between batches); during a call, sync.ts checks
      // the shared EXITED and FAILED words instead.
      worker.on('error', (err) => this.markBroken(`worker ${i + 1} failed: ${err.message}`));
      worker.on('exit', (code) => {
        if (!this.closing) this.markBroken(`worker ${i + 1} exited with code ${code}`);
      });
    });
  }

  setOptimizer(spec: OptimizerSpec, options: RegularizationOptions = {}): void {
    this.check();
    checkRegularization(options);
    for (const s of this.states) s.fill(0);
    let next = 0;
    // The TypeScript optimizer validates the spec, counts steps, gives the step constants and
    // (de)serialises the state; its state buffers are the shared ones the update pass works on.
    const optimizer = createOptimizer(spec, this.paramCount, () => this.states[next++]!);
    const { layout } = this;
    this.updateStep = new UpdateStep(optimizer, this.memory, layout.step, layout, options.weightDecay ?? 0);
    this.optimizer = optimizer;
    this.clipNorm = options.clipNorm ?? undefined;
  }

  trainStep(B: number, lr: number, step = 0, momentum: number | null = null): number {
    this.check();
    checkBatch(B, this.maxBatch);
    checkLearningRate(lr);
    const { optimizer, updateStep } = this;
    if (!optimizer || !updateStep) throw new Error('gradient core: call setOptimizer before training');
    const value = this.gradient(B, step);
    const started = this.profile ? performance.now() : 0;
    optimizer.beginStep(momentum);
    let scale = 1;
    if (this.clipNorm !== undefined) {
      updateStep.write(lr, 1); // weight decay is part of the gradient whose norm is taken
      this.job(JOB.NORM, 0, 0, 0, 0, this.splitUpdate);
      let sum = 0;
      for (let b = 0; b < this.partials.length; b++) sum += this.partials[b]!;
      const norm = Math.sqrt(sum);
      this.lastGradientNorm = norm;
      scale = clipScale(norm, this.clipNorm);
    }
    updateStep.write(lr, scale);
    this.job(JOB.UPDATE, 0, 0, 0, 0, this.splitUpdate);
    if (this.profile) this.profile.update += (performance.now() - started) / 1000;
    return value;
  }

  gradient(B: number, step = 0): number {
    this.check();
    checkBatch(B, this.maxBatch);
    this.forwardAll(B, 'train', step);
    const value = this.loss.forwardBackward(this.logits, this.labels, B, this.dLogits);
    const { profile } = this;
    for (let l = this.plan.layers.length - 1; l >= 0; l--) {
      const started = profile ? performance.now() : 0;
      for (let s = 0; s < this.backwardSteps[l]!; s++) this.job(JOB.BACKWARD, l, B, s, 0, this.splitLayer[l]!);
      if (profile) profile.backward[l] += (performance.now() - started) / 1000;
    }
    if (profile) profile.trainingSteps++;
    return value;
  }

  evaluate(B: number, probabilities?: Float32Array | Float64Array): number {
    this.check();
    checkBatch(B, this.maxBatch);
    if (probabilities) checkOut('evaluate', probabilities, B);
    this.forwardAll(B, 'infer', 0);
    if (probabilities) for (let s = 0; s < B; s++) probabilities[s] = sigmoid(this.logits[s]!);
    return this.loss.forwardBackward(this.logits, this.labels, B);
  }

  predict(B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    checkOut('predict', out, B);
    this.forwardAll(B, 'infer', 0);
    for (let s = 0; s < B; s++) out[s] = sigmoid(this.logits[s]!);
  }

  getOptimizerState(): OptimizerState {
    this.check();
    if (!this.optimizer) throw new Error('gradient core: no optimizer (call setOptimizer)');
    return this.optimizer.getState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.check();
    if (!this.optimizer) throw new Error('gradient core: call setOptimizer before setOptimizerState');
    this.optimizer.setState(state);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const healthy = this.broken === null;
    this.broken = 'the core is closed';
    // The workers are unref'd (a forgotten close() must not keep the process alive), so while we
    // wait for them here they must hold the event loop open, or the process would end mid-close.
    for (const w of this.pool) w.ref();
    if (healthy && this.pool.length > 0) {
      // Workers leave their loop and end; terminate() is the fallback for any that do not.
      const exited = Promise.all(this.pool.map((w) => new Promise((resolve) => w.once('exit', resolve))));
      this.control.publish(JOB.QUIT, 0, 0, 0, 0);
      const timeout = new Promise((resolve) => setTimeout(resolve, 2000).unref());
      await Promise.race([exited, timeout]);
    }
    await Promise.all(this.pool.map((w) => w.terminate()));
  }

  /**
   * Runs every job twice on WARM_UP_BATCH images of made-up numbers: a WebAssembly function's
   * first calls run in V8's baseline tier (several times slower), and V8 swaps in optimized code
   * only for later calls (there is no on-stack replacement in wasm). What triggers the optimized
   * code is the work done in a function, which a few images of any network give; the batch size
   * changes no job or kernel (the splits are set by maxBatch), so the first full batch is as fast
   * as the rest, and the warm-up costs the same at any maxBatch.
   * 'training' also takes a step with every optimizer, then clears what carries over from one call
   * to the next: the step descriptor, parameters, gradients, optimizer state, statistics and labels
   * (the head of the layout, before the input batch), and the images it wrote; the statistics are
   * set to their initial values. Everything else (activations, saved values, packs, scratch) is
   * written by each pass before it is read, so the warm-up's numbers there change nothing (the
   * training tests compare many steps with the reference). 'inference' runs only the inference
   * pass, on the memory as it comes (zeros: the values do not matter to V8). Neither clears the
   * whole memory: that would allocate every page of it, most of which a small batch never touches
   * (1.8 GB for cnn.json's core at batch 256: seconds of page faults before the first batch).
   */
  warmUp(jobs: 'training' | 'inference'): void {
    if (jobs === 'inference') {
      initStats(this.plan, this.stats);
      for (let round = 0; round < 2; round++) this.evaluate(Math.min(this.maxBatch, WARM_UP_BATCH));
      this.resetProfile();
      return;
    }
    const B = Math.min(this.maxBatch, WARM_UP_BATCH);
    const pattern = (a: Float32Array, scale: number): void => {
      for (let i = 0; i < a.length; i++) a[i] = (((i * 2654435761) >>> 0) / 4294967296 - 0.5) * scale;
    };
    const images = this.input.subarray(0, (B * this.input.length) / this.maxBatch); // the images the passes read
    pattern(this.params, 0.1);
    pattern(images, 1);
    for (let s = 0; s < B; s++) this.labels[s] = s & 1;
    const specs: OptimizerSpec[] = [
      { type: 'sgd' },
      { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false },
      { type: 'nesterov', beta: 0.9 },
      { type: 'rmsprop', rho: 0.9, epsilon: 1e-8 },
      { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    ];
    for (let round = 0; round < 2; round++) {
      this.evaluate(B);
      for (const spec of specs) {
        this.setOptimizer(spec, { weightDecay: 1e-4, clipNorm: 1 });
        this.trainStep(B, 0);
      }
    }
    this.optimizer = null;
    this.updateStep = null;
    this.clipNorm = undefined;
    this.lastGradientNorm = NaN;
    this.resetProfile();
    new Uint8Array(this.memory.buffer, this.layout.step, this.layout.activations[0]! - this.layout.step).fill(0);
    images.fill(0);
    initStats(this.plan, this.stats);
  }

  private forwardAll(B: number, mode: Mode, step: number): void {
    const train = mode === 'train' ? 1 : 0;
    const { profile } = this;
    for (let l = 0; l < this.plan.layers.length; l++) {
      const started = profile ? performance.now() : 0;
      const steps = train ? this.trainSteps[l]! : this.inferSteps[l]!;
      const key = train ? noiseKey(this.seed, step, l) | 0 : 0;
      for (let s = 0; s < steps; s++) this.job(JOB.FORWARD, l, B, train | (s << 1), key, this.splitLayer[l]!);
      if (profile) profile.forward[l] += (performance.now() - started) / 1000;
    }
    if (profile && !train) profile.inferencePasses++;
  }

  resetProfile(): void {
    const { profile } = this;
    if (!profile) return;
    profile.forward.fill(0);
    profile.backward.fill(0);
    profile.update = 0;
    profile.trainingSteps = 0;
    profile.inferencePasses = 0;
  }

  /** Runs a job split between all threads, or on this thread alone. Any failure breaks the core. */
  private job(job: number, a0: number, a1: number, a2: number, a3: number, split: boolean): void {
    if (!split) {
      try {
        this.runner.run(job, a0, a1, a2, a3, true);
      } catch (err) {
        this.fail(`the main thread failed: ${(err as Error).message}`);
      }
      return;
    }
    const epoch = this.control.publish(job, a0, a1, a2, a3);
    let mainError: unknown = null;
    try {
      this.runner.run(job, a0, a1, a2, a3, false);
    } catch (err) {
      mainError = err;
    }
    const problem = this.control.waitForWorkers(this.pool.length, epoch, this.stallTimeoutMs);
    if (problem) this.fail(problem);
    if (mainError) this.fail(`the main thread failed: ${(mainError as Error).message}`);
  }

  private fail(reason: string): never {
    this.markBroken(reason);
    throw new CoreError(`gradient core: ${reason}`);
  }

  private markBroken(reason: string): void {
    if (this.broken === null) this.broken = reason;
  }

  private check(): void {
    if (this.broken !== null) throw new CoreError(`gradient core: ${this.broken}`);
  }
}
