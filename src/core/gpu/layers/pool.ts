/**
 * Max and average pooling on the GPU: kernels maxpool-forward/backward (the winning tap kept per
 * output) and avgpool-forward/backward; windows inside the input, as src/nn/layers/pool.ts plans them.
 */
import { poolGeometry } from '../../../nn/layers/pool.ts';
import type { PoolSpec } from '../../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../../nn/plan.ts';
import { dispatch1d, type GpuLayerPart } from './context.ts';

function poolPart(kind: 'maxpool' | 'avgpool'): GpuLayerPart {
  return {
    prepare(layer, ctx, { x, y, dx, dy }) {
      const g = poolGeometry((layer as PlannedLayer<PoolSpec>).spec, layer.input);
      const dims = ctx.uniform([g.H, g.W, g.C, g.Ho, g.Wo, g.size, g.stride, 0]);
      const outputs = g.Ho * g.Wo * g.C;
      const argmax = kind === 'maxpool' ? ctx.storage(ctx.maxBatch * outputs) : null;
      const forward = ctx.pipeline(`${kind}-forward`);
      const backward = dx ? ctx.pipeline(`${kind}-backward`) : null;
      const forwardGroup = ctx.bind(forward, argmax ? [ctx.step, dims, x, y, argmax] : [ctx.step, dims, x, y]);
      const backwardGroup = backward && dx ? ctx.bind(backward, argmax ? [ctx.step, dims, dy, argmax, dx] : [ctx.step, dims, dy, dx]) : null;
      return {
        forward(pass, B) {
          pass.setPipeline(forward);
          pass.setBindGroup(0, forwardGroup);
          dispatch1d(pass, B * outputs);
        },
        backward(pass, B) {
          if (!backward || !backwardGroup) return;
          pass.setPipeline(backward);
          pass.setBindGroup(0, backwardGroup);
          dispatch1d(pass, B * g.H * g.W * g.C);
        },
      };
    },
  };
}

export const maxpoolGpu = poolPart('maxpool');
export const avgpoolGpu = poolPart('avgpool');
