/**
 * Convolutional networks in the gradient core: predictions, losses and every parameter gradient
 * against the TypeScript reference network (float64 on the same float32 numbers), through both
 * kernel sets (direct for 1 and 3 channels, strides 2, kernels 1, 2, 5; Winograd for 3x3 stride-1
 * layers of 8 channels or more, same and valid), both flavours, 1 and 3 threads, batches 1, 4 and a
 * full odd batch; and weights bit-identical for 1, 2 and 4 threads after training steps.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { initParams } from '../src/nn/init.ts';
import type { LayerSpec, NetworkSpec } from '../src/nn/layers/spec.ts';
import { LOSSES } from '../src/nn/losses.ts';
import { Network } from '../src/nn/network.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { Rng } from '../src/random/rng.ts';
import type { OptimizerSpec } from '../src/optim/spec.ts';
import type { Core, CoreOptions } from '../src/core/index.ts';
import { coreTracker, expectSameTrainingOnAnyThreadCount, fillPattern, normwiseError } from './core-helpers.ts';
import { conv } from './helpers/networks.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

const out: LayerSpec = { type: 'dense', units: 1, bias: true };
const flatten: LayerSpec = { type: 'flatten' };

const NETWORKS: [string, NetworkSpec][] = [
  [
    'direct: 3 channels, 3x3 same, then 3x3 stride 2 valid',
    { input: { height: 9, width: 11, channels: 3 }, layers: [conv(5, 3), { type: 'relu' }, conv(9, 3, 2, 'valid'), { type: 'tanh' }, flatten, out] },
  ],
  [
    'direct 5x5 on 1 channel, Winograd 3x3 same (8 channels, no bias), direct 1x1',
    { input: { height: 7, width: 6, channels: 1 }, layers: [conv(8, 5), { type: 'relu' }, conv(10, 3, 1, 'same', false), { type: 'relu' }, conv(4, 1), flatten, out] },
  ],
  [
    'Winograd 3x3 valid (12 channels, partial tiles), direct 2x2 stride 2',
    { input: { height: 10, width: 13, channels: 12 }, layers: [conv(16, 3, 1, 'valid'), { type: 'leaky_relu' }, conv(6, 2, 2), { type: 'sigmoid' }, flatten, out] },
  ],
];

const maxBatch = 7;

function initWeights(core: Core, seed: number): void {
  initParams(core.plan, core.params, new Rng(seed));
  for (const slice of core.plan.params) {
    if (slice.name === 'bias') fillPattern(core.params.subarray(slice.offset, slice.offset + slice.length), seed, 0.1);
  }
}

function fillBatch(core: Core, seed: number): void {
  fillPattern(core.input, seed);
  for (let s = 0; s < core.maxBatch; s++) core.labels[s] = (s * 7 + seed) % 3 === 0 ? 1 : 0;
}

describe.each(['relaxed-simd', 'simd'] as const)('%s kernels: convolutional networks against the TypeScript reference', (kernel) => {
  it.each(NETWORKS.flatMap(([name, network]) => [1, 3].map((workers) => [name, workers, network] as const)))(
    '%s, %i thread(s)',
    async (_name, workers, network) => {
      const core = await cores.make({ network, maxBatch, loss: 'bce', kernel, workers });
      expect(core.kernel).toBe(kernel);
      initWeights(core, 3);
      fillBatch(core, 5);
      for (const B of [1, 4, 7]) {
        const net = new Network(core.plan, maxBatch, Float64Array.from(core.params));
        const X = Float64Array.from(core.input);
        const value = net.lossAndGradient(X, Float64Array.from(core.labels), B, LOSSES.bce);
        const probabilities = new Float64Array(B);
        new Network(core.plan, maxBatch, Float64Array.from(core.params)).predict(X, B, probabilities);
        const p = new Float32Array(B);
        core.predict(B, p);
        expect(normwiseError(p, probabilities)).toBeLessThan(1e-5);
        expect(core.evaluate(B)).toBeCloseTo(value, 5);
        expect(core.gradient(B)).toBeCloseTo(value, 5);
        for (const slice of core.plan.params) {
          const error = normwiseError(core.grads, net.grads, slice.offset, slice.offset + slice.length);
          expect(error, `${slice.name} of layer ${slice.layer}, batch ${B}`).toBeLessThan(3e-5);
        }
      }
    },
  );
});

describe('determinism of convolutional networks', () => {
  const network: NetworkSpec = {
    input: { height: 11, width: 10, channels: 3 },
    layers: [conv(8, 3), { type: 'relu' }, conv(12, 3, 1, 'same', false), { type: 'relu' }, conv(6, 3, 2), { type: 'relu' }, flatten, { type: 'dense', units: 5, bias: true }, { type: 'relu' }, out],
  };
  const plan = planNetwork(network);
  const spec: OptimizerSpec = { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

  async function train(options: Partial<CoreOptions>): Promise<{ params: Float32Array; losses: number[] }> {
    const core = await cores.make({ network, maxBatch: 9, loss: 'bce', ...options });
    initParams(plan, core.params, new Rng(42));
    core.setOptimizer(spec, { weightDecay: 1e-3 });
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      fillBatch(core, 100 + step);
      losses.push(core.trainStep(step % 2 === 1 ? 4 : 9, 0.01)); // with partial batches
    }
    const params = Float32Array.from(core.params);
    await core.close();
    return { params, losses };
  }

  it('gives bit-identical weights and losses with 1, 2 and 4 threads, close to the TypeScript reference', async () => {
    const start = new Float32Array(plan.paramCount);
    initParams(plan, start, new Rng(42));
    await expectSameTrainingOnAnyThreadCount(train, start);
  });
});
