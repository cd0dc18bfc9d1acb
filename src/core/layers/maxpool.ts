/**
 * Max pooling in the gradient core (the reference: src/nn/layers/maxpool.ts; the kernels:
 * src/core/kernels/maxpool.as.ts and pool.as.ts). One step each way, no sums to split:
 *   forward    threads share the rows (n, oy) of y; in training the winning tap of every output
 *              goes to the saved "argmax" buffer (as an int32)
 *   backward   threads share the rows (n, iy) of dx, each value gathered from the windows that
 *              hold it, so overlapping windows (stride < size) never have two threads add into
 *              one value; dx is bit-identical to the reference's
 */
import { poolGeometry } from '../../nn/layers/pool.ts';
import type { PoolSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

export const maxpool: CoreLayer<PoolSpec<'maxpool'>> = {
  type: 'maxpool',
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.output) * layer.spec.size * layer.spec.size,
  forward(k, layer, a, B, mode, _noiseKey, _step, { t, T }) {
    const g = poolGeometry(layer.spec, layer.input);
    const [r0, r1] = share(B * g.Ho, t, T);
    const argmax = mode === 'train' ? a.saved.argmax! : 0;
    k.maxpoolForward(a.x, a.y, argmax, g.H, g.W, g.C, g.Ho, g.Wo, g.size, g.stride, r0, r1);
  },
  backward(k, layer, a, B, _step, { t, T }) {
    if (a.dx === 0) return;
    const g = poolGeometry(layer.spec, layer.input);
    const [r0, r1] = share(B * g.H, t, T);
    k.poolBackward(a.dy, a.saved.argmax!, a.dx, g.H, g.W, g.C, g.Ho, g.Wo, g.size, g.stride, r0, r1);
  },
};
