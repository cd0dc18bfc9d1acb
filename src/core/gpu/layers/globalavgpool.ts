/** Global average pooling on the GPU: kernels globalavgpool-forward and globalavgpool-backward. */
import { dispatch1d, type GpuLayerPart } from './context.ts';

export const globalavgpoolGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const P = layer.input.height * layer.input.width;
    const C = layer.input.channels;
    const dims = ctx.uniform([P, C, 0, 0]);
    const forward = ctx.pipeline('globalavgpool-forward');
    const backward = dx ? ctx.pipeline('globalavgpool-backward') : null;
    const forwardGroup = ctx.bind(forward, [ctx.step, dims, x, y]);
    const backwardGroup = backward && dx ? ctx.bind(backward, [ctx.step, dims, dy, dx]) : null;
    return {
      forward(pass, B) {
        pass.setPipeline(forward);
        pass.setBindGroup(0, forwardGroup);
        dispatch1d(pass, B * C);
      },
      backward(pass, B) {
        if (!backward || !backwardGroup) return;
        pass.setPipeline(backward);
        pass.setBindGroup(0, backwardGroup);
        dispatch1d(pass, B * P * C);
      },
    };
  },
};
