/** Convolution on the GPU (direct): kernels conv-forward, conv-weight-grad, conv-input-grad. */
import { convGeometry } from '../../../nn/layers/conv.ts';
import type { ConvSpec } from '../../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../../nn/plan.ts';
import { NONE } from '../kernels/common.ts';
import { dispatch1d, type GpuLayerPart } from './context.ts';

export const convGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const g = convGeometry((layer as PlannedLayer<ConvSpec>).spec, layer.input);
    const weights = layer.params.find((p) => p.name === 'weights')!;
    const bias = layer.params.find((p) => p.name === 'bias');
    const dims = ctx.uniform([g.H, g.W, g.C, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, weights.offset, bias ? bias.offset : NONE]);
    const forward = ctx.pipeline('conv-forward');
    const weightGrad = ctx.pipeline('conv-weight-grad');
    const inputGrad = dx ? ctx.pipeline('conv-input-grad') : null;
    const forwardGroup = ctx.bind(forward, [ctx.step, dims, x, ctx.params, y]);
    const weightGroup = ctx.bind(weightGrad, [ctx.step, dims, x, dy, ctx.grads]);
    const inputGroup = inputGrad && dx ? ctx.bind(inputGrad, [ctx.step, dims, dy, ctx.params, dx]) : null;
    const K = g.k * g.k * g.C;
    return {
      forward(pass, B) {
        pass.setPipeline(forward);
        pass.setBindGroup(0, forwardGroup);
        dispatch1d(pass, B * g.Ho * g.Wo * g.F);
      },
      backward(pass, B) {
        pass.setPipeline(weightGrad);
        pass.setBindGroup(0, weightGroup);
        dispatch1d(pass, g.F * K + (bias ? g.F : 0));
        if (inputGrad && inputGroup) {
          pass.setPipeline(inputGrad);
          pass.setBindGroup(0, inputGroup);
          dispatch1d(pass, B * g.H * g.W * g.C);
        }
      },
    };
  },
};
