/**
 * Dense (fully connected) layer: every output unit is a neuron, a weighted sum of all the input
 * values plus a bias. Any input shape is read as the flat vector of its HWC values.
 *
 * Shapes (n = inSize = H*W*C of the input, u = units):
 *   x (B, n)   W (u, n) row-major: W[o*n + i] is the weight from input i to unit o   b (u)   y (B, u)
 *
 *   forward    y = x W^T + b
 *   backward   dW = dy^T x,  db = sum over the batch of dy,  dx = dy W
 */
import type { Floats } from '../activations.ts';
import { flatShape, shapeSize } from '../shape.ts';
import type { LayerKind } from './layer.ts';
import type { DenseSpec } from './spec.ts';

export const dense: LayerKind<DenseSpec> = {
  type: 'dense',
  initBefore: 'xavier',
  describe: (spec) => `${spec.units} unit${spec.units === 1 ? '' : 's'}${spec.bias ? '' : ', no bias'}`,
  plan(spec, input) {
    const n = shapeSize(input);
    const u = spec.units;
    return {
      output: flatShape(u),
      params: [
        { name: 'weights', length: u * n, decay: true, init: { kind: 'random', fanIn: n, fanOut: u } },
        ...(spec.bias ? [{ name: 'bias', length: u, decay: false, init: { kind: 'constant' as const, value: 0 } }] : []),
      ],
      stats: [],
      saved: [],
    };
  },
  forward(spec, input, _output, io) {
    denseForward(io.x, io.params.weights!, io.params.bias ?? null, io.y, io.B, shapeSize(input), spec.units);
  },
  backward(spec, input, _output, io) {
    denseBackward(io.x, io.params.weights!, io.dy, io.grads.weights!, io.grads.bias ?? null, io.dx, io.B, shapeSize(input), spec.units);
  },
};

/** Z = X W^T + b, X (B, nIn), W (nOut, nIn), Z (B, nOut). Sums in double, rounded once on store. */
function denseForward(X: Floats, W: Floats, b: Floats | null, Z: Floats, B: number, nIn: number, nOut: number): void {
  for (let s = 0; s < B; s++) {
    const xRow = s * nIn;
    for (let o = 0; o < nOut; o++) {
      const wRow = o * nIn;
      let sum = b === null ? 0 : b[o]!;
      for (let i = 0; i < nIn; i++) sum += X[xRow + i]! * W[wRow + i]!;
      Z[s * nOut + o] = sum;
    }
  }
}

/**
 * dW = dZ^T X (nOut, nIn), db = sum over the batch of dZ (nOut), dX = dZ W (B, nIn) when dX is
 * given. dW, db and dX are overwritten, not accumulated.
 */
function denseBackward(X: Floats, W: Floats, dZ: Floats, dW: Floats, db: Floats | null, dX: Floats | null, B: number, nIn: number, nOut: number): void {
  // Row-by-row accumulation (unit stride through X and W) rather than one dot product per weight.
  dW.fill(0, 0, nOut * nIn);
  db?.fill(0, 0, nOut);
  for (let s = 0; s < B; s++) {
    const xRow = s * nIn;
    for (let o = 0; o < nOut; o++) {
      const d = dZ[s * nOut + o]!;
      if (db !== null) db[o] += d;
      if (d === 0) continue; // common after ReLU
      const wRow = o * nIn;
      for (let i = 0; i < nIn; i++) dW[wRow + i] += d * X[xRow + i]!;
    }
  }
  if (!dX) return;
  dX.fill(0, 0, B * nIn);
  for (let s = 0; s < B; s++) {
    const xRow = s * nIn;
    for (let o = 0; o < nOut; o++) {
      const d = dZ[s * nOut + o]!;
      if (d === 0) continue;
      const wRow = o * nIn;
      for (let i = 0; i < nIn; i++) dX[xRow + i] += d * W[wRow + i]!;
    }
  }
}
