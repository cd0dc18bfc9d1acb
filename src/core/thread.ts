/**
 * One thread's share of each job of the gradient core. The main thread (thread 0) and every worker
 * run this same code on their own instance of the kernels over the shared memory. A job runs either
 * split between all T threads or, for small layers, on the main thread alone ("solo", as thread 0
 * of 1); the shares of both cases are computed once (ThreadPlan).
 *
 * Shapes (B = batch size, row-major, offsets in layout.ts):
 *   forward l    Z_l (B, nOut) = A_{l-1} W_l^T + b_l   rows o of Z split between threads, then
 *                A_l = f(Z_l) on the same rows; A_{-1} is the input batch. With `pack`, the layer's
 *                input is also copied into panels (Xp) for the weight gradient, panels split.
 *   backward l   (parts chosen by BACKWARD_* flags)
 *                input:   dA_{l-1} = dZ_l W_l   columns of dA split; then dZ_{l-1} = dA_{l-1} * f'(Z_{l-1})
 *                         on the same columns
 *                weights: dW_l = dZ_l^T A_{l-1} and db_l = sum_s dZ_l, rows split
 *                update:  (layer 0, the last backward job of a step) then the optimizer step on this
 *                         thread's part of the parameters, no barrier needed (see updatePlan)
 *   norm         squared norms of fixed blocks of the (decayed) gradient, blocks split
 *   update       the optimizer step on this thread's part of the parameters
 *   population   forward passes of whole population members, one member per thread at a time
 */
import { LOSSES, type Loss, type LossName } from '../nn/losses.ts';
import type { KernelExports } from './kernels.ts';
import type { CoreLayout, ThreadLayout } from './layout.ts';
import { share, type ParamRange } from './split.ts';
import { Control, FAULT, JOB, W } from './sync.ts';

/** Parts of a backward job (bit flags). */
export const BACKWARD_INPUT = 1;
export const BACKWARD_WEIGHTS = 2;
export const BACKWARD_UPDATE = 4;

/** Row splits at multiples of 4 (the forward tile; the weight gradient pairs rows 2r, 2r + 1). */
const ROW_ALIGN = 4;
/** Column and element splits at multiples of 16 floats: whole cache lines and SIMD vectors. */
const COLUMN_ALIGN = 16;

/** A thread's share of one layer: output rows [o0, o1), input columns [c0, c1), panels [p0, p1). */
interface LayerShare {
  o0: number;
  o1: number;
  c0: number;
  c1: number;
  p0: number;
  p1: number;
}

/** Everything thread t of T does, computed once. */
export interface ThreadPlan {
  layers: LayerShare[];
  update: ParamRange[];
  normBlocks: [number, number];
}

export function threadPlan(layout: CoreLayout, t: number, T: number): ThreadPlan {
  return {
    layers: layout.layers.map((layer) => {
      const [o0, o1] = share(layer.shape.nOut, t, T, ROW_ALIGN);
      const [c0, c1] = share(layer.shape.nIn, t, T, COLUMN_ALIGN);
      const [p0, p1] = share(layer.panels, t, T);
      return { o0, o1, c0, c1, p0, p1 };
    }),
    update: updatePlan(layout, t, T),
    normBlocks: share(layout.normBlocks.length, t, T),
  };
}

/**
 * Thread t's part of the parameters for the optimizer step: the rows of layer 0 whose gradient it
 * computed (so its update can follow its weight gradient with no barrier), and a share of the
 * weights and biases of every other layer (whose gradients are complete before layer 0's job).
 */
export function updatePlan(layout: CoreLayout, t: number, T: number): ParamRange[] {
  const ranges: ParamRange[] = [];
  layout.layers.forEach((layer, l) => {
    const { nIn, nOut, wOffset, bOffset } = layer.shape;
    if (l === 0) {
      const [o0, o1] = share(nOut, t, T, ROW_ALIGN);
      if (o0 < o1) {
        ranges.push({ start: wOffset + o0 * nIn, length: (o1 - o0) * nIn, isWeight: true });
        ranges.push({ start: bOffset + o0, length: o1 - o0, isWeight: false });
      }
      return;
    }
    const [w0, w1] = share(nIn * nOut, t, T, COLUMN_ALIGN);
    if (w0 < w1) ranges.push({ start: wOffset + w0, length: w1 - w0, isWeight: true });
    const [b0, b1] = share(nOut, t, T, ROW_ALIGN);
    if (b0 < b1) ranges.push({ start: bOffset + b0, length: b1 - b0, isWeight: false });
  });
  return ranges;
}

export class ThreadRunner {
  private readonly scratch: ThreadLayout;
  private readonly split: ThreadPlan;
  private readonly solo: ThreadPlan;
  private readonly labels: Float32Array;
  private readonly popLogits: Float32Array | null;
  private readonly losses: Float64Array;
  private readonly partials: Float64Array;
  private readonly loss: Loss;

  constructor(
    private readonly k: KernelExports,
    private readonly layout: CoreLayout,
    memory: WebAssembly.Memory,
    private readonly control: Control,
    /** This thread's index: 0 for the main thread. */
    readonly thread: number,
    lossName: LossName,
  ) {
    const buffer = memory.buffer;
    this.scratch = layout.threads[thread]!;
    this.split = threadPlan(layout, thread, layout.threadCount);
    this.solo = threadPlan(layout, 0, 1);
    this.labels = new Float32Array(buffer, layout.labelBatch, layout.maxBatch);
    const lastZ = this.scratch.popZ[layout.layers.length - 1];
    this.popLogits = lastZ === undefined ? null : new Float32Array(buffer, lastZ, layout.maxBatch);
    this.losses = new Float64Array(buffer, layout.losses, Math.max(layout.populationSize, 1));
    this.partials = new Float64Array(buffer, layout.normPartials, layout.normBlocks.length);
    this.loss = LOSSES[lossName];
  }

