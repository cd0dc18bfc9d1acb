/** Dense on the GPU: kernels dense-forward, dense-weight-grad, dense-input-grad (src/nn/layers/dense.ts is the math). */
import type { DenseSpec } from '../../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../../nn/plan.ts';
import { shapeSize } from '../../../nn/shape.ts';
import { NONE } from '../kernels/common.ts';
import { dispatch1d, type GpuLayerPart } from './context.ts';

export const denseGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const spec = (layer as PlannedLayer<DenseSpec>).spec;
    const nIn = shapeSize(layer.input);
    const nOut = spec.units;
    const weights = layer.params.find((p) => p.name === 'weights')!;
    const bias = layer.params.find((p) => p.name === 'bias');
    const dims = ctx.uniform([nIn, nOut, weights.offset, bias ? bias.offset : NONE]);
    const forward = ctx.pipeline('dense-forward');
    const weightGrad = ctx.pipeline('dense-weight-grad');
    const inputGrad = dx ? ctx.pipeline('dense-input-grad') : null;
    const forwardGroup = ctx.bind(forward, [ctx.step, dims, x, ctx.params, y]);
    const weightGroup = ctx.bind(weightGrad, [ctx.step, dims, x, dy, ctx.grads]);
    const inputGroup = inputGrad && dx ? ctx.bind(inputGrad, [ctx.step, dims, dy, ctx.params, dx]) : null;
    return {
      forward(pass, B) {
        pass.setPipeline(forward);
        pass.setBindGroup(0, forwardGroup);
        dispatch1d(pass, B * nOut);
      },
      backward(pass, B) {
        pass.setPipeline(weightGrad);
        pass.setBindGroup(0, weightGroup);
        dispatch1d(pass, nOut * nIn + (bias ? nOut : 0));
        if (inputGrad && inputGroup) {
          pass.setPipeline(inputGrad);
          pass.setBindGroup(0, inputGroup);
          dispatch1d(pass, B * nIn);
        }
      },
    };
  },
};
