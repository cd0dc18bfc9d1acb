/**
 * Max pooling in the gradient core (the reference: src/nn/layers/maxpool.ts; the kernels:
 * src/core/kernels/maxpool.as.ts and pool.as.ts). One step each way, no sums to split:
 *   forward    threads share the rows (n, oy) of y; in training the winning tap of every output
 *              goes to the saved "argmax" buffer (as an int32). After a ReLU folded into a
 *              batch norm, the batch norm's driver does this pass on its input, and backward
 *              applies the ReLU's derivative too (prepareAfterFoldedRelu, fusion.ts)
 *   backward   threads share the rows (n, iy) of dx, each value gathered from the windows that
 *              hold it, so overlapping windows (stride < size) never have two threads add into
 *              one value; dx is bit-identical to the reference's
 */
import { poolGeometry } from '../../nn/layers/pool.ts';
import type { PoolSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { cut } from '../split.ts';
import type { CoreLayer } from './driver.ts';

export const maxpool: CoreLayer<PoolSpec<'maxpool'>> = {
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.output) * layer.spec.size * layer.spec.size,
  prepare(k, layer, { x, y, dy, dx, saved }) {
    const { H, W, C, Ho, Wo, size, stride } = poolGeometry(layer.spec, layer.input);
    const argmax = saved.argmax!;
    return {
      forward(B, mode, _noiseKey, _step, t, T) {
        k.maxpoolForward(x, y, mode === 'train' ? argmax : 0, H, W, C, Ho, Wo, size, stride, cut(B * Ho, t, T), cut(B * Ho, t + 1, T));
      },
      backward(B, _step, t, T) {
        if (dx === 0) return;
        k.poolBackward(dy, argmax, dx, H, W, C, Ho, Wo, size, stride, cut(B * H, t, T), cut(B * H, t + 1, T));
      },
    };
  },
  prepareAfterFoldedRelu(k, layer, { y, dy, dx, saved }) {
    const { H, W, C, Ho, Wo, size, stride } = poolGeometry(layer.spec, layer.input);
    const argmax = saved.argmax!;
    return {
      forward() {}, // done by the layer the ReLU is folded into
      backward(B, _step, t, T) {
        k.maxpoolBackwardGated(dy, argmax, y, dx, H, W, C, Ho, Wo, size, stride, cut(B * H, t, T), cut(B * H, t + 1, T));
      },
    };
  },
};
