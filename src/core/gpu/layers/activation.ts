/** Every activation on the GPU: kernels activation-forward and activation-backward, the function a pipeline constant. */
import type { ActivationName } from '../../../nn/activations.ts';
import { shapeSize } from '../../../nn/shape.ts';
import { activationId } from '../kernels/activation-ids.ts';
import { dispatch1d, type GpuLayerPart } from './context.ts';

export const activationGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const size = shapeSize(layer.output);
    const constants = { ACT: activationId(layer.spec.type as ActivationName) };
    const dims = ctx.uniform([size, 0, 0, 0]);
    const forward = ctx.pipeline('activation-forward', constants);
    const backward = dx ? ctx.pipeline('activation-backward', constants) : null;
    const forwardGroup = ctx.bind(forward, [ctx.step, dims, x, y]);
    const backwardGroup = backward && dx ? ctx.bind(backward, [ctx.step, dims, x, y, dy, dx]) : null;
    return {
      forward(pass, B) {
        pass.setPipeline(forward);
        pass.setBindGroup(0, forwardGroup);
        dispatch1d(pass, B * size);
      },
      backward(pass, B) {
        if (!backward || !backwardGroup) return; // layer 0: nothing needs dL/dX of the input batch
        pass.setPipeline(backward);
        pass.setBindGroup(0, backwardGroup);
        dispatch1d(pass, B * size);
      },
    };
  },
};
