/**
 * Batch normalization in the gradient core (src/core/layers/batchnorm.ts and its kernels) against
 * the reference kind, in training and inference mode: channel counts with every kernel path (1 and
 * 3 channels, not multiples of 4, groups of 16 and the rest), several blocks of rows, batch 1, a
 * partial batch, momentum values, data far from zero; both kernel flavours; every output
 * bit-identical for 1 to 4 threads.
 */
import { describe, expect, it } from 'vitest';
import { batchnorm, blockRows } from '../src/core/layers/batchnorm.ts';
import type { BatchNormSpec, Shape } from '../src/nn/index.ts';
import { shapeSize } from '../src/nn/index.ts';
import { fillPattern, normwiseError } from './core-helpers.ts';
import { layerHarness, planLayer, referencePass, type LayerHarness } from './core-layer-harness.ts';
import { KERNELS, expectSameForAnyThreadCount } from './core-layer-checks.ts';

interface Case {
  name: string;
  input: Shape;
  batch: number;
  maxBatch?: number;
  momentum?: number;
  /** x = offset + spread * pattern. */
  offset?: number;
  spread?: number;
}

const shape = (height: number, width: number, channels: number): Shape => ({ height, width, channels });

const CASES: Case[] = [
  { name: '1 channel, many blocks, the last one partial', input: shape(71, 61, 1), batch: 1 },
  { name: '3 channels, many blocks, partial batch', input: shape(20, 25, 3), batch: 3, maxBatch: 5, momentum: 0.9 },
  { name: '7 channels (a vector and 3 more), one partial block', input: shape(5, 3, 7), batch: 2 },
  { name: '20 channels (a group of 16 and a vector), many blocks', input: shape(9, 11, 20), batch: 4, momentum: 0.01 },
  { name: '130 channels (8 groups of 16 and 2 more), blocks of 65 rows', input: shape(3, 3, 130), batch: 17 },
  { name: '35 channels per unit after a dense layer', input: shape(1, 1, 35), batch: 6 },
  { name: '32 channels, batch 1, 1x1', input: shape(1, 1, 32), batch: 1 },
  { name: '48 channels far from zero (variance in float32)', input: shape(6, 6, 48), batch: 3, offset: 1000, spread: 0.02 },
];

function prepare(h: LayerHarness, c: Case, seed: number): void {
  fillPattern(h.x, seed, c.spread ?? 2);
  for (let i = 0; i < h.x.length; i++) h.x[i] = Math.fround(h.x[i]! + (c.offset ?? 0) + 0.3 * (i % h.layer.input.channels));
  fillPattern(h.dy, seed + 1);
  fillPattern(h.params.gamma!, seed + 2, 0.5);
  for (let i = 0; i < h.params.gamma!.length; i++) h.params.gamma![i]! += 1;
  fillPattern(h.params.beta!, seed + 3, 0.5);
  fillPattern(h.stats.mean!, seed + 4);
  fillPattern(h.stats.variance!, seed + 5, 0.5);
  for (let i = 0; i < h.stats.variance!.length; i++) h.stats.variance![i]! += 1;
}

describe.each(KERNELS)('batch norm, %s kernels', (kernel) => {
  for (const c of CASES) {
    it(c.name, () => {
      const spec: BatchNormSpec = { type: 'batchnorm', momentum: c.momentum ?? 0.1, epsilon: 1e-5 };
      const layer = planLayer(spec, c.input);
      const h = layerHarness(kernel, batchnorm, layer, c.maxBatch ?? c.batch);
      prepare(h, c, 7);
      const n = c.batch * shapeSize(c.input);

      const ref = referencePass(h, c.batch, 'train', 0);
      const out = expectSameForAnyThreadCount(h, c.batch, 'train', 0);
      expect(normwiseError(out.y!, ref.y, 0, n), 'y').toBeLessThan(1e-6);
      expect(normwiseError(out.dx!, ref.dx!, 0, n), 'dx').toBeLessThan(2e-6);
      // Sums of up to 8,000 float32 values.
      expect(normwiseError(out['grad gamma']!, ref.grads.gamma!), 'dgamma').toBeLessThan(2e-5);
      expect(normwiseError(out['grad beta']!, ref.grads.beta!), 'dbeta').toBeLessThan(5e-6);
      expect(normwiseError(out['stat mean']!, ref.stats.mean!), 'running mean').toBeLessThan(1e-6);
      expect(normwiseError(out['stat variance']!, ref.stats.variance!), 'running variance').toBeLessThan(2e-6);
      expect(normwiseError(h.saved.invstd!, ref.saved.invstd!), 'invstd').toBeLessThan(1e-6);

      const refInfer = referencePass(h, c.batch, 'infer', 0);
      const infer = expectSameForAnyThreadCount(h, c.batch, 'infer', 0);
      expect(normwiseError(infer.y!, refInfer.y, 0, n), 'y (inference)').toBeLessThan(1e-6);
    });
  }

  it('as the first layer (no dx): the same parameter gradients', () => {
    const c = CASES[3]!;
    const layer = planLayer<BatchNormSpec>({ type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, c.input);
    const h = layerHarness(kernel, batchnorm, layer, c.batch);
    prepare(h, c, 3);
    const withDx = expectSameForAnyThreadCount(h, c.batch, 'train', 0);
    const without = expectSameForAnyThreadCount(h, c.batch, 'train', 0, false);
    expect(without['grad gamma']).toEqual(withDx['grad gamma']);
    expect(without['grad beta']).toEqual(withDx['grad beta']);
  });

  it('keeps invstd only: xhat, which the reference saves, has no memory in the core (the cases above run without it)', () => {
    const layer = planLayer<BatchNormSpec>({ type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, CASES[3]!.input);
    expect(layer.saved.map((s) => s.name)).toEqual(['xhat', 'invstd']);
    expect(Object.keys(layerHarness(kernel, batchnorm, layer, 2).saved)).toEqual(['invstd']);
  });

  it('blocks of rows depend on the channel count only', () => {
    expect([1, 3, 32, 64, 65, 256, 5000].map(blockRows)).toEqual([32, 32, 32, 32, 32, 128, 2500]);
  });
});
