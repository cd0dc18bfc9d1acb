/**
 * The GPU core: the Core interface (src/core/types.ts) over WebGPU, for the training loop, nn-eval
 * and the rest, unchanged. The device lives on a thread of its own (gpu-worker.ts); this side keeps
 * the weights, statistics, gradients and optimizer state in shared memory and moves them only when
 * needed:
 *   - the host copy is the truth until a GPU call: the call uploads what the caller may have written
 *     (any read of `params` or `stats` counts as a possible write);
 *   - after training the GPU copy is newer: reading `params`, `stats`, `grads` or the optimizer state
 *     downloads it first (one wait for the GPU; once per epoch in the training loop).
 * trainStep returns at once with NaN: the step's loss arrives a few steps later, through takeLosses.
 * evaluate, predict and gradient wait for their results (one readback per call).
 * The optimizer's scalars (step count, beta^t, the step constants) are computed here by the
 * src/optim optimizer itself, in double, and handed to the kernel as float32.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sigmoid } from '../../nn/activations.ts';
import { LAYERS } from '../../nn/layers/registry.ts';
import { LOSSES, type Loss } from '../../nn/losses.ts';
import type { NetworkPlan } from '../../nn/plan.ts';
import { initStats } from '../../nn/init.ts';
import { shapeSize } from '../../nn/shape.ts';
import { createOptimizer } from '../../optim/index.ts';
import type { Optimizer, OptimizerState } from '../../optim/optimizer.ts';
import { GRADIENT_OPTIMIZER_TYPES, type OptimizerSpec } from '../../optim/spec.ts';
import { BatchRows, ROW_WORDS, type HeldImages } from '../batch-rows.ts';
import { checkBatch, checkLearningRate, checkOut, checkRegularization, CoreError } from '../checks.ts';
import type { Core, CoreOptions, RegularizationOptions } from '../types.ts';
import { describeAdapter, type GpuAdapterInfo } from './adapter.ts';
import type { GpuWorkerData } from './gpu-worker.ts';
import * as P from './protocol.ts';

/** A network with a layer kind the GPU core cannot run (yet): refused before anything starts. */
export class GpuLayerError extends Error {
  constructor(readonly kind: string, readonly layer: number) {
    super(`layers[${layer}]: the GPU core does not run "${kind}" layers yet; use --device cpu`);
    this.name = 'GpuLayerError';
  }
}

/** Throws a GpuLayerError naming the first layer kind without a GPU part. */
export function checkGpuLayers(plan: NetworkPlan): void {
  for (const layer of plan.layers) if (LAYERS[layer.spec.type].gpu === null) throw new GpuLayerError(layer.spec.type, layer.index);
}

/** A GPU call not answered in this long means a hung device: the call throws (never a hang). */
const STALL_MS = 120_000;

export async function createGpuCore(options: CoreOptions, plan: NetworkPlan, assetDir: string): Promise<GpuCore> {
  checkGpuLayers(plan);
  const n = plan.paramCount;
  const sab = (floats: number, bytes = 4) => new SharedArrayBuffer(Math.max(1, floats) * bytes);
  const shared: P.SharedArrays = {
    control: new SharedArrayBuffer(P.CONTROL_BYTES),
    params: sab(n),
    grads: sab(n),
    stats: sab(plan.statCount),
    state0: sab(n),
    state1: sab(n),
    input: sab(options.maxBatch * shapeSize(plan.input)),
    labels: sab(options.maxBatch),
    logits: sab(options.maxBatch),
    rows: sab(options.maxBatch * ROW_WORDS),
    losses: sab(2 * P.LOSS_RING, 8),
  };
  const data: GpuWorkerData = { network: options.network, maxBatch: options.maxBatch, loss: options.loss, seed: options.seed ?? 0, shared };
  const worker = new Worker(pathToFileURL(join(assetDir, 'gpu', 'gpu-worker.js')), { workerData: data });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', (err) => reject(new CoreError(`GPU core: its thread failed to start: ${err.message}`)));
    worker.once('exit', (code) => reject(new CoreError(`GPU core: its thread exited with code ${code} while starting`)));
  });
  worker.removeAllListeners();
  const ctl = new Int32Array(shared.control);
  if (ctl[P.READY] !== 1) {
    await worker.terminate();
    // 3: the batch's buffers exceed the adapter's limits, a RangeError like the CPU core's 4 GiB.
    if (ctl[P.READY] === 3) throw new RangeError(`GPU core: ${P.readText(shared.control)}`);
    throw new CoreError(`GPU core: ${P.readText(shared.control)}`);
  }
  const adapter = JSON.parse(P.readText(shared.control)) as GpuAdapterInfo;
  // A forgotten close() must not keep the process alive.
  worker.unref();
  return new GpuCore(options, plan, shared, worker, adapter);
}

