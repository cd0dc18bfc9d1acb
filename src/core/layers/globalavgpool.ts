/**
 * Global average pooling in the gradient core (the reference: src/nn/layers/globalavgpool.ts; the
 * kernels: src/core/kernels/globalavgpool.as.ts). One step each way:
 *   forward    threads share jobs (sample, group of 16 channels): each mean is one thread's sum
 *   backward   threads share the rows (n, p) of dx
 */
import type { GlobalAvgPoolSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

export const globalavgpool: CoreLayer<GlobalAvgPoolSpec> = {
  type: 'globalavgpool',
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.input),
  forward(k, layer, a, B, _mode, _noiseKey, _step, { t, T }) {
    const P = layer.input.height * layer.input.width;
    const C = layer.input.channels;
    const [j0, j1] = share(k.globalavgpoolJobs(B, C), t, T);
    k.globalavgpoolForward(a.x, a.y, P, C, j0, j1);
  },
  backward(k, layer, a, B, _step, { t, T }) {
    if (a.dx === 0) return;
    const P = layer.input.height * layer.input.width;
    const C = layer.input.channels;
    const [r0, r1] = share(B * P, t, T);
    k.globalavgpoolBackward(a.dy, a.dx, P, C, r0, r1);
  },
};
