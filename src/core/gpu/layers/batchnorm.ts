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
import { dispatch1d, type GpuLayerPart } from './context.ts';

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
    const pipes = {
      blocks: ctx.pipeline('batchnorm-blocks'),
      stats: ctx.pipeline('batchnorm-stats'),
      normalize: ctx.pipeline('batchnorm-normalize'),
      infer: ctx.pipeline('batchnorm-infer'),
      sumsBlocks: ctx.pipeline('batchnorm-sums-blocks'),
      sums: ctx.pipeline('batchnorm-sums'),
      inputGrad: ctx.pipeline('batchnorm-input-grad'),
    };
    const groups = {
      blocks: ctx.bind(pipes.blocks, [ctx.step, dims, x, partials]),
      stats: ctx.bind(pipes.stats, [ctx.step, dims, partials, batch, ctx.stats]),
      normalize: ctx.bind(pipes.normalize, [ctx.step, dims, x, batch, ctx.params, xhat, y]),
      infer: ctx.bind(pipes.infer, [ctx.step, dims, x, ctx.params, ctx.stats, y]),
      sumsBlocks: ctx.bind(pipes.sumsBlocks, [ctx.step, dims, dy, xhat, partials]),
      sums: ctx.bind(pipes.sums, [ctx.step, dims, partials, ctx.grads]),
      inputGrad: dx ? ctx.bind(pipes.inputGrad, [ctx.step, dims, dy, xhat, batch, ctx.params, ctx.grads, dx]) : null,
    };
    return {
      forward(pass, B, mode) {
        if (mode === 'infer') {
          pass.setPipeline(pipes.infer);
          pass.setBindGroup(0, groups.infer);
          dispatch1d(pass, B * P * C);
          return;
        }
        pass.setPipeline(pipes.blocks);
        pass.setBindGroup(0, groups.blocks);
        dispatch1d(pass, blocks(B) * C);
        pass.setPipeline(pipes.stats);
        pass.setBindGroup(0, groups.stats);
        dispatch1d(pass, C);
        pass.setPipeline(pipes.normalize);
        pass.setBindGroup(0, groups.normalize);
        dispatch1d(pass, B * P * C);
      },
      backward(pass, B) {
        pass.setPipeline(pipes.sumsBlocks);
        pass.setBindGroup(0, groups.sumsBlocks);
        dispatch1d(pass, blocks(B) * C);
        pass.setPipeline(pipes.sums);
        pass.setBindGroup(0, groups.sums);
        dispatch1d(pass, C);
        if (!groups.inputGrad) return;
        pass.setPipeline(pipes.inputGrad);
        pass.setBindGroup(0, groups.inputGrad);
        dispatch1d(pass, B * P * C);
      },
    };
  },
};
