/**
 * Networks of batch norm, pooling and dropout layers through the whole gradient core (its walk,
 * threads and drivers): gradients, running statistics and losses against the TypeScript reference
 * network, in training and inference mode, with full and partial batches; bit-identical results
 * for 1, 2 and 3 threads, every layer split (minSplitWork 0), in both kernel flavours, and
 * bit-identical weights and statistics after a few Adam steps on 1, 2 and 4 threads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Core } from '../src/core/index.ts';
import { initParams } from '../src/nn/init.ts';
import type { LayerSpec, NetworkSpec } from '../src/nn/layers/spec.ts';
import { LOSSES } from '../src/nn/losses.ts';
import { Network } from '../src/nn/network.ts';
import { Rng } from '../src/random/rng.ts';
import { coreTracker, fillPattern, normwiseError } from './core-helpers.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

const bn = (momentum = 0.1): LayerSpec => ({ type: 'batchnorm', momentum, epsilon: 1e-5 });
const dense = (units: number): LayerSpec => ({ type: 'dense', units, bias: true });

const NETWORKS: { name: string; network: NetworkSpec; maxBatch: number }[] = [
  {
    name: 'the reference CNN without its convolutions: [bn, relu, maxpool 2x2] x 2, dense, dropout',
    network: {
      input: { height: 10, width: 9, channels: 4 },
      layers: [
        bn(), { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
        bn(0.3), { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
        { type: 'flatten' }, dense(6), { type: 'relu' }, { type: 'dropout', rate: 0.5 }, dense(1),
      ],
    },
    maxBatch: 5,
  },
  {
    name: 'overlapping max pool, average pool, dropout on an image, batch norm per unit',
    network: {
      input: { height: 9, width: 8, channels: 3 },
      layers: [
        { type: 'maxpool', size: 3, stride: 2 }, { type: 'avgpool', size: 2, stride: 1 }, bn(), { type: 'tanh' },
        { type: 'dropout', rate: 0.3 }, { type: 'flatten' }, dense(7), bn(0.9), { type: 'sigmoid' }, dense(1),
      ],
    },
    maxBatch: 4,
  },
  {
    name: 'average pool with gaps, batch norm on 1 channel, global average pooling',
    network: {
      input: { height: 11, width: 7, channels: 1 },
      layers: [{ type: 'avgpool', size: 2, stride: 3 }, bn(), { type: 'leaky_relu' }, { type: 'globalavgpool' }, dense(3), { type: 'relu' }, dense(1)],
    },
    maxBatch: 6,
  },
];

interface Outcome {
  losses: number[];
  grads: Float32Array[];
  stats: Float32Array[];
  probabilities: Float32Array[];
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** Two gradient calls (a full and a partial batch, different steps), then inference. */
function exercise(core: Core, seed: number): Outcome {
  const out: Outcome = { losses: [], grads: [], stats: [], probabilities: [] };
  for (const [B, step] of [[core.maxBatch, 3], [core.maxBatch - 2, 4]] as const) {
    fillPattern(core.input, seed + step);
    for (let s = 0; s < core.maxBatch; s++) core.labels[s] = (s + step) % 2;
    out.losses.push(core.gradient(B, step));
    out.grads.push(Float32Array.from(core.grads));
    out.stats.push(Float32Array.from(core.stats));
    const p = new Float32Array(B);
    out.losses.push(core.evaluate(B, p));
    out.probabilities.push(p);
  }
  return out;
}

/** The same on the float64 reference network, from the same float32 numbers. */
function exerciseReference(core: Core, params: Float32Array, stats: Float32Array, seed: number): Outcome {
  const net = new Network(core.plan, core.maxBatch, Float64Array.from(params), { stats: Float64Array.from(stats), seed: 17 });
  const out: Outcome = { losses: [], grads: [], stats: [], probabilities: [] };
  const X = new Float32Array(core.input.length);
  const y = new Float64Array(core.maxBatch);
  for (const [B, step] of [[core.maxBatch, 3], [core.maxBatch - 2, 4]] as const) {
    fillPattern(X, seed + step);
    for (let s = 0; s < core.maxBatch; s++) y[s] = (s + step) % 2;
    const X64 = Float64Array.from(X);
    out.losses.push(net.lossAndGradient(X64, y, B, LOSSES.bce, step));
    out.grads.push(Float32Array.from(net.grads));
    out.stats.push(Float32Array.from(net.stats));
    out.losses.push(net.loss(X64, y, B, LOSSES.bce));
    const p = new Float64Array(B);
    net.predict(X64, B, p);
    out.probabilities.push(Float32Array.from(p));
  }
  return out;
}

