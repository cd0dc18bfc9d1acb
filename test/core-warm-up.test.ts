// The core's warm-ups. The training warm-up (every job and optimizer, on a few images) leaves no
// trace: every buffer a caller sees is zero and the statistics are at their initial values; it
// clears only what carries over from one call to the next, which holds because nothing else does:
// a core whose every buffer was filled by other work trains exactly as a fresh one. The
// inference-only warm-up (nn-eval's): a core started with warmUp: 'inference' predicts exactly what
// one started with the training warm-up predicts, from the same weights and statistics, and its
// statistics start at their initial values.
import { afterAll, describe, expect, it } from 'vitest';
import { initStats } from '../src/nn/init.ts';
import { coreTracker, fillPattern } from './core-helpers.ts';
import { conv } from './helpers/networks.ts';
import type { NetworkSpec } from '../src/nn/layers/spec.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

const network: NetworkSpec = {
  input: { height: 8, width: 8, channels: 3 },
  layers: [conv(4, 3), { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 }, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }],
};

describe("the core's training warm-up", () => {
  it('leaves every buffer cleared and the statistics initial, at a batch larger than its own', async () => {
    const core = await cores.make({ network, maxBatch: 40, loss: 'bce', workers: 2 });
    for (const [name, buffer] of Object.entries({ params: core.params, grads: core.grads, input: core.input, labels: core.labels })) {
      expect(buffer.every((v) => Object.is(v, 0)), name).toBe(true);
    }
    const initial = new Float32Array(core.stats.length);
    initStats(core.plan, initial);
    expect(Array.from(core.stats)).toEqual(Array.from(initial));
  });
});

describe('what carries over between calls', () => {
  // direct conv (3 channels), Winograd conv (8 channels), batch norm, ReLU, max pool, dropout, dense
  const deeper: NetworkSpec = {
    input: { height: 8, width: 8, channels: 3 },
    layers: [
      conv(8, 3, 1, 'same', false), { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, { type: 'relu' },
      conv(12, 3, 1, 'same', false), { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, { type: 'relu' },
      { type: 'maxpool', size: 2, stride: 2 }, { type: 'flatten' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 1, bias: true },
    ],
  };
  const maxBatch = 24;

  /** Trains 4 steps of 5 images (fewer than the warm-up's) from fixed weights; the weights, statistics and last loss after them. */
  function train(core: Awaited<ReturnType<typeof cores.make>>): { params: number[]; stats: number[]; loss: number } {
    fillPattern(core.params, 11, 0.3);
    initStats(core.plan, core.stats);
    core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 1e-4, clipNorm: 1 });
    let loss = NaN;
    for (let step = 0; step < 4; step++) {
      fillPattern(core.input.subarray(0, 5 * 8 * 8 * 3), 20 + step);
      for (let i = 0; i < 5; i++) core.labels[i] = (i + step) & 1;
      loss = core.trainStep(5, 0.01, step);
    }
    return { params: Array.from(core.params), stats: Array.from(core.stats), loss };
  }

  it('nothing but the weights, optimizer state and statistics: a core filled by other work trains as a fresh one, bit for bit', async () => {
    const fresh = await cores.make({ network: deeper, maxBatch, loss: 'bce', workers: 2 });
    const used = await cores.make({ network: deeper, maxBatch, loss: 'bce', workers: 2 });
    // other work on the second: full batches of other images, another optimizer, inference passes
    fillPattern(used.params, 3, 0.5);
    used.setOptimizer({ type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false }, { weightDecay: 1e-3, clipNorm: 0.5 });
    for (let step = 0; step < 3; step++) {
      fillPattern(used.input, 40 + step, 2);
      for (let i = 0; i < maxBatch; i++) used.labels[i] = i % 3 === 0 ? 1 : 0;
      used.trainStep(maxBatch, 0.1, step);
      used.evaluate(maxBatch);
    }
    const a = train(fresh);
    const b = train(used);
    expect(b.loss).toBe(a.loss);
    expect(b.params).toEqual(a.params);
    expect(b.stats).toEqual(a.stats);
    expect(Number.isFinite(a.loss)).toBe(true);
  });
});

describe("the core's inference warm-up", () => {
  it('gives the same predictions as the full warm-up, and initial statistics', async () => {
    const B = 20;
    const full = await cores.make({ network, maxBatch: B, loss: 'bce', workers: 2 });
    const inference = await cores.make({ network, maxBatch: B, loss: 'bce', workers: 2, warmUp: 'inference' });
    expect(Array.from(inference.stats)).toEqual(Array.from(full.stats));
    const initial = new Float32Array(full.stats.length);
    initStats(full.plan, initial);
    expect(Array.from(inference.stats)).toEqual(Array.from(initial));
    const out = [new Float32Array(B), new Float32Array(B)];
    for (const [k, core] of [full, inference].entries()) {
      fillPattern(core.params, 1, 0.3);
      fillPattern(core.stats, 2, 0.2);
      for (let i = 0; i < core.stats.length; i++) core.stats[i] = Math.abs(core.stats[i]!) + 0.5; // variances must be positive
      fillPattern(core.input, 3);
      core.predict(B, out[k]!);
    }
    expect(Array.from(out[1]!)).toEqual(Array.from(out[0]!));
    expect(new Set(out[0]).size).toBeGreaterThan(1); // the answers depend on the images
  });
});
