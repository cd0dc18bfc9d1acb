/**
 * A fully connected layer's forward and backward steps over a whole batch: the portable
 * TypeScript reference kernels (the WebAssembly core in src/core implements the same products).
 * Sums are accumulated in double precision and rounded once on store.
 */
import type { Floats } from './activations.ts';

/**
 * Z = X W^T + b
 * X is (B, nIn), W is (nOut, nIn), b is (nOut), Z is (B, nOut); all row-major.
 */
export function denseForward(X: Floats, W: Floats, b: Floats, Z: Floats, B: number, nIn: number, nOut: number): void {
  for (let s = 0; s < B; s++) {
    const xRow = s * nIn;
    for (let o = 0; o < nOut; o++) {
      const wRow = o * nIn;
      let sum = b[o]!;
      for (let i = 0; i < nIn; i++) sum += X[xRow + i]! * W[wRow + i]!;
      Z[s * nOut + o] = sum;
    }
  }
}

/**
 * dW = dZ^T X   (nOut, nIn)
 * db = sum over the batch of dZ   (nOut)
 * dX = dZ W     (B, nIn), skipped when dX is null (the first layer needs no input gradient).
 * dZ is (B, nOut). dW and db are overwritten, not accumulated.
 */
export function denseBackward(
  X: Floats,
  W: Floats,
  dZ: Floats,
  dW: Floats,
  db: Floats,
  dX: Floats | null,
  B: number,
  nIn: number,
  nOut: number,
): void {
  // Row-by-row accumulation (unit stride through X and W) rather than one dot product per weight.
  dW.fill(0, 0, nOut * nIn);
  db.fill(0, 0, nOut);
  for (let s = 0; s < B; s++) {
    const xRow = s * nIn;
    for (let o = 0; o < nOut; o++) {
      const d = dZ[s * nOut + o]!;
      db[o] += d;
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
