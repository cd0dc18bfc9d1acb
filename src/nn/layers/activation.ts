/**
 * The activation functions of activations.ts as layers: y = f(x) element by element, dx = dy * f'(x).
 * One kind per function of ACTIVATIONS but linear, each made here and entered in the registry.
 */
import { ACTIVATIONS } from '../activations.ts';
import { shapeSize } from '../shape.ts';
import type { LayerKind } from './layer.ts';
import type { ActivationLayerType, ActivationSpec } from './spec.ts';

export function activationLayer<T extends ActivationLayerType>(type: T): LayerKind<ActivationSpec<T>> {
  const f = ACTIVATIONS[type];
  return {
    type,
    initBefore: f.init,
    describe: () => '',
    plan: (_spec, input) => ({ output: input, params: [], stats: [], saved: [] }),
    forward(_spec, input, _output, io) {
      f.forward(io.x, io.y, io.B * shapeSize(input));
    },
    backward(_spec, input, _output, io) {
      if (io.dx !== null) f.backward(io.x, io.y, io.dy, io.dx, io.B * shapeSize(input));
    },
  };
}