async function makeCore(network: NetworkSpec, maxBatch: number, kernel: 'relaxed-simd' | 'simd', workers: number): Promise<Core> {
  const core = await cores.make({ network, maxBatch, loss: 'bce', kernel, workers, seed: 17 });
  expect(core.kernel).toBe(kernel);
  initParams(core.plan, core.params, new Rng(5));
  // Batch-norm parameters and running statistics off their starting values.
  const rng = new Rng(9);
  for (const slice of core.plan.params) {
    if (slice.decay) continue;
    for (let i = slice.offset; i < slice.offset + slice.length; i++) core.params[i]! += 0.3 * (rng.uniform() - 0.5);
  }
  for (let i = 0; i < core.stats.length; i++) core.stats[i]! += 0.5 * rng.uniform();
  return core;
}

describe.each(['relaxed-simd', 'simd'] as const)('%s kernels', (kernel) => {
  for (const { name, network, maxBatch } of NETWORKS) {
    it(`${name}: the reference's results, the same bits on 1, 2 and 3 threads`, async () => {
      const one = await makeCore(network, maxBatch, kernel, 1);
      const params = Float32Array.from(one.params);
      const stats = Float32Array.from(one.stats);
      const first = exercise(one, 11);
      const ref = exerciseReference(one, params, stats, 11);
      first.losses.forEach((loss, i) => expect(loss, `loss ${i}`).toBeCloseTo(ref.losses[i]!, 5));
      first.grads.forEach((g, i) => expect(normwiseError(g, ref.grads[i]!), `gradient ${i}`).toBeLessThan(2e-5));
      first.stats.forEach((s, i) => expect(normwiseError(s, ref.stats[i]!), `statistics ${i}`).toBeLessThan(5e-6));
      first.probabilities.forEach((p, i) => expect(normwiseError(p, ref.probabilities[i]!), `probabilities ${i}`).toBeLessThan(1e-5));
      for (const workers of [2, 3]) {
        const core = await makeCore(network, maxBatch, kernel, workers);
        const other = exercise(core, 11);
        expect(other.losses, `losses on ${workers} threads`).toEqual(first.losses);
        other.grads.forEach((g, i) => expect(bits(g), `gradient ${i} on ${workers} threads`).toEqual(bits(first.grads[i]!)));
        other.stats.forEach((s, i) => expect(bits(s), `statistics ${i} on ${workers} threads`).toEqual(bits(first.stats[i]!)));
        other.probabilities.forEach((p, i) => expect(bits(p), `probabilities ${i} on ${workers} threads`).toEqual(bits(first.probabilities[i]!)));
      }
    });
  }

  it('training with Adam: bit-identical weights and statistics on 1, 2 and 4 threads', async () => {
    const { network, maxBatch } = NETWORKS[0]!;
    const train = async (workers: number) => {
      const core = await makeCore(network, maxBatch, kernel, workers);
      core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 1e-3 });
      const losses: number[] = [];
      for (let step = 0; step < 5; step++) {
        fillPattern(core.input, 100 + step);
        for (let s = 0; s < maxBatch; s++) core.labels[s] = (s * 3 + step) % 2;
        losses.push(core.trainStep(step === 2 ? 3 : maxBatch, 0.01, step));
      }
      return { losses, params: bits(core.params), stats: bits(core.stats) };
    };
    const one = await train(1);
    for (const workers of [2, 4]) {
      const other = await train(workers);
      expect(other.losses).toEqual(one.losses);
      expect(other.params).toEqual(one.params);
      expect(other.stats).toEqual(one.stats);
    }
  });
});