export class GpuCore implements Core {
  /** 'webgpu: <vendor> <device> (<architecture>)': what ran, for the metrics and the epoch lines. */
  readonly kernel: `webgpu: ${string}`;
  readonly workers = 1;
  readonly plan: NetworkPlan;
  readonly maxBatch: number;
  readonly paramCount: number;
  readonly input: Float32Array;
  readonly labels: Float32Array;
  readonly adapter: GpuAdapterInfo;
  readonly profile = null;
  lastGradientNorm = NaN;
  rows: BatchRows | null = null;
  private readonly hostParams: Float32Array;
  private readonly hostGrads: Float32Array;
  private readonly hostStats: Float32Array;
  private readonly hostState: [Float32Array, Float32Array];
  private readonly logits: Float32Array;
  private readonly losses: Float64Array;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly loss: Loss;
  private readonly constants = new Float64Array(8);
  private optimizer: Optimizer | null = null;
  private clipping = false;
  /** What the host may have written since the last upload (PARAMS | STATS | STATE), and what the GPU has newer. */
  private hostWritten = P.PARAMS | P.STATS;
  private deviceNewer = 0;
  private seq = 0;
  private submitted = 0;
  private taken = 0;
  private closed = false;
  private broken: string | null = null;

  constructor(
    options: CoreOptions,
    plan: NetworkPlan,
    private readonly shared: P.SharedArrays,
    private readonly worker: Worker,
    adapter: GpuAdapterInfo,
  ) {
    this.plan = plan;
    this.maxBatch = options.maxBatch;
    this.paramCount = plan.paramCount;
    this.adapter = adapter;
    this.kernel = `webgpu: ${describeAdapter(adapter)}`;
    this.hostParams = new Float32Array(shared.params, 0, plan.paramCount);
    this.hostGrads = new Float32Array(shared.grads, 0, plan.paramCount);
    this.hostStats = new Float32Array(shared.stats, 0, plan.statCount);
    initStats(plan, this.hostStats);
    this.hostState = [new Float32Array(shared.state0, 0, plan.paramCount), new Float32Array(shared.state1, 0, plan.paramCount)];
    this.input = new Float32Array(shared.input, 0, options.maxBatch * shapeSize(plan.input));
    this.labels = new Float32Array(shared.labels, 0, options.maxBatch);
    this.logits = new Float32Array(shared.logits, 0, options.maxBatch);
    this.losses = new Float64Array(shared.losses);
    this.ctl = new Int32Array(shared.control);
    this.args = new Float64Array(shared.control, P.ARGS_OFFSET, P.ARG_COUNT);
    this.loss = LOSSES[options.loss];
  }

  get params(): Float32Array {
    this.download(P.PARAMS);
    this.hostWritten |= P.PARAMS;
    return this.hostParams;
  }

  get stats(): Float32Array {
    this.download(P.STATS);
    this.hostWritten |= P.STATS;
    return this.hostStats;
  }

  get grads(): Float32Array {
    this.download(P.GRADS);
    return this.hostGrads;
  }

  resetProfile(): void {}

  setOptimizer(spec: OptimizerSpec, options: RegularizationOptions = {}): void {
    this.check();
    checkRegularization(options);
    let next = 0;
    // The optimizer's state buffers are the shared ones (zeroed: a fresh optimizer).
    this.optimizer = createOptimizer(spec, this.paramCount, () => this.hostState[next++]!.fill(0));
    this.clipping = options.clipNorm != null;
    this.args[P.ARG_OPTIMIZER] = GRADIENT_OPTIMIZER_TYPES.indexOf(spec.type);
    this.args[P.ARG_WEIGHT_DECAY] = options.weightDecay ?? 0;
    this.args[P.ARG_CLIP_NORM] = options.clipNorm ?? 0;
    this.deviceNewer &= ~P.STATE;
    this.call(P.Command.SetOptimizer, this.uploads(), 0);
  }

  trainStep(B: number, lr: number, step = 0, momentum: number | null = null): number {
    this.check();
    checkBatch(B, this.maxBatch);
    checkLearningRate(lr);
    const optimizer = this.requireOptimizer();
    optimizer.beginStep(momentum);
    optimizer.stepConstants(lr, this.constants);
    this.args.set(this.constants, P.ARG_CONSTANTS);
    this.args[P.ARG_LR] = lr;
    this.ctl[P.STEP] = step;
    this.call(P.Command.Train, this.uploads(), B);
    this.submitted++;
    this.deviceNewer |= P.PARAMS | P.STATE | P.STATS | P.GRADS;
    return NaN;
  }

  /**
   * The losses of the training steps not yet taken, in step order: those that have come back, or,
   * with `wait`, all of them (waiting for the GPU). Also sets lastGradientNorm (with clipping).
   */
  takeLosses(wait: boolean, into: (loss: number) => void): void {
    this.check();
    if (wait) this.waitFor(P.SETTLED, this.submitted);
    const settled = Atomics.load(this.ctl, P.SETTLED);
    for (; this.taken < settled; this.taken++) {
      const k = 2 * (this.taken % P.LOSS_RING);
      if (this.clipping) this.lastGradientNorm = this.losses[k + 1]!;
      into(this.losses[k]!);
    }
  }

