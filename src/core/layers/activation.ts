/**
 * The activation layers in the gradient core (src/core/kernels/activation.as.ts): element-wise, so
 * the elements of the batch are split between threads, 16 at a time.
 *   forward    y = f(x)         backward   dx = dy * f'(x)
 */
import type { ActivationLayerType, ActivationSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { ACTIVATION_KIND } from '../kernels.ts';
import { cut } from '../split.ts';
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
    prepare(k, layer, { x, y, dy, dx }) {
      const n = shapeSize(layer.input);
      return {
        forward(B, _mode, _key, _step, t, T) {
          const e0 = cut(B * n, t, T, ELEMENT_ALIGN);
          const e1 = cut(B * n, t + 1, T, ELEMENT_ALIGN);
          if (e0 < e1) k.activationForward(kind, x, y, 0, 1, e0, e1);
        },
        backward(B, _step, t, T) {
          if (dx === 0) return;
          const e0 = cut(B * n, t, T, ELEMENT_ALIGN);
          const e1 = cut(B * n, t + 1, T, ELEMENT_ALIGN);
          if (e0 < e1) k.activationBackward(kind, x, y, dy, dx, 0, 1, e0, e1);
        },
      };
    },
  };
}
