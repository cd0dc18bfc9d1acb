/**
 * The activation layers in the gradient core (src/core/kernels/activation.as.ts): element-wise, so
 * the elements of the batch are split between threads, 16 at a time.
 *   forward    y = f(x)         backward   dx = dy * f'(x)
 */
import type { ActivationLayerType, ActivationSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { ACTIVATION_KIND } from '../kernels.ts';
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

const ELEMENT_ALIGN = 16;

export function activationLayer<T extends ActivationLayerType>(type: T): CoreLayer<ActivationSpec<T>> {
  const kind = ACTIVATION_KIND[type];
  return {
    type,
    buffers: () => [],
    forwardSteps: () => 1,
    backwardSteps: () => 1,
    work: (layer, B) => B * shapeSize(layer.input),
    forward(k, layer, a, B, _mode, _key, _step, { t, T }) {
      const [e0, e1] = share(B * shapeSize(layer.input), t, T, ELEMENT_ALIGN);
      if (e0 < e1) k.activationForward(kind, a.x, a.y, 0, 1, e0, e1);
    },
    backward(k, layer, a, B, _step, { t, T }) {
      if (a.dx === 0) return;
      const [e0, e1] = share(B * shapeSize(layer.input), t, T, ELEMENT_ALIGN);
      if (e0 < e1) k.activationBackward(kind, a.x, a.y, a.dy, a.dx, 0, 1, e0, e1);
    },
  };
}