  /** Worker side: runs this thread's share of the job published in the control block. */
  runPublished(): void {
    const words = this.control.words;
    this.checkFault();
    this.run(words[W.JOB]!, words[W.ARGS]!, words[W.ARGS + 1]!, words[W.ARGS + 2]!, false);
  }

  /** Runs this thread's share of a job; `solo`: the whole job on this (the main) thread. */
  run(job: number, a0: number, a1: number, a2: number, solo: boolean): void {
    const plan = solo ? this.solo : this.split;
    switch (job) {
      case JOB.FORWARD:
        return this.forward(a0, a1, a2 !== 0, plan);
      case JOB.BACKWARD:
        return this.backward(a0, a1, a2, plan);
      case JOB.NORM:
        return this.norm(plan);
      case JOB.UPDATE:
        return this.update(plan);
      case JOB.POPULATION:
        return this.population(a0, a1);
      case JOB.NOOP:
        return;
      default:
        throw new Error(`unknown job ${job}`);
    }
  }

  private forward(l: number, B: number, pack: boolean, plan: ThreadPlan): void {
    const { k, layout } = this;
    const layer = layout.layers[l]!;
    const { o0, o1, p0, p1 } = plan.layers[l]!;
    const { nIn, nOut, wOffset, bOffset, isOutput } = layer.shape;
    const input = l === 0 ? layout.inputBatch : layout.layers[l - 1]!.A;
    if (pack && p0 < p1) k.packPanels(input, nIn, B, layer.Xp, p0, p1);
    if (o0 === o1) return;
    k.denseForward(input, nIn, layout.params + 4 * wOffset, nIn, layout.params + 4 * bOffset, layer.Z, nOut, B, o0, o1);
    if (!isOutput) k.activationForward(layer.activationKind, layer.Z, layer.A, nOut, B, o0, o1);
  }

  private backward(l: number, B: number, parts: number, plan: ThreadPlan): void {
    const { k, layout, scratch } = this;
    const layer = layout.layers[l]!;
    const { o0, o1, c0, c1 } = plan.layers[l]!;
    const { nIn, nOut, wOffset, bOffset } = layer.shape;
    if ((parts & BACKWARD_INPUT) !== 0 && c0 < c1) {
      const W = layout.params + 4 * wOffset;
      if (l > 0) {
        const prev = layout.layers[l - 1]!;
        k.inputGradient(layer.dZ, nOut, W, nIn, B, c0, c1, prev.dA, scratch.lists, scratch.counts, scratch.panel);
        k.activationBackward(prev.activationKind, prev.Z, prev.A, prev.dA, prev.dZ, nIn, B, c0, c1);
      } else {
        // Training never needs the gradient of the input; the benchmark measures it, into the batch buffer.
        k.inputGradient(layer.dZ, nOut, W, nIn, B, c0, c1, layout.inputBatch, scratch.lists, scratch.counts, scratch.panel);
      }
    }
    if ((parts & BACKWARD_WEIGHTS) !== 0 && o0 < o1) {
      k.weightGradient(layer.dZ, nOut, layer.Xp, nIn, B, o0, o1, layout.grads + 4 * wOffset, layout.grads + 4 * bOffset, scratch.lists, scratch.counts);
    }
    if ((parts & BACKWARD_UPDATE) !== 0) this.update(plan);
  }

  private update(plan: ThreadPlan): void {
    const { k, layout } = this;
    for (const r of plan.update) k.applyUpdate(layout.step, r.start, r.length, r.isWeight ? 1 : 0);
  }

  private norm(plan: ThreadPlan): void {
    const { k, layout, partials } = this;
    const [b0, b1] = plan.normBlocks;
    for (let b = b0; b < b1; b++) {
      const r = layout.normBlocks[b]!;
      partials[b] = k.sumSquares(layout.step, r.start, r.length, r.isWeight ? 1 : 0);
    }
  }

  /** Forward passes of population members taken one at a time from a shared counter. */
  private population(count: number, B: number): void {
    const { k, layout, scratch } = this;
    const words = this.control.words;
    const P = layout.paramCount;
    for (;;) {
      const i = Atomics.add(words, W.POP_NEXT, 1);
      if (i >= count) return;
      const params = layout.population + 4 * P * i;
      let input = layout.inputBatch;
      for (let l = 0; l < layout.layers.length; l++) {
        const layer = layout.layers[l]!;
        const { nIn, nOut, wOffset, bOffset, isOutput } = layer.shape;
        const Z = scratch.popZ[l]!;
        const A = scratch.popA[l]!;
        k.denseForward(input, nIn, params + 4 * wOffset, nIn, params + 4 * bOffset, Z, nOut, B, 0, nOut);
        if (!isOutput) k.activationForward(layer.activationKind, Z, A, nOut, B, 0, nOut);
        input = A;
      }
      this.losses[i] = this.loss.forwardBackward(this.popLogits!, this.labels, B);
    }
  }

  /** The test hook (Core._injectFault): fail now if this thread was told to. */
  private checkFault(): void {
    const words = this.control.words;
    if (Atomics.load(words, W.FAULT_THREAD) !== this.thread + 1) return;
    const kind = Atomics.load(words, W.FAULT_KIND);
    Atomics.store(words, W.FAULT_THREAD, 0);
    if (kind === FAULT.THROW) throw new Error(`fault injected in thread ${this.thread}`);
    if (kind === FAULT.EXIT) process.exit(1);
    if (kind === FAULT.HANG) for (;;) Atomics.wait(words, W.FAULT_KIND, kind, 1000);
  }
}
