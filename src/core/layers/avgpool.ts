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
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

export const avgpool: CoreLayer<PoolSpec<'avgpool'>> = {
  type: 'avgpool',
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.output) * layer.spec.size * layer.spec.size,
  forward(k, layer, a, B, _mode, _noiseKey, _step, { t, T }) {
    const g = poolGeometry(layer.spec, layer.input);
    const [r0, r1] = share(B * g.Ho, t, T);
    k.avgpoolForward(a.x, a.y, g.H, g.W, g.C, g.Ho, g.Wo, g.size, g.stride, r0, r1);
  },
  backward(k, layer, a, B, _step, { t, T }) {
    if (a.dx === 0) return;
    const g = poolGeometry(layer.spec, layer.input);
    const [r0, r1] = share(B * g.H, t, T);
    k.poolBackward(a.dy, 0, a.dx, g.H, g.W, g.C, g.Ho, g.Wo, g.size, g.stride, r0, r1);
  },
};
