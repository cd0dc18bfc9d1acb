/**
 * Inverted dropout: in training, each value is dropped (set to 0) with probability `rate` and the
 * survivors are scaled by 1 / (1 - rate), so the expected output equals the input and inference
 * (where dropout does nothing) needs no rescaling.
 *
 * Shapes: x (B, n) -> y (B, n), n = H*W*C.
 *   train      mask[i] = keep(i) ? scale : 0, scale = fround(1 / (1 - rate)); y = x * mask
 *              keep(i) = (noiseBits(key, i) >>> 8) >= dropThreshold(rate), noise.ts, i = s * n + j
 *   infer      y = x
 *   backward   dx = dy * mask
 */
import { dropThreshold, noiseBits } from '../../random/noise.ts';
import { shapeSize } from '../shape.ts';
import type { LayerKind } from './layer.ts';
import type { DropoutSpec } from './spec.ts';

export const dropout: LayerKind<DropoutSpec> = {
  type: 'dropout',
  initBefore: 'next',
  describe: (s) => `${s.rate}`,
  plan(_spec, input) {
    return { output: input, params: [], stats: [], saved: [{ name: 'mask', perSample: shapeSize(input), fixed: 0 }] };
  },
  forward(spec, input, _output, io) {
    const { x, y, B } = io;
    const total = B * shapeSize(input);
    if (io.mode === 'infer') {
      for (let i = 0; i < total; i++) y[i] = x[i]!;
      return;
    }
    const mask = io.saved.mask!;
    const threshold = dropThreshold(spec.rate);
    const scale = Math.fround(1 / (1 - spec.rate));
    for (let i = 0; i < total; i++) {
      const m = noiseBits(io.noiseKey, i) >>> 8 >= threshold ? scale : 0;
      mask[i] = m;
      y[i] = x[i]! * m;
    }
  },
  backward(_spec, input, _output, io) {
    const { dy, dx, B } = io;
    if (dx === null) return;
    const mask = io.saved.mask!;
    const total = B * shapeSize(input);
    for (let i = 0; i < total; i++) dx[i] = dy[i]! * mask[i]!;
  },
};
