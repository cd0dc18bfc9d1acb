/**
 * Batch normalization in the gradient core (the reference: src/nn/layers/batchnorm.ts; the kernels
 * and their formulas: src/core/kernels/batchnorm.as.ts). x is (M, C), M = B * H * W rows.
 *
 * The per-channel sums are the only sums over many rows. They are cut into blocks of R rows, R a
 * function of C alone, so the partial sums and the order in which they are added (block order, in
 * double) never depend on the thread count:
 *   forward, train   step 0: threads share the blocks (block sums and centred squares)
 *                    step 1: every thread adds all partials (2 C per block, 1/16 of x or less)
 *                            to get the statistics, thread 0 also keeps mean and invstd for
 *                            backward and updates the running statistics; threads share the rows of y
 *   forward, infer   one step: each thread takes the running statistics, shares the rows of y
 *   backward         step 0: threads share the blocks (sums of dy and dy (x - mean))
 *                    step 1: every thread adds all partials; thread 0 writes dgamma and dbeta;
 *                            threads share the rows of dx
 * The saved xhat of the reference is not written: backward recomputes (x - mean) from x, the
 * layer's input, which the walk keeps until backward; that saves writing and reading M C floats.
 *
 * Buffers: partials (2 C floats per block, shared), mean (2 C floats, hi and lo, shared: forward ->
 * backward) and each thread's scratch: 2 C doubles for adding up the partials, then 5 C floats: in
 * forward mean (hi, lo), scale, shift and invstd (thread 0 keeps its mean and invstd in the shared
 * buffers for backward instead), in backward the 3 coefficients of dx.
 */
import type { BatchNormSpec } from '../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../nn/plan.ts';
import { shapeSize } from '../../nn/shape.ts';
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

/** Rows a thread's share of rows starts on (whole cache lines once rows are 4 floats wide). */
const ROW_ALIGN = 16;

/**
 * Rows per block of the per-channel sums: a function of the channel count only. Small blocks keep
 * the second pass of the forward sums in L1, but every thread adds up the partials of all blocks
 * (2 C floats each), which costs more than it saves below about 32 rows, or C / 2 rows for wide
 * layers (timed at the reference CNN's shapes).
 */
export function blockRows(channels: number): number {
  return Math.max(32, Math.floor(channels / 2));
}

function sizes(layer: PlannedLayer<BatchNormSpec>, B: number): { C: number; M: number; R: number; blocks: number } {
  const C = layer.input.channels;
  const M = B * layer.input.height * layer.input.width;
  const R = blockRows(C);
  return { C, M, R, blocks: Math.ceil(M / R) };
}

export const batchnorm: CoreLayer<BatchNormSpec> = {
  type: 'batchnorm',
  buffers(layer, maxBatch) {
    const { C, blocks } = sizes(layer, maxBatch);
    return [
      { name: 'partials', bytes: 4 * 2 * C * blocks, perThread: false },
      { name: 'mean', bytes: 4 * 2 * C, perThread: false },
      { name: 'scratch', bytes: 8 * 2 * C + 4 * 5 * C, perThread: true },
    ];
  },
  forwardSteps: (_layer, mode) => (mode === 'train' ? 2 : 1),
  backwardSteps: () => 2,
  work: (layer, B) => 3 * B * shapeSize(layer.input),
  forward(k, layer, a, B, mode, _noiseKey, step, { t, T }) {
    const { momentum, epsilon } = layer.spec;
    const { C, M, R, blocks } = sizes(layer, B);
    const sums = a.buffers.scratch!;
    const scratch = sums + 8 * 2 * C;
    const coefs = scratch + 4 * 2 * C; // scale, shift
    const [r0, r1] = share(M, t, T, ROW_ALIGN);
    if (mode === 'infer') {
      k.batchnormInferScale(a.params.gamma!, a.stats.variance!, epsilon, C, coefs);
      k.batchnormNormalize(a.x, a.y, C, r0, r1, a.stats.mean!, coefs, a.params.beta!);
    } else if (step === 0) {
      const [b0, b1] = share(blocks, t, T);
      k.batchnormBlockStats(a.x, C, M, R, b0, b1, a.buffers.partials!);
    } else {
      // Thread 0 keeps mean and invstd where backward reads them; the others only need them now.
      const keeper = t === 0;
      const mean = keeper ? a.buffers.mean! : scratch;
      const invstd = keeper ? a.saved.invstd! : scratch + 4 * 4 * C;
      k.batchnormTrainStats(
        a.x, a.buffers.partials!, C, M, R, epsilon, a.params.gamma!, a.params.beta!, sums, mean, invstd, coefs,
        momentum, keeper ? a.stats.mean! : 0, keeper ? a.stats.variance! : 0,
      );
      k.batchnormNormalize(a.x, a.y, C, r0, r1, mean, coefs, coefs + 4 * C);
    }
  },
  backward(k, layer, a, B, step, { t, T }) {
    const { C, M, R, blocks } = sizes(layer, B);
    const partials = a.buffers.partials!;
    const mean = a.buffers.mean!;
    if (step === 0) {
      const [b0, b1] = share(blocks, t, T);
      k.batchnormBackwardBlocks(a.x, a.dy, mean, C, M, R, b0, b1, partials);
      return;
    }
    if (t !== 0 && a.dx === 0) return;
    const sums = a.buffers.scratch!;
    const coefs = sums + 8 * 2 * C;
    const writesGrads = t === 0;
    k.batchnormBackwardCoefficients(
      partials, C, M, blocks, a.params.gamma!, mean, a.saved.invstd!, writesGrads ? a.grads.gamma! : 0, writesGrads ? a.grads.beta! : 0, sums, coefs,
    );
    if (a.dx === 0) return;
    const [r0, r1] = share(M, t, T, ROW_ALIGN);
    k.batchnormBackwardApply(a.x, a.dy, a.dx, mean, coefs, C, r0, r1);
  },
};
