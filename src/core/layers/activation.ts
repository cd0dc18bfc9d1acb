/**
 * The activation layers in the gradient core (src/core/kernels/activation.as.ts): element-wise, so
 * the elements of the batch are split between threads, 16 at a time.
 *   forward    y = f(x)         backward   dx = dy * f'(x)
 * One driver for every activation: the kernels take the function's id, which the module exports as
 * the global activation_<name> (the name of src/nn/activations.ts), so that TypeScript holds no copy
 * of the ids; and leaky ReLU's slope, which only TypeScript holds (LEAKY_SLOPE).
 */
import { LEAKY_SLOPE } from '../../nn/activations.ts';
import type { ActivationLayerType, ActivationSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import type { KernelExports } from '../kernels.ts';
import { cut } from '../split.ts';
import type { CoreLayer } from './driver.ts';

const ELEMENT_ALIGN = 16;

/** The kernels' id of an activation; an error naming the missing kernel if the module has none. */
function activationKernelId(k: KernelExports, type: ActivationLayerType): number {
  const id = k[`activation_${type}`];
  if (id === undefined) throw new Error(`the WebAssembly kernels have no activation "${type}": give src/core/kernels/activation.as.ts its id activation_${type} and its case`);
  return id.value;
}

export const activation: CoreLayer<ActivationSpec> = {
  buffers: () => [],
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.input),
  prepare(k, layer, { x, y, dy, dx }) {
    const kind = activationKernelId(k, layer.spec.type);
    const n = shapeSize(layer.input);
    return {
      forward(B, _mode, _key, _step, t, T) {
        const e0 = cut(B * n, t, T, ELEMENT_ALIGN);
        const e1 = cut(B * n, t + 1, T, ELEMENT_ALIGN);
        if (e0 < e1) k.activationForward(kind, LEAKY_SLOPE, x, y, 0, 1, e0, e1);
      },
      backward(B, _step, t, T) {
        if (dx === 0) return;
        const e0 = cut(B * n, t, T, ELEMENT_ALIGN);
        const e1 = cut(B * n, t + 1, T, ELEMENT_ALIGN);
        if (e0 < e1) k.activationBackward(kind, LEAKY_SLOPE, x, y, dy, dx, 0, 1, e0, e1);
      },
    };
  },
};
