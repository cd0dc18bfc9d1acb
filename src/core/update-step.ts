/**
 * The step descriptor: what the WebAssembly update pass (src/core/kernels/update.as.ts) reads to
 * run one optimizer step, at these byte offsets of its block in the shared memory:
 *
 *   4 optimizer kind   8 params   12 grads   16 state 1   20 state 2   24 decay on   28 scale on
 *   32 lambda (f64)   40 clipping scale (f64)   48.. the optimizer's step constants (f64)
 *
 * The step constants come from the optimizer class itself (Optimizer.stepConstants), the one place
 * they are derived, so the core and the TypeScript optimizers cannot drift apart.
 */
import type { Optimizer } from '../optim/optimizer.ts';
import { MAX_STEP_CONSTANTS } from '../optim/optimizer.ts';
import { OPTIMIZER_KIND } from './kernels.ts';

export interface UpdateBuffers {
  params: number;
  grads: number;
  state1: number;
  state2: number;
}

export class UpdateStep {
  private readonly words: Int32Array;
  private readonly numbers: Float64Array;
  private readonly constants: Float64Array;

  constructor(
    private readonly optimizer: Optimizer,
    memory: WebAssembly.Memory,
    offset: number,
    buffers: UpdateBuffers,
    weightDecay: number,
  ) {
    this.words = new Int32Array(memory.buffer, offset, 8);
    this.numbers = new Float64Array(memory.buffer, offset, 6);
    this.constants = new Float64Array(memory.buffer, offset + 48, MAX_STEP_CONSTANTS);
    this.words[1] = OPTIMIZER_KIND[optimizer.type];
    this.words[2] = buffers.params;
    this.words[3] = buffers.grads;
    this.words[4] = buffers.state1;
    this.words[5] = buffers.state2;
    this.words[6] = weightDecay !== 0 ? 1 : 0;
    this.numbers[4] = weightDecay;
  }

  /** The descriptor of the optimizer's current step (after its beginStep) at rate lr, clipping factor `scale` (1: none). */
  write(lr: number, scale: number): void {
    this.words[7] = scale !== 1 ? 1 : 0;
    this.numbers[5] = scale;
    this.optimizer.stepConstants(lr, this.constants);
  }
}
