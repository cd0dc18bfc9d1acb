/**
 * Batch norm on the GPU: batchnorm-blocks then batchnorm-stats (per channel, over blocks of rows;
 * also the running statistics) and batchnorm-normalize in training, batchnorm-infer in inference;
 * batchnorm-sums-blocks then batchnorm-sums (dgamma, dbeta), then batchnorm-input-grad backward.
 * The blocks' partial sums: 2 floats per block of BATCHNORM_BLOCK_ROWS rows and channel, 1/128 of
 * the layer's output or less.
 */
import type { BatchNormSpec } from '../../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../../nn/plan.ts';
import { BATCHNORM_BLOCK_ROWS } from '../kernels/batchnorm-common.ts';
import { bindKernel, run1d, type GpuLayerPart } from './context.ts';

export const batchnormGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const spec = (layer as PlannedLayer<BatchNormSpec>).spec;
    const C = layer.input.channels;
    const P = layer.input.height * layer.input.width;
    const at = (slices: { name: string; offset: number }[], name: string) => slices.find((s) => s.name === name)!.offset;
    const words = new Uint32Array(8);
    words.set([C, P, at(layer.params, 'gamma'), at(layer.params, 'beta'), at(layer.stats, 'mean'), at(layer.stats, 'variance')]);
    const floats = new Float32Array(words.buffer);
    floats[6] = spec.momentum;
    floats[7] = spec.epsilon;
    const dims = ctx.uniform(words);
    const batch = ctx.storage(2 * C);
    const xhat = ctx.storage(ctx.maxBatch * P * C);
    const blocks = (B: number) => Math.ceil((B * P) / BATCHNORM_BLOCK_ROWS);
    const partials = ctx.storage(2 * C * blocks(ctx.maxBatch));
    const kernels = {
      blocks: bindKernel(ctx, 'batchnorm-blocks', [ctx.step, dims, x, partials]),
      stats: bindKernel(ctx, 'batchnorm-stats', [ctx.step, dims, partials, batch, ctx.stats]),
      normalize: bindKernel(ctx, 'batchnorm-normalize', [ctx.step, dims, x, batch, ctx.params, xhat, y]),
      infer: bindKernel(ctx, 'batchnorm-infer', [ctx.step, dims, x, ctx.params, ctx.stats, y]),
      sumsBlocks: bindKernel(ctx, 'batchnorm-sums-blocks', [ctx.step, dims, dy, xhat, partials]),
      sums: bindKernel(ctx, 'batchnorm-sums', [ctx.step, dims, partials, ctx.grads]),
      inputGrad: dx ? bindKernel(ctx, 'batchnorm-input-grad', [ctx.step, dims, dy, xhat, batch, ctx.params, ctx.grads, dx]) : null,
    };
    return {
      forward(pass, B, mode) {
        if (mode === 'infer') return run1d(pass, kernels.infer, B * P * C);
        run1d(pass, kernels.blocks, blocks(B) * C);
        run1d(pass, kernels.stats, C);
        run1d(pass, kernels.normalize, B * P * C);
      },
      backward(pass, B) {
        run1d(pass, kernels.sumsBlocks, blocks(B) * C);
        run1d(pass, kernels.sums, C);
        if (kernels.inputGrad) run1d(pass, kernels.inputGrad, B * P * C);
      },
    };
  },
};
