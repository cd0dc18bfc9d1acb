/**
 * The core folds a ReLU into the batch norm before it, and the forward pass of a max pool after
 * that ReLU (src/core/layers/fusion.ts): which layers fold, and that the core's answers keep every
 * bit, in inference and in training. The network with a dropout between batch norm and ReLU
 * computes the same function, unfused: at inference a dropout does nothing, and in training one of
 * rate 0 multiplies by exactly 1 both ways. The shapes: odd sizes (a pool that leaves the last row
 * and column out), 8 and 5 channels (whole SIMD vectors, and one channel more), 2x2 windows (their
 * own code path) and overlapping 3x3 windows of stride 2.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { foldedLayers } from '../src/core/layers/fusion.ts';
import { initParams } from '../src/nn/init.ts';
import type { LayerSpec, NetworkSpec } from '../src/nn/layers/spec.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { Rng } from '../src/random/rng.ts';
import { coreTracker, fillPattern } from './core-helpers.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

const bn: LayerSpec = { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 };
const conv = (filters: number): LayerSpec => ({ type: 'conv', filters, kernel: 3, stride: 1, padding: 'same', bias: false });

function network(between: LayerSpec[]): NetworkSpec {
  return {
    input: { height: 13, width: 11, channels: 3 },
    layers: [
      conv(8), bn, ...between, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
      conv(5), bn, ...between, { type: 'relu' }, { type: 'maxpool', size: 3, stride: 2 }, { type: 'flatten' },
      { type: 'dense', units: 6, bias: true }, bn, ...between, { type: 'relu' }, { type: 'dense', units: 1, bias: true },
    ],
  };
}

describe('foldedLayers', () => {
  it('folds each ReLU right after a batch norm, and the forward pass of a max pool after it', () => {
    const plan = planNetwork(network([]));
    expect(plan.layers.map((l, i) => `${l.spec.type} ${foldedLayers(plan)[i]}`)).toEqual([
      'conv null', 'batchnorm null', 'relu all', 'maxpool forward',
      'conv null', 'batchnorm null', 'relu all', 'maxpool forward', 'flatten null',
      'dense null', 'batchnorm null', 'relu all', 'dense null',
    ]);
  });

  it('folds nothing when the layer before a ReLU cannot do its work, nor a max pool after an unfolded ReLU', () => {
    const plan = planNetwork(network([{ type: 'dropout', rate: 0.5 }]));
    expect(foldedLayers(plan).every((f) => f === null)).toBe(true); // a dropout between each batch norm and its ReLU
    const convRelu = planNetwork({ input: { height: 6, width: 6, channels: 2 }, layers: [conv(4), { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 }, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }] });
    expect(foldedLayers(convRelu).every((f) => f === null)).toBe(true);
  });
});

describe.each(['relaxed-simd', 'simd'] as const)('the core, %s kernels', (kernel) => {
  it('gives bit-identical probabilities with the layers folded, on 1 and 2 threads', async () => {
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(0)));
    const predict = async (spec: NetworkSpec, workers: number) => {
      const core = await cores.make({ network: spec, maxBatch: 7, loss: 'bce', kernel, workers, seed: 3 });
      initParams(core.plan, core.params, new Rng(5));
      const rng = new Rng(9);
      for (let i = 0; i < core.stats.length; i++) core.stats[i]! += 0.5 * rng.uniform(); // running statistics off their start
      for (const slice of core.plan.params) {
        if (!slice.decay) for (let i = slice.offset; i < slice.offset + slice.length; i++) core.params[i]! += 0.3 * (rng.uniform() - 0.5);
      }
      fillPattern(core.input, 21);
      const p = new Float32Array(7);
      core.predict(7, p);
      const q = new Float32Array(5);
      core.predict(5, q); // a partial batch
      return [...bits(p), ...bits(q)];
    };
    const unfused = await predict(network([{ type: 'dropout', rate: 0.5 }]), 1);
    expect(new Set(unfused).size).toBeGreaterThan(6); // the images get different answers
    for (const workers of [1, 2]) expect(await predict(network([]), workers), `${workers} thread(s)`).toEqual(unfused);
  });

  it('trains to bit-identical losses, weights and statistics with the layers folded, on 1 and 2 threads', async () => {
    const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    const train = async (spec: NetworkSpec, workers: number) => {
      const core = await cores.make({ network: spec, maxBatch: 7, loss: 'bce', kernel, workers, seed: 3 });
      initParams(core.plan, core.params, new Rng(5));
      core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        fillPattern(core.input, 21 + step);
        for (let s = 0; s < 7; s++) core.labels[s] = (s + step) % 2;
        losses.push(core.trainStep(step === 3 ? 5 : 7, 0.01, step)); // the last a partial batch
      }
      expect(core.params.every(Number.isFinite)).toBe(true);
      return { losses: bits(losses), params: bits(core.params), stats: bits(core.stats) };
    };
    const unfused = await train(network([{ type: 'dropout', rate: 0 }]), 1);
    expect(new Set(unfused.losses).size).toBe(4); // every step learns something
    for (const workers of [1, 2]) expect(await train(network([]), workers), `${workers} thread(s)`).toEqual(unfused);
  });
});
