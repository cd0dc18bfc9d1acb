/**
 * Global average pooling: the mean of each channel over all positions.
 *
 * Shapes: x (B, H, W, C) -> y (B, C); P = H*W.
 *   forward    y[n, c] = (1 / P) sum_p x[n, p, c]
 *   backward   dx[n, p, c] = dy[n, c] / P
 */
import { flatShape } from '../shape.ts';
import type { LayerKind } from './layer.ts';
import type { GlobalAvgPoolSpec } from './spec.ts';

export const globalavgpool: LayerKind<GlobalAvgPoolSpec> = {
  type: 'globalavgpool',
  initBefore: 'next',
  describe: () => '',
  plan: (_spec, input) => ({ output: flatShape(input.channels), params: [], stats: [], saved: [] }),
  forward(_spec, input, _output, io) {
    const { x, y, B } = io;
    const P = input.height * input.width;
    const C = input.channels;
    for (let n = 0; n < B; n++) {
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let p = 0; p < P; p++) sum += x[(n * P + p) * C + c]!;
        y[n * C + c] = sum / P;
      }
    }
  },
  backward(_spec, input, _output, io) {
    const { dy, dx, B } = io;
    if (dx === null) return;
    const P = input.height * input.width;
    const C = input.channels;
    for (let n = 0; n < B; n++) {
      for (let p = 0; p < P; p++) {
        for (let c = 0; c < C; c++) dx[(n * P + p) * C + c] = dy[n * C + c]! / P;
      }
    }
  },
};
