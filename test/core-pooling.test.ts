/**
 * Max, average and global average pooling in the gradient core (src/core/layers/*pool.ts and their
 * kernels) against the reference kinds: channel counts 1, 3, 5 and 19 (every SIMD and scalar path),
 * odd sizes with leftover rows and columns, overlapping windows (stride < size), gaps (stride >
 * size), ties and -Infinity in max windows, batch 1, a partial batch; both kernel flavours; every
 * output bit-identical for 1 to 4 threads. Max pooling and the global pooling's backward pass are
 * bit-identical to the float32 reference too.
 */
import { describe, expect, it } from 'vitest';
import { avgpool } from '../src/core/layers/avgpool.ts';
import { globalavgpool } from '../src/core/layers/globalavgpool.ts';
import { maxpool } from '../src/core/layers/maxpool.ts';
import type { PoolSpec, Shape } from '../src/nn/index.ts';
import { shapeSize } from '../src/nn/index.ts';
import { fillPattern, normwiseError } from './core-helpers.ts';
import { layerHarness, planLayer, referencePass, type LayerHarness } from './core-layer-harness.ts';
import { KERNELS, expectSameBits, expectSameForAnyThreadCount } from './core-layer-checks.ts';

interface Case {
  name: string;
  input: Shape;
  size: number;
  stride: number;
  batch: number;
  maxBatch?: number;
}

const shape = (height: number, width: number, channels: number): Shape => ({ height, width, channels });

const POOL_CASES: Case[] = [
  { name: '2x2 stride 2, 5 channels, odd size (a row and a column left over)', input: shape(7, 9, 5), size: 2, stride: 2, batch: 3 },
  { name: '3x3 stride 2 (overlapping), 3 channels', input: shape(9, 8, 3), size: 3, stride: 2, batch: 2 },
  { name: '3x3 stride 1 (overlapping), 1 channel, batch 1', input: shape(6, 7, 1), size: 3, stride: 1, batch: 1 },
  { name: '2x2 stride 3 (gaps), 19 channels, partial batch', input: shape(8, 10, 19), size: 2, stride: 3, batch: 2, maxBatch: 4 },
  { name: '4x4 stride 4, 8 channels, whole input', input: shape(4, 4, 8), size: 4, stride: 4, batch: 2 },
  { name: '2x2 stride 2, 32 channels', input: shape(6, 6, 32), size: 2, stride: 2, batch: 2 },
];

/** Inputs with ties (values on a coarse grid) and a few -Infinity, so that the first maximum must win. */
function fillInputs(h: LayerHarness, seed: number, ties: boolean): void {
  fillPattern(h.x, seed);
  if (ties) {
    for (let i = 0; i < h.x.length; i++) h.x[i] = i % 17 === 5 ? -Infinity : Math.round(h.x[i]! * 3) / 3;
  }
  fillPattern(h.dy, seed + 1);
  for (let i = 0; i < h.dy.length; i += 13) h.dy[i] = -0; // the reference's dx is 0 + dy: +0
}

function poolCase(kind: 'maxpool' | 'avgpool', c: Case) {
  const spec = { type: kind, size: c.size, stride: c.stride } as PoolSpec;
  return planLayer(spec, c.input);
}

describe.each(KERNELS)('max pooling, %s kernels', (kernel) => {
  for (const c of POOL_CASES) {
    it(c.name, () => {
      const layer = poolCase('maxpool', c) as ReturnType<typeof planLayer<PoolSpec<'maxpool'>>>;
      const h = layerHarness(kernel, maxpool, layer, c.maxBatch ?? c.batch);
      fillInputs(h, 9, true);
      const out = expectSameForAnyThreadCount(h, c.batch, 'train', 0);
      const ref = referencePass(h, c.batch, 'train', 0, Float32Array);
      expectSameBits(out.y!, ref.y.slice(0, out.y!.length) as Float32Array, 'y');
      expectSameBits(out.dx!, ref.dx!.slice(0, out.dx!.length) as Float32Array, 'dx');
      // The argmax kept for backward: the reference's tap, as an int32.
      const taps = new Int32Array(h.saved.argmax!.buffer, h.saved.argmax!.byteOffset, out.y!.length);
      expect(Array.from(taps)).toEqual(Array.from(ref.saved.argmax!.slice(0, out.y!.length)));
      const infer = expectSameForAnyThreadCount(h, c.batch, 'infer', 0);
      expectSameBits(infer.y!, out.y!, 'y (inference)');
    });
  }
});

describe.each(KERNELS)('average pooling, %s kernels', (kernel) => {
  for (const c of POOL_CASES) {
    it(c.name, () => {
      const layer = poolCase('avgpool', c) as ReturnType<typeof planLayer<PoolSpec<'avgpool'>>>;
      const h = layerHarness(kernel, avgpool, layer, c.maxBatch ?? c.batch);
      fillInputs(h, 4, false);
      const out = expectSameForAnyThreadCount(h, c.batch, 'train', 0);
      const ref = referencePass(h, c.batch, 'train', 0);
      expect(normwiseError(out.y!, ref.y, 0, out.y!.length), 'y').toBeLessThan(3e-7);
      expect(normwiseError(out.dx!, ref.dx!, 0, out.dx!.length), 'dx').toBeLessThan(3e-7);
      const infer = expectSameForAnyThreadCount(h, c.batch, 'infer', 0);
      expectSameBits(infer.y!, out.y!, 'y (inference)');
    });
  }
});

const GLOBAL_CASES = [
  { name: '5x3x21 (a group of 16, a vector, a channel), batch 3', input: shape(5, 3, 21), batch: 3 },
  { name: '1x1x4, batch 1', input: shape(1, 1, 4), batch: 1 },
  { name: '7x7x3, partial batch', input: shape(7, 7, 3), batch: 2, maxBatch: 5 },
  { name: '8x8x256, batch 2', input: shape(8, 8, 256), batch: 2 },
];

describe.each(KERNELS)('global average pooling, %s kernels', (kernel) => {
  for (const c of GLOBAL_CASES) {
    it(c.name, () => {
      const h = layerHarness(kernel, globalavgpool, planLayer({ type: 'globalavgpool' }, c.input), c.maxBatch ?? c.batch);
      fillInputs(h, 2, false);
      const out = expectSameForAnyThreadCount(h, c.batch, 'train', 0);
      const ref = referencePass(h, c.batch, 'train', 0);
      expect(normwiseError(out.y!, ref.y, 0, out.y!.length), 'y').toBeLessThan(5e-7);
      const ref32 = referencePass(h, c.batch, 'train', 0, Float32Array);
      expectSameBits(out.dx!, ref32.dx!.slice(0, c.batch * shapeSize(c.input)) as Float32Array, 'dx');
    });
  }
});
