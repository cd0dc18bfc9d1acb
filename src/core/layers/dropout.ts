/**
 * Dropout in the gradient core (the reference: src/nn/layers/dropout.ts; the kernels:
 * src/core/kernels/dropout.as.ts). Threads share the flat batch [0, B n) in pieces of whole cache
 * lines; an element's mask depends on (noiseKey, its index in the batch) only, so the masks are the
 * reference's whatever the split. Training keeps the mask (scale or 0 per element) for backward;
 * inference copies x to y.
 */
import type { DropoutSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { cut } from '../split.ts';
import type { CoreLayer } from './driver.ts';

/** Elements a thread's share starts on: 64 bytes. */
const ALIGN = 16;

export const dropout: CoreLayer<DropoutSpec> = {
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.input),
  prepare(k, layer, { x, y, dy, dx, saved }) {
    const n = shapeSize(layer.input);
    const mask = saved.mask!;
    const { rate } = layer.spec;
    return {
      forward(B, mode, noiseKey, _step, t, T) {
        const i0 = cut(B * n, t, T, ALIGN);
        const i1 = cut(B * n, t + 1, T, ALIGN);
        if (mode === 'infer') k.dropoutInfer(x, y, i0, i1);
        else k.dropoutForward(x, y, mask, noiseKey, rate, i0, i1);
      },
      backward(B, _step, t, T) {
        if (dx === 0) return;
        k.dropoutBackward(dy, mask, dx, cut(B * n, t, T, ALIGN), cut(B * n, t + 1, T, ALIGN));
      },
    };
  },
};
