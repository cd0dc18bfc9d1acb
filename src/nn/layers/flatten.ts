/**
 * Flatten: H x W x C -> H*W*C. The values keep their HWC order, so this only changes how the next
 * layer reads the shape (a dense layer reads any shape flat anyway; flatten says so in the table).
 */
import { flatShape, shapeSize } from '../shape.ts';
import type { LayerKind } from './layer.ts';
import type { FlattenSpec } from './spec.ts';

export const flatten: LayerKind<FlattenSpec> = {
  type: 'flatten',
  initBefore: 'next',
  describe: () => '',
  plan: (_spec, input) => ({ output: flatShape(shapeSize(input)), params: [], stats: [], saved: [] }),
  forward(_spec, input, _output, io) {
    const total = io.B * shapeSize(input);
    for (let i = 0; i < total; i++) io.y[i] = io.x[i]!;
  },
  backward(_spec, input, _output, io) {
    if (io.dx === null) return;
    const total = io.B * shapeSize(input);
    for (let i = 0; i < total; i++) io.dx[i] = io.dy[i]!;
  },
};
