/**
 * What one thread does with a job: its share of one step of one layer, or of the optimizer pass.
 * The main thread runs it for its own share (or for the whole job, when a job is too small to
 * split); each worker runs it for the job published in the control block.
 *
 * Jobs (sync.ts JOB), with their arguments:
 *   forward l    B, mode | step << 1, noise key    the driver of layer l (layers/driver.ts); the key as int32 bits
 *   backward l   B, step                           the driver of layer l
 *   norm         squared norms of fixed blocks of the (decayed) gradient, blocks split
 *   update       the optimizer step on this thread's share of every parameter range
 * Every split gives each output value to exactly one thread and never cuts a sum, so the results
 * do not depend on the number of threads.
 */
import type { NetworkPlan } from '../nn/plan.ts';
import type { KernelExports } from './kernels.ts';
import { prepareLayers } from './layers/fusion.ts';
import type { PreparedLayer } from './layers/index.ts';
import type { CoreLayout } from './layout.ts';
import { share, type ParamRange } from './split.ts';
import { Control, JOB, W } from './sync.ts';

/** Element splits of the optimizer pass at multiples of 16 floats: whole cache lines and SIMD vectors. */
const ELEMENT_ALIGN = 16;

/** Thread t of T's part of every parameter range, for the optimizer step. */
export function updateShare(layout: CoreLayout, t: number, T: number): ParamRange[] {
  const ranges: ParamRange[] = [];
  for (const r of layout.paramRanges) {
    const [a, b] = share(r.length, t, T, ELEMENT_ALIGN);
    if (a < b) ranges.push({ start: r.start + a, length: b - a, isWeight: r.isWeight });
  }
  return ranges;
}

export class ThreadRunner {
  /** Every layer prepared for this thread (layers/driver.ts), folded where it can be (layers/fusion.ts): nothing is worked out again per batch. */
  private readonly layers: PreparedLayer[];
  private readonly threadCount: number;
  private readonly splitUpdate: ParamRange[];
  private readonly soloUpdate: ParamRange[];
  private readonly splitBlocks: [number, number];
  private readonly partials: Float64Array;

  constructor(
    private readonly k: KernelExports,
    plan: NetworkPlan,
    private readonly layout: CoreLayout,
    memory: WebAssembly.Memory,
    private readonly control: Control,
    /** This thread's index: 0 for the main thread. */
    readonly thread: number,
  ) {
    const T = layout.threadCount;
    this.threadCount = T;
    this.layers = prepareLayers(k, plan, layout.layers[thread]!);
    this.splitUpdate = updateShare(layout, thread, T);
    this.soloUpdate = updateShare(layout, 0, 1);
    this.splitBlocks = share(layout.normBlocks.length, thread, T);
    this.partials = new Float64Array(memory.buffer, layout.normPartials, layout.normBlocks.length);
  }

  /** Worker side: runs this thread's share of the job published in the control block. */
  runPublished(): void {
    const words = this.control.words;
    this.run(words[W.JOB]!, words[W.ARGS]!, words[W.ARGS + 1]!, words[W.ARGS + 2]!, words[W.ARGS + 3]!, false);
  }

  /** Runs this thread's share of a job; `solo`: the whole job on this (the main) thread. */
  run(job: number, a0: number, a1: number, a2: number, a3: number, solo: boolean): void {
    const t = solo ? 0 : this.thread;
    const T = solo ? 1 : this.threadCount;
    switch (job) {
      case JOB.FORWARD:
        return this.layers[a0]!.forward(a1, (a2 & 1) !== 0 ? 'train' : 'infer', a3, a2 >>> 1, t, T);
      case JOB.BACKWARD:
        return this.layers[a0]!.backward(a1, a2, t, T);
      case JOB.NORM:
        return solo ? this.norm(0, this.layout.normBlocks.length) : this.norm(this.splitBlocks[0], this.splitBlocks[1]);
      case JOB.UPDATE:
        for (const r of solo ? this.soloUpdate : this.splitUpdate) this.k.applyUpdate(this.layout.step, r.start, r.length, r.isWeight ? 1 : 0);
        return;
      case JOB.NOOP:
        return;
      default:
        throw new Error(`unknown job ${job}`);
    }
  }

  private norm(b0: number, b1: number): void {
    const { k, layout, partials } = this;
    for (let b = b0; b < b1; b++) {
      const r = layout.normBlocks[b]!;
      partials[b] = k.sumSquares(layout.step, r.start, r.length, r.isWeight ? 1 : 0);
    }
  }
}
