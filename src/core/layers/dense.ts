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
import { cut } from '../split.ts';
import type { CoreLayer } from './driver.ts';

/** Row splits at multiples of 4 (the forward tile; the weight gradient pairs rows 2r, 2r + 1). */
const ROW_ALIGN = 4;
/** Column splits at multiples of 16 floats: whole cache lines and SIMD vectors. */
const COLUMN_ALIGN = 16;

export const dense: CoreLayer<DenseSpec> = {
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
  prepare(k, layer, a) {
    const nIn = shapeSize(layer.input);
    const nOut = layer.spec.units;
    const panels = k.panelCount(nIn);
    const { x, y, dy, dx } = a;
    const weights = a.params.weights!;
    const bias = a.params.bias ?? 0;
    const dWeights = a.grads.weights!;
    const dBias = a.grads.bias ?? 0;
    const packedInput = a.buffers.packedInput!;
    const lists = a.buffers.lists!;
    const counts = a.buffers.counts!;
    const panel = a.buffers.panel!;
    return {
      forward(B, mode, _key, _step, t, T) {
        if (mode === 'train') {
          const p0 = cut(panels, t, T);
          const p1 = cut(panels, t + 1, T);
          if (p0 < p1) k.packPanels(x, nIn, B, packedInput, p0, p1);
        }
        const o0 = cut(nOut, t, T, ROW_ALIGN);
        const o1 = cut(nOut, t + 1, T, ROW_ALIGN);
        if (o0 < o1) k.denseForward(x, nIn, weights, nIn, bias, y, nOut, B, o0, o1);
      },
      backward(B, _step, t, T) {
        if (dx !== 0) {
          const c0 = cut(nIn, t, T, COLUMN_ALIGN);
          const c1 = cut(nIn, t + 1, T, COLUMN_ALIGN);
          if (c0 < c1) k.inputGradient(dy, nOut, weights, nIn, B, c0, c1, dx, lists, counts, panel);
        }
        const o0 = cut(nOut, t, T, ROW_ALIGN);
        const o1 = cut(nOut, t + 1, T, ROW_ALIGN);
        if (o0 < o1) k.weightGradient(dy, nOut, packedInput, nIn, B, o0, o1, dWeights, dBias, lists, counts);
      },
    };
  },
};
