/**
 * Dropout in the gradient core (src/core/layers/dropout.ts and its kernel) against the reference
 * kind: the same masks (counter-based noise, keyed by the step's key and the element's position in
 * the batch), outputs and input gradients bit for bit, whatever the number of threads; sizes that
 * are not multiples of 4, batch 1, a partial batch, several rates and keys; inference copies.
 */
import { describe, expect, it } from 'vitest';
import { dropout } from '../src/core/layers/dropout.ts';
import type { DropoutSpec, Shape } from '../src/nn/index.ts';
import { fillPattern } from './core-helpers.ts';
import { layerHarness, planLayer, referencePass } from './core-layer-harness.ts';
import { KERNELS, expectSameBits, expectSameForAnyThreadCount } from './core-layer-checks.ts';

const shape = (height: number, width: number, channels: number): Shape => ({ height, width, channels });

const CASES = [
  { name: '37 units, batch 5, rate 0.5', input: shape(1, 1, 37), rate: 0.5, batch: 5, key: 0x9e3779b9 },
  { name: '3x3x3, batch 1, rate 0.3', input: shape(3, 3, 3), rate: 0.3, batch: 1, key: 7 },
  { name: '256 units, partial batch, rate 0.1', input: shape(1, 1, 256), rate: 0.1, batch: 3, maxBatch: 8, key: 0xffffffff },
  { name: '4x5x6, rate 0 (keeps everything)', input: shape(4, 5, 6), rate: 0, batch: 2, key: 1 },
  { name: '4x5x6, rate 0.9', input: shape(4, 5, 6), rate: 0.9, batch: 2, key: 123456 },
];

describe.each(KERNELS)('dropout, %s kernels', (kernel) => {
  for (const c of CASES) {
    it(c.name, () => {
      const spec: DropoutSpec = { type: 'dropout', rate: c.rate };
      const h = layerHarness(kernel, dropout, planLayer(spec, c.input), c.maxBatch ?? c.batch);
      fillPattern(h.x, 3);
      fillPattern(h.dy, 4);
      const out = expectSameForAnyThreadCount(h, c.batch, 'train', c.key);
      const ref = referencePass(h, c.batch, 'train', c.key, Float32Array);
      const n = out.y!.length;
      expectSameBits(h.saved.mask!.slice(0, n), ref.saved.mask!.slice(0, n) as Float32Array, 'mask');
      expectSameBits(out.y!, ref.y.slice(0, n) as Float32Array, 'y');
      expectSameBits(out.dx!, ref.dx!.slice(0, n) as Float32Array, 'dx');
      if (c.rate > 0) expect(out.y!.some((v) => v === 0)).toBe(true);
      const infer = expectSameForAnyThreadCount(h, c.batch, 'infer', c.key);
      expectSameBits(infer.y!, h.x.slice(0, n), 'y (inference)');
    });
  }

  it('another key draws other masks', () => {
    const h = layerHarness(kernel, dropout, planLayer<DropoutSpec>({ type: 'dropout', rate: 0.5 }, shape(1, 1, 64)), 2);
    fillPattern(h.x, 1);
    const a = expectSameForAnyThreadCount(h, 2, 'train', 1).y!;
    const b = expectSameForAnyThreadCount(h, 2, 'train', 2).y!;
    expect(a).not.toEqual(b);
  });
});
