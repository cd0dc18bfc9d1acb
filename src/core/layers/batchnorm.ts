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
 * A ReLU right after the batch norm is folded in (prepareWithRelu, fusion.ts): forward writes
 * relu(y) into the ReLU's output, and backward takes the ReLU's dy, gated by y > 0 with y
 * recomputed from x (thread 0 keeps the training pass's scale and shift for that): two passes
 * over the activations fewer each way, and the bits of the two layers apart. With a max pool
 * after the ReLU, forward's last step is the max pool's forward pass over relu(y), threads
 * sharing the pool's output rows (maxpool.as.ts), and the ReLU's output is never written; the
 * pool's backward pass gates the ReLU's dy, so backward takes it as it is.
 * The reference's saved xhat is not kept (recomputes: the core gives it no memory): backward
 * recomputes (x - mean) from x, the layer's input, which the walk keeps until backward; that saves
 * writing and reading M C floats, and their memory (the reference CNN's four batch norms at batch
 * 64: 64 x 245,760 floats, 60 MiB).
 *
 * Buffers: partials (2 C floats per block, shared), mean (2 C floats, hi and lo, shared: forward ->
 * backward), scaleShift (2 C floats, shared: forward -> backward, read with a ReLU folded in) and
 * each thread's scratch: 2 C doubles for adding up the partials, then 5 C floats: in
 * forward mean (hi, lo), scale, shift and invstd (thread 0 keeps its mean and invstd in the shared
 * buffers for backward instead), in backward the 3 coefficients of dx.
 */
import type { BatchNormSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import type { PlannedLayer } from '../../nn/plan.ts';
import type { KernelExports } from '../kernels.ts';
import { cut } from '../split.ts';
import type { CoreLayer, FoldedPool, LayerAddresses, PreparedLayer } from './driver.ts';

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

export const batchnorm: CoreLayer<BatchNormSpec> = {
  recomputes: ['xhat'],
  buffers(layer, maxBatch) {
    const C = layer.input.channels;
    const blocks = Math.ceil((maxBatch * layer.input.height * layer.input.width) / blockRows(C));
    return [
      { name: 'partials', bytes: 4 * 2 * C * blocks, perThread: false },
      { name: 'mean', bytes: 4 * 2 * C, perThread: false },
      { name: 'scaleShift', bytes: 4 * 2 * C, perThread: false },
      { name: 'scratch', bytes: 8 * 2 * C + 4 * 5 * C, perThread: true },
    ];
  },
  forwardSteps: (_layer, mode) => (mode === 'train' ? 2 : 1),
  backwardSteps: () => 2,
  work: (layer, B) => 3 * B * shapeSize(layer.input),
  prepare: (k, layer, a) => prepareBatchnorm(k, layer, a, false, null),
  prepareWithRelu: (k, layer, a, pool) => prepareBatchnorm(k, layer, a, true, pool),
};

/**
 * The layer on one thread; `relu`: a ReLU is folded in, and y and dy are the ReLU's; `pool`: a max
 * pool after the ReLU too, whose forward pass this layer does (maxpool.as.ts takes every window tap
 * as relu((x - centre) scale + shift)) instead of writing the ReLU's output, and whose backward
 * pass gives dy already gated.
 */
function prepareBatchnorm(
  k: KernelExports,
  layer: PlannedLayer<BatchNormSpec>,
  { x, y, dy, dx, params, grads, stats, saved, buffers }: LayerAddresses,
  relu: boolean,
  pool: FoldedPool | null,
): PreparedLayer {
  const { momentum, epsilon } = layer.spec;
  const C = layer.input.channels;
  const P = layer.input.height * layer.input.width; // rows per sample
  const R = blockRows(C);
  const gamma = params.gamma!;
  const beta = params.beta!;
  const runningMean = stats.mean!;
  const runningVariance = stats.variance!;
  const dGamma = grads.gamma!;
  const dBeta = grads.beta!;
  const invstd = saved.invstd!;
  const partials = buffers.partials!;
  const mean = buffers.mean!;
  const keptScaleShift = buffers.scaleShift!;
  const sums = buffers.scratch!;
  const floats = sums + 8 * 2 * C; // forward: mean (hi, lo), scale, shift, invstd; backward: the 3 coefficients of dx
  const scaleShift = floats + 4 * 2 * C;
  const normalizeRows = relu ? k.batchnormNormalizeRelu : k.batchnormNormalize;
  // Backward applies the ReLU's derivative unless the max pool after it has (maxpool.ts).
  const gated = relu && pool === null;
  /** Thread t of T's share of y = (x - centre) scale + shift (and the ReLU, and the max pool, when folded in). */
  const normalize = pool
    ? (B: number, t: number, T: number, centre: number, scale: number, shift: number, argmax: number): void => {
        const { H, W, Ho, Wo, size, stride } = pool.geometry;
        const r0 = cut(B * Ho, t, T);
        const r1 = cut(B * Ho, t + 1, T);
        if (r0 < r1) k.maxpoolForwardBatchnormRelu(x, pool.y, argmax, H, W, C, Ho, Wo, size, stride, r0, r1, centre, scale, shift);
      }
    : (B: number, t: number, T: number, centre: number, scale: number, shift: number): void => {
        normalizeRows(x, y, C, cut(B * P, t, T, ROW_ALIGN), cut(B * P, t + 1, T, ROW_ALIGN), centre, scale, shift);
      };
  return {
    forward(B, mode, _noiseKey, step, t, T) {
      const M = B * P;
      if (mode === 'infer') {
        k.batchnormInferScale(gamma, runningVariance, epsilon, C, scaleShift);
        normalize(B, t, T, runningMean, scaleShift, beta, 0);
      } else if (step === 0) {
        const blocks = Math.ceil(M / R);
        k.batchnormBlockStats(x, C, M, R, cut(blocks, t, T), cut(blocks, t + 1, T), partials);
      } else {
        // Thread 0 keeps mean, invstd, scale and shift where backward reads them; the others
        // compute the same numbers and only need them now.
        const keeper = t === 0;
        const threadMean = keeper ? mean : floats;
        const threadInvstd = keeper ? invstd : floats + 4 * 4 * C;
        const threadScaleShift = keeper ? keptScaleShift : scaleShift;
        k.batchnormTrainStats(
          x, partials, C, M, R, epsilon, gamma, beta, sums, threadMean, threadInvstd, threadScaleShift,
          momentum, keeper ? runningMean : 0, keeper ? runningVariance : 0,
        );
        normalize(B, t, T, threadMean, threadScaleShift, threadScaleShift + 4 * C, pool ? pool.argmax : 0);
      }
    },
    backward(B, step, t, T) {
      const M = B * P;
      const blocks = Math.ceil(M / R);
      if (step === 0) {
        const b0 = cut(blocks, t, T);
        const b1 = cut(blocks, t + 1, T);
        if (gated) k.batchnormBackwardBlocksRelu(x, dy, mean, keptScaleShift, C, M, R, b0, b1, partials);
        else k.batchnormBackwardBlocks(x, dy, mean, C, M, R, b0, b1, partials);
        return;
      }
      if (t !== 0 && dx === 0) return;
      const writesGrads = t === 0;
      k.batchnormBackwardCoefficients(
        partials, C, M, blocks, gamma, mean, invstd, writesGrads ? dGamma : 0, writesGrads ? dBeta : 0, sums, floats,
      );
      if (dx === 0) return;
      const r0 = cut(M, t, T, ROW_ALIGN);
      const r1 = cut(M, t + 1, T, ROW_ALIGN);
      if (gated) k.batchnormBackwardApplyRelu(x, dy, dx, mean, keptScaleShift, floats, C, r0, r1);
      else k.batchnormBackwardApply(x, dy, dx, mean, floats, C, r0, r1);
    },
  };
}
