// The core's warm-ups. The training warm-up (every job and optimizer, on a few images) leaves no
// trace: every buffer a caller sees is zero and the statistics are at their initial values. The
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