  gradient(B: number, step = 0): number {
    this.check();
    checkBatch(B, this.maxBatch);
    this.ctl[P.STEP] = step;
    this.call(P.Command.Gradient, this.uploads(), B);
    this.deviceNewer |= P.GRADS | P.STATS; // training mode: batch norm's running statistics move too
    return this.args[P.ARG_RESULT]!;
  }

  evaluate(B: number, probabilities?: Float32Array | Float64Array): number {
    this.check();
    checkBatch(B, this.maxBatch);
    if (probabilities) checkOut('evaluate', probabilities, B);
    this.call(P.Command.Infer, this.uploads(), B);
    if (probabilities) for (let s = 0; s < B; s++) probabilities[s] = sigmoid(this.logits[s]!);
    return this.loss.forwardBackward(this.logits, this.labels, B);
  }

  predict(B: number, out: Float32Array | Float64Array): void {
    this.check();
    checkBatch(B, this.maxBatch);
    checkOut('predict', out, B);
    this.call(P.Command.Infer, this.uploads(), B);
    for (let s = 0; s < B; s++) out[s] = sigmoid(this.logits[s]!);
  }

  getOptimizerState(): OptimizerState {
    this.check();
    const optimizer = this.requireOptimizer();
    this.download(P.STATE);
    return optimizer.getState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.check();
    this.requireOptimizer().setState(state);
    this.deviceNewer &= ~P.STATE;
    this.hostWritten |= P.STATE;
  }

  holdImages(images: HeldImages): string | null {
    this.check();
    const { count, width, height, channels, decodeWidth, decodeHeight, pixels, table } = images;
    if (pixels.length !== count * decodeWidth * decodeHeight * channels || width > decodeWidth || height > decodeHeight || width * height * channels !== shapeSize(this.plan.input)) {
      throw new RangeError(`holdImages: ${count} images of ${decodeWidth}x${decodeHeight}x${channels} in ${pixels.length} bytes, windows ${width}x${height}, for an input of ${shapeSize(this.plan.input)} values`);
    }
    if (table.length !== channels * 256) throw new RangeError(`holdImages: the table has ${table.length} values for ${channels} channels`);
    const message: P.ImagesMessage = { images };
    this.worker.postMessage(message);
    this.call(P.Command.HoldImages, 0, 0); // uploads nothing else: what the host wrote goes with the next call
    if (this.args[P.ARG_RESULT] !== 1) return P.readText(this.shared.control);
    this.rows = new BatchRows(this.shared.rows, this.maxBatch);
    return null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.broken === null) {
      try {
        this.call(P.Command.Close, 0, 0, true);
      } catch {
        // a broken device: the thread is ended below all the same
      }
    }
    // The GPU thread has destroyed its device before answering Close, so it is outside any Dawn
    // call now (ending a thread inside one is fatal to the process). Dawn's instance would keep it
    // alive: it is ended here.
    await this.worker.terminate();
  }

  /** Brings `what` back from the GPU if its copy there is newer. */
  private download(what: number): void {
    if (this.closed || !(this.deviceNewer & what)) return;
    this.call(P.Command.Download, what & this.deviceNewer, 0);
    this.deviceNewer &= ~what;
  }

  /** The flags of what the next GPU call must upload first (and forgets them). */
  private uploads(): number {
    const flags = this.hostWritten;
    this.hostWritten = 0;
    return flags;
  }

  /** Posts a command and sleeps until the GPU thread has taken it (or, for reads, answered it). */
  private call(cmd: P.Command, flags: number, B: number, closing = false): void {
    if (!closing) this.check();
    const { ctl } = this;
    ctl[P.CMD] = cmd;
    ctl[P.FLAGS] = flags;
    ctl[P.BATCH] = B;
    const seq = ++this.seq;
    Atomics.store(ctl, P.SEQ, seq);
    Atomics.notify(ctl, P.SEQ);
    this.waitFor(P.DONE, seq);
  }

  /** Sleeps until ctl[word] >= target; a failure on the GPU thread or a stall throws a CoreError. */
  private waitFor(word: number, target: number): void {
    const { ctl } = this;
    const started = performance.now();
    for (;;) {
      const now = Atomics.load(ctl, word);
      if (ctl[P.STATUS] !== 0) this.fail(P.readText(this.shared.control));
      if (now >= target) return;
      Atomics.wait(ctl, word, now, 1000);
      if (performance.now() - started > STALL_MS) this.fail(`no answer from the GPU in ${STALL_MS / 1000} s`);
    }
  }

  private fail(message: string): never {
    this.broken = message;
    throw new CoreError(`GPU core: ${message}`);
  }

  private requireOptimizer(): Optimizer {
    if (!this.optimizer) throw new Error('gradient core: call setOptimizer before training');
    return this.optimizer;
  }

  private check(): void {
    if (this.closed) throw new CoreError('gradient core: the core is closed');
    if (this.broken !== null) throw new CoreError(`GPU core: ${this.broken}`);
  }
}
