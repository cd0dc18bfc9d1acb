/**
 * The WebAssembly gradient core: T threads (the calling thread and T - 1 worker_threads) run the
 * SIMD kernels over one shared WebAssembly.Memory holding weights, gradients, optimizer state,
 * activations and the batch. The calling thread drives a step as a sequence of jobs (thread.ts):
 * a job of a big layer is split between all threads (published through the control block,
 * sync.ts), a job of a small layer runs on the calling thread alone. A training step of the
 * reference network 12288-256-64-1 is two split jobs (layer 0 forward; layer 0 backward plus the
 * optimizer step), with the small layers and the loss on the calling thread in between.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sigmoid } from '../nn/activations.ts';
import type { Architecture } from '../nn/architecture.ts';
import { LOSSES, type Loss } from '../nn/losses.ts';
import { createOptimizer } from '../optim/index.ts';
import type { Optimizer, OptimizerState } from '../optim/optimizer.ts';
import { clipScale } from '../optim/regularize.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { checkBatch, checkLearningRate, checkOut, checkRegularization, CoreError } from './checks.ts';
import type { Core, CoreOptions, RegularizationOptions } from './core.ts';
import { instantiate, loadKernels, type KernelExports, type WasmKernelName } from './kernels.ts';
import { computeLayout, type CoreLayout, type LayoutInput } from './layout.ts';
import { StepScalars } from './step-scalars.ts';
import { Control, FAULT, JOB, W } from './sync.ts';
import { BACKWARD_INPUT, BACKWARD_UPDATE, BACKWARD_WEIGHTS, ThreadRunner } from './thread.ts';
import type { WorkerData } from './worker.ts';

const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const DEFAULT_MIN_SPLIT_WORK = 1 << 20;

/** Compiles the kernels and starts the workers; null when the runtime has no WebAssembly SIMD. */
export async function createWasmCore(
  options: CoreOptions,
  choice: 'auto' | WasmKernelName,
  threads: number,
  assetDir: string,
): Promise<WasmCore | null> {
  const loaded = loadKernels(choice, assetDir);
  if (!loaded) return null;
  // The module's static data size and compiled-in panel sizes, from a throwaway instance.
  const probe = instantiate(loaded.module, new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true }));
  const layoutInput: LayoutInput = {
    arch: options.arch,
    maxBatch: options.maxBatch,
    threads,
    population: options.population ?? 0,
    heapBase: probe.heapBase(),
    geometry: {
      panelWidth: probe.weightPanelWidth(),
      panelStride: probe.panelStride(),
      inputPanelWidth: probe.inputPanelWidth(),
      listEntryBytes: probe.listEntryBytes(),
    },
  };
  const layout = computeLayout(layoutInput);
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages, shared: true });
  const workers = await startWorkers(assetDir, threads - 1, (thread) => ({
    module: loaded.module,
    memory,
    layoutInput,
    thread,
    loss: options.loss,
  }));
  const core = new WasmCore(options, loaded.name, layout, memory, instantiate(loaded.module, memory), workers);
  core.warmUp();
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
  readonly arch: Architecture;
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly input: Float32Array;
  readonly labels: Float32Array;
  readonly population: readonly Float32Array[];
  lastGradientNorm = NaN;

  private readonly control: Control;
  private readonly runner: ThreadRunner;
  private readonly loss: Loss;
  /** Per layer: split its jobs between the threads (else the calling thread runs them alone). */
  private readonly splitLayer: boolean[];
  private readonly logits: Float32Array;
  private readonly dLogits: Float32Array;
  private readonly losses: Float64Array;
  private readonly partials: Float64Array;
  private readonly states: Float32Array[];
  private readonly stallTimeoutMs: number;
  private optimizer: Optimizer | null = null;
  private scalars: StepScalars | null = null;
  private clipNorm: number | undefined;
  /** Why the core is unusable (a failed worker, or closed), or null. */
  private broken: string | null = null;
  private closing = false;

  constructor(
    options: CoreOptions,
    kernel: WasmKernelName,
    private readonly layout: CoreLayout,
    private readonly memory: WebAssembly.Memory,
    kernels: KernelExports,
    private readonly pool: Worker[],
  ) {
    this.kernel = kernel;
    this.workers = layout.threadCount;
    this.arch = options.arch;
    this.maxBatch = options.maxBatch;
    this.paramCount = layout.paramCount;
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const buffer = memory.buffer;
    const P = layout.paramCount;
    const f32 = (offset: number, n: number): Float32Array => new Float32Array(buffer, offset, n);
    this.params = f32(layout.params, P);
    this.grads = f32(layout.grads, P);
    this.states = [f32(layout.state1, P), f32(layout.state2, P)];
    this.input = f32(layout.inputBatch, layout.maxBatch * options.arch.inputSize);
    this.labels = f32(layout.labelBatch, layout.maxBatch);
    this.population = Array.from({ length: layout.populationSize }, (_, i) => f32(layout.population + 4 * P * i, P));
    const last = layout.layers[layout.layers.length - 1]!;
    this.logits = f32(last.Z, layout.maxBatch);
    this.dLogits = f32(last.dZ, layout.maxBatch);
    this.losses = new Float64Array(buffer, layout.losses, Math.max(layout.populationSize, 1));
    this.partials = new Float64Array(buffer, layout.normPartials, layout.normBlocks.length);
    this.control = new Control(memory, layout.control);
    this.runner = new ThreadRunner(kernels, layout, memory, this.control, 0, options.loss);
    this.loss = LOSSES[options.loss];
    const minWork = options.minSplitWork ?? DEFAULT_MIN_SPLIT_WORK;
    this.splitLayer = layout.layers.map((l) => layout.threadCount > 1 && layout.maxBatch * l.shape.nIn * l.shape.nOut >= minWork);
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
    // The TypeScript optimizer validates the spec, counts steps and (de)serialises the state; its
    // state buffers are the shared ones, which the WebAssembly update pass works on.
    const optimizer = createOptimizer(spec, this.paramCount, () => this.states[next++]!);
    const { layout } = this;
    this.scalars = new StepScalars(spec, this.memory, layout.step, { params: layout.params, grads: layout.grads, state1: layout.state1, state2: layout.state2 }, options.weightDecay ?? 0);
    this.optimizer = optimizer;
    this.clipNorm = options.clipNorm ?? undefined;
  }

  trainStep(B: number, lr: number): number {
    this.check();
    checkBatch(B, this.maxBatch);
    checkLearningRate(lr);
    const { optimizer, scalars } = this;
    if (!optimizer || !scalars) throw new Error('gradient core: call setOptimizer before training');
    optimizer.beginStep();
    scalars.beginStep();
    this.forwardAll(B, true);
    const value = this.loss.forwardBackward(this.logits, this.labels, B, this.dLogits);
    if (this.clipNorm === undefined) {
      scalars.write(lr, 1);
      this.backwardAll(B, true);
      return value;
    }
    this.backwardAll(B, false);
    scalars.write(lr, 1); // weight decay is part of the gradient whose norm is taken
    const split = this.splitLayer[0]!;
    this.job(JOB.NORM, 0, 0, 0, split);
    let sum = 0;
    for (let b = 0; b < this.partials.length; b++) sum += this.partials[b]!;
    const norm = Math.sqrt(sum);
    this.lastGradientNorm = norm;
    scalars.write(lr, clipScale(norm, this.clipNorm));
    this.job(JOB.UPDATE, 0, 0, 0, split);
    return value;
  }

  gradient(B: number): number {
    this.check();
    checkBatch(B, this.maxBatch);
    this.forwardAll(B, true);
    const value = this.loss.forwardBackward(this.logits, this.labels, B, this.dLogits);
    this.backwardAll(B, false);
    return value;
  }

  evaluate(B: number): number {
    this.check();
    checkBatch(B, this.maxBatch);
    this.forwardAll(B, false);
    return this.loss.forwardBackward(this.logits, this.labels, B);
  }

  predict(B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    checkOut('predict', out, B);
    this.forwardAll(B, false);
    for (let s = 0; s < B; s++) out[s] = sigmoid(this.logits[s]!);
  }

  evaluatePopulation(count: number, B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    if (!(Number.isInteger(count) && count >= 0 && count <= this.population.length)) {
      throw new RangeError(`evaluatePopulation: count must be an integer in [0, ${this.population.length}] (the population option), got ${count}`);
    }
    checkOut('evaluatePopulation', out, count);
    Atomics.store(this.control.words, W.POP_NEXT, 0);
    this.job(JOB.POPULATION, count, B, 0, this.workers > 1);
    for (let i = 0; i < count; i++) out[i] = this.losses[i]!;
  }

  getOptimizerState(): OptimizerState {
    this.check();
    if (!this.optimizer) throw new Error('gradient core: no optimizer (call setOptimizer)');
    return this.optimizer.getState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.check();
    if (!this.optimizer || !this.scalars) throw new Error('gradient core: call setOptimizer before setOptimizerState');
    this.optimizer.setState(state);
    this.scalars.restore(this.optimizer.t);
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
      this.control.publish(JOB.QUIT, 0, 0, 0);
      const timeout = new Promise((resolve) => setTimeout(resolve, 2000).unref());
      await Promise.race([exited, timeout]);
    }
    await Promise.all(this.pool.map((w) => w.terminate()));
  }

  /**
   * Test hook: makes worker `thread` (1..workers-1) fail at the start of its next job by throwing,
   * exiting, or hanging. Not for production use.
   */
  _injectFault(thread: number, kind: 'throw' | 'exit' | 'hang'): void {
    if (!(Number.isInteger(thread) && thread >= 1 && thread < this.workers)) throw new RangeError(`_injectFault: no worker ${thread}`);
    const words = this.control.words;
    Atomics.store(words, W.FAULT_KIND, kind === 'throw' ? FAULT.THROW : kind === 'exit' ? FAULT.EXIT : FAULT.HANG);
    Atomics.store(words, W.FAULT_THREAD, thread + 1);
  }

  /**
   * Runs every kernel once at full size, twice, on made-up numbers, then clears every buffer:
   * a WebAssembly function's first call runs in V8's baseline tier (several times slower), and V8
   * swaps in optimized code only for later calls (there is no on-stack replacement in wasm).
   */
  warmUp(): void {
    const B = this.maxBatch;
    const pattern = (a: Float32Array, scale: number): void => {
      for (let i = 0; i < a.length; i++) a[i] = (((i * 2654435761) >>> 0) / 4294967296 - 0.5) * scale;
    };
    pattern(this.params, 0.1);
    pattern(this.input, 1);
    for (let s = 0; s < B; s++) this.labels[s] = s & 1;
    for (const p of this.population) p.set(this.params);
    const losses = new Float64Array(this.population.length);
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
      if (this.population.length > 0) this.evaluatePopulation(this.population.length, B, losses);
    }
    this.optimizer = null;
    this.scalars = null;
    this.clipNorm = undefined;
    this.lastGradientNorm = NaN;
    new Uint8Array(this.memory.buffer, this.layout.step, this.layout.bytes - this.layout.step).fill(0);
  }

  private forwardAll(B: number, pack: boolean): void {
    for (let l = 0; l < this.splitLayer.length; l++) this.job(JOB.FORWARD, l, B, pack ? 1 : 0, this.splitLayer[l]!);
  }

  /** Backward from the last layer to the first; with `update`, layer 0's job ends with the optimizer step. */
  private backwardAll(B: number, update: boolean): void {
    for (let l = this.splitLayer.length - 1; l >= 0; l--) {
      const parts = (l > 0 ? BACKWARD_INPUT : 0) | BACKWARD_WEIGHTS | (update && l === 0 ? BACKWARD_UPDATE : 0);
      this.job(JOB.BACKWARD, l, B, parts, this.splitLayer[l]!);
    }
  }

  /**
   * For src/bench/core.ts: the shared memory, its layout, and single jobs on all threads or on
   * the calling thread alone. Not for production use.
   */
  _benchmarkAccess(): { memory: WebAssembly.Memory; layout: CoreLayout; job: (job: number, a0: number, a1: number, a2: number, split: boolean) => void } {
    return { memory: this.memory, layout: this.layout, job: (job, a0, a1, a2, split) => this.job(job, a0, a1, a2, split) };
  }

  /** Runs a job split between all threads, or on this thread alone. Any failure breaks the core. */
  private job(job: number, a0: number, a1: number, a2: number, split: boolean): void {
    if (!split) {
      try {
        this.runner.run(job, a0, a1, a2, true);
      } catch (err) {
        this.fail(`the main thread failed: ${(err as Error).message}`);
      }
      return;
    }
    const epoch = this.control.publish(job, a0, a1, a2);
    let mainError: unknown = null;
    try {
      this.runner.run(job, a0, a1, a2, false);
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
