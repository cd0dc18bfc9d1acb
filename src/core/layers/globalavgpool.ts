/**
 * Global average pooling in the gradient core (the reference: src/nn/layers/globalavgpool.ts; the
 * kernels: src/core/kernels/globalavgpool.as.ts). One step each way:
 *   forward    threads share jobs (sample, group of 16 channels): each mean is one thread's sum
 *   backward   threads share the rows (n, p) of dx
 */
import type { GlobalAvgPoolSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { cut } from '../split.ts';
import type { CoreLayer } from './driver.ts';

export const globalavgpool: CoreLayer<GlobalAvgPoolSpec> = {
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.input),
  prepare(k, layer, { x, y, dy, dx }) {
    const P = layer.input.height * layer.input.width;
    const C = layer.input.channels;
    return {
      forward(B, _mode, _noiseKey, _step, t, T) {
        const jobs = k.globalavgpoolJobs(B, C);
        k.globalavgpoolForward(x, y, P, C, cut(jobs, t, T), cut(jobs, t + 1, T));
      },
      backward(B, _step, t, T) {
        if (dx === 0) return;
        k.globalavgpoolBackward(dy, dx, P, C, cut(B * P, t, T), cut(B * P, t + 1, T));
      },
    };
  },
};
