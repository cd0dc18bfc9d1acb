/**
 * Average pooling in the gradient core (the reference: src/nn/layers/avgpool.ts; the kernels:
 * src/core/kernels/avgpool.as.ts and pool.as.ts). One step each way:
 *   forward    threads share the rows (n, oy) of y
 *   backward   threads share the rows (n, iy) of dx, each value gathered from the windows that
 *              hold it (overlapping windows never have two threads add into one value)
 */
import { poolGeometry } from '../../nn/layers/pool.ts';
import type { PoolSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { cut } from '../split.ts';
import type { CoreLayer } from './driver.ts';

export const avgpool: CoreLayer<PoolSpec<'avgpool'>> = {
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.output) * layer.spec.size * layer.spec.size,
  prepare(k, layer, { x, y, dy, dx }) {
    const { H, W, C, Ho, Wo, size, stride } = poolGeometry(layer.spec, layer.input);
    return {
      forward(B, _mode, _noiseKey, _step, t, T) {
        k.avgpoolForward(x, y, H, W, C, Ho, Wo, size, stride, cut(B * Ho, t, T), cut(B * Ho, t + 1, T));
      },
      backward(B, _step, t, T) {
        if (dx === 0) return;
        k.poolBackward(dy, 0, dx, H, W, C, Ho, Wo, size, stride, cut(B * H, t, T), cut(B * H, t + 1, T));
      },
    };
  },
};
