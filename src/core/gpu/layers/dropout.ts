/** Dropout on the GPU: kernels dropout-forward (training and inference pipelines) and dropout-backward. */
import type { DropoutSpec } from '../../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../../nn/plan.ts';
import { shapeSize } from '../../../nn/shape.ts';
import { dropThreshold } from '../../../random/noise.ts';
import { dispatch1d, type GpuLayerPart } from './context.ts';

export const dropoutGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const { rate } = (layer as PlannedLayer<DropoutSpec>).spec;
    const size = shapeSize(layer.input);
    const words = new Uint32Array(4);
    words.set([size, layer.index, dropThreshold(rate)]);
    new Float32Array(words.buffer)[3] = Math.fround(1 / (1 - rate));
    const dims = ctx.uniform(words);
    const mask = ctx.storage(ctx.maxBatch * size);
    const train = ctx.pipeline('dropout-forward', { TRAINING: 1 });
    const infer = ctx.pipeline('dropout-forward', { TRAINING: 0 });
    const backward = ctx.pipeline('dropout-backward');
    const trainGroup = ctx.bind(train, [ctx.step, dims, x, y, mask]);
    const inferGroup = ctx.bind(infer, [ctx.step, dims, x, y, mask]);
    const backwardGroup = dx ? ctx.bind(backward, [ctx.step, dims, dy, mask, dx]) : null;
    return {
      forward(pass, B, mode) {
        pass.setPipeline(mode === 'train' ? train : infer);
        pass.setBindGroup(0, mode === 'train' ? trainGroup : inferGroup);
        dispatch1d(pass, B * size);
      },
      backward(pass, B) {
        if (!backwardGroup) return;
        pass.setPipeline(backward);
        pass.setBindGroup(0, backwardGroup);
        dispatch1d(pass, B * size);
      },
    };
  },
};
