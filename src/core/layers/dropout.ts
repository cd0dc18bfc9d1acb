/**
 * Dropout in the gradient core (the reference: src/nn/layers/dropout.ts; the kernels:
 * src/core/kernels/dropout.as.ts). Threads share the flat batch [0, B n) in pieces of whole cache
 * lines; an element's mask depends on (noiseKey, its index in the batch) only, so the masks are the
 * reference's whatever the split. Training keeps the mask (scale or 0 per element) for backward;
 * inference copies x to y.
 */
import type { DropoutSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

/** Elements a thread's share starts on: 64 bytes. */
const ALIGN = 16;

export const dropout: CoreLayer<DropoutSpec> = {
  type: 'dropout',
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.input),
  forward(k, layer, a, B, mode, noiseKey, _step, { t, T }) {
    const [i0, i1] = share(B * shapeSize(layer.input), t, T, ALIGN);
    if (mode === 'infer') k.dropoutInfer(a.x, a.y, i0, i1);
    else k.dropoutForward(a.x, a.y, a.saved.mask!, noiseKey, layer.spec.rate, i0, i1);
  },
  backward(k, layer, a, B, _step, { t, T }) {
    if (a.dx === 0) return;
    const [i0, i1] = share(B * shapeSize(layer.input), t, T, ALIGN);
    k.dropoutBackward(a.dy, a.saved.mask!, a.dx, i0, i1);
  },
};
