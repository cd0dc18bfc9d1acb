/**
 * The dense layer in the gradient core: the products of src/core/kernels/forward.as.ts and
 * combine.as.ts (see src/nn/layers/dense.ts for the math).
 *
 *   forward    y = x W^T + b          output units split between threads (rows of W), 4 at a time;
 *                                     in training also x packed into panels for the weight gradient
 *   backward   dx = dy W              input columns split, 16 at a time
 *              dW = dy^T x, db = sum dy   output units split
 * Every output value is a sum computed whole by one thread in a fixed order: results do not depend
 * on the thread count.
 */
import type { DenseSpec } from '../../nn/layers/spec.ts';
import { shapeSize } from '../../nn/shape.ts';
import { share } from '../split.ts';
import type { CoreLayer } from './driver.ts';

/** Row splits at multiples of 4 (the forward tile; the weight gradient pairs rows 2r, 2r + 1). */
const ROW_ALIGN = 4;
/** Column splits at multiples of 16 floats: whole cache lines and SIMD vectors. */
const COLUMN_ALIGN = 16;

export const dense: CoreLayer<DenseSpec> = {
  type: 'dense',
  buffers(layer, maxBatch, g) {
    const nIn = shapeSize(layer.input);
    const nOut = layer.spec.units;
    return [
      { name: 'packedInput', bytes: 4 * Math.ceil(nIn / g.panelWidth) * maxBatch * g.panelStride, perThread: false },
      // The lists of non-zero dy entries of either backward product (at most maxBatch * nOut entries).
      { name: 'lists', bytes: maxBatch * nOut * g.listEntryBytes, perThread: true },
      { name: 'counts', bytes: 4 * Math.max(maxBatch, nOut), perThread: true },
      { name: 'panel', bytes: 4 * nOut * g.inputPanelWidth, perThread: true },
    ];
  },
  forwardSteps: () => 1,
  backwardSteps: () => 1,
  work: (layer, B) => B * shapeSize(layer.input) * layer.spec.units,
  forward(k, layer, a, B, mode, _key, _step, { t, T }) {
    const nIn = shapeSize(layer.input);
    const nOut = layer.spec.units;
    if (mode === 'train') {
      const [p0, p1] = share(k.panelCount(nIn), t, T);
      if (p0 < p1) k.packPanels(a.x, nIn, B, a.buffers.packedInput!, p0, p1);
    }
    const [o0, o1] = share(nOut, t, T, ROW_ALIGN);
    if (o0 < o1) k.denseForward(a.x, nIn, a.params.weights!, nIn, a.params.bias ?? 0, a.y, nOut, B, o0, o1);
  },
  backward(k, layer, a, B, _step, { t, T }) {
    const nIn = shapeSize(layer.input);
    const nOut = layer.spec.units;
    const { lists, counts, panel } = a.buffers;
    if (a.dx !== 0) {
      const [c0, c1] = share(nIn, t, T, COLUMN_ALIGN);
      if (c0 < c1) k.inputGradient(a.dy, nOut, a.params.weights!, nIn, B, c0, c1, a.dx, lists!, counts!, panel!);
    }
    const [o0, o1] = share(nOut, t, T, ROW_ALIGN);
    if (o0 < o1) k.weightGradient(a.dy, nOut, a.buffers.packedInput!, nIn, B, o0, o1, a.grads.weights!, a.grads.bias ?? 0, lists!, counts!);
  },
};
