/**
 * Inference folds a ReLU into the batch norm before it (src/core/layers/fusion.ts): which layers
 * fold, what the thread then calls, and that the core's answers keep every bit. The network with a
 * dropout between batch norm and ReLU (nothing at inference) computes the same function, unfused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fuseReluForInference } from '../src/core/layers/fusion.ts';
import type { LayerAddresses, PreparedLayer } from '../src/core/layers/index.ts';
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
    input: { height: 12, width: 10, channels: 3 },
    layers: [
      conv(8), bn, ...between, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
      conv(5), bn, ...between, { type: 'relu' }, { type: 'flatten' },
      { type: 'dense', units: 6, bias: true }, bn, { type: 'relu' }, { type: 'dense', units: 1, bias: true },
    ],
  };
}

describe('fuseReluForInference', () => {
  /** Fake prepared layers that record what they are asked to do. */
  function recorder(plan: ReturnType<typeof planNetwork>, calls: string[]): PreparedLayer[] {
    return plan.layers.map((l, i) => {
      const layer: PreparedLayer = {
        forward: (_B, mode) => void calls.push(`${i} ${mode}`),
        backward: () => void calls.push(`${i} backward`),
      };
      if (l.spec.type === 'batchnorm') layer.inferWithRelu = (_B, y) => void calls.push(`${i} infer+relu into ${y}`);
      return layer;
    });
  }
  const addressesOf = (n: number): LayerAddresses[] =>
    Array.from({ length: n }, (_, i) => ({ x: 1000 * i, y: 1000 * (i + 1), dy: 0, dx: 0, params: {}, grads: {}, stats: {}, saved: {}, buffers: {} }));

  it('folds each ReLU right after a batch norm, and only in inference', () => {
    const plan = planNetwork(network([]));
    const calls: string[] = [];
    const { layers, skipped } = fuseReluForInference(plan, recorder(plan, calls), addressesOf(plan.layers.length));
    const types = plan.layers.map((l) => l.spec.type);
    expect(skipped.flatMap((s, i) => (s ? [i] : []))).toEqual(types.flatMap((t, i) => (t === 'relu' && types[i - 1] === 'batchnorm' ? [i] : [])));
    expect(skipped.filter(Boolean)).toHaveLength(3);
    for (const mode of ['infer', 'train'] as const) for (const layer of layers) layer.forward(4, mode, 0, 0, 0, 1);
    layers.forEach((layer) => layer.backward(4, 0, 0, 1));
    // Batch norm 1 writes into the output of the ReLU 2 (its y: 3000); the ReLUs do nothing at inference.
    expect(calls.filter((c) => c.endsWith('infer') || c.includes('infer+relu'))).toEqual([
      '0 infer', '1 infer+relu into 3000', '3 infer', '4 infer', '5 infer+relu into 7000', '7 infer', '8 infer', '9 infer+relu into 11000', '11 infer',
    ]);
    expect(calls.filter((c) => c.endsWith('train'))).toEqual(plan.layers.map((_, i) => `${i} train`));
    expect(calls.filter((c) => c.endsWith('backward'))).toEqual(plan.layers.map((_, i) => `${i} backward`));
  });

  it('leaves a ReLU alone when the layer before it cannot fold it', () => {
    const plan = planNetwork(network([{ type: 'dropout', rate: 0.5 }]));
    const { skipped } = fuseReluForInference(plan, recorder(plan, []), addressesOf(plan.layers.length));
    expect(skipped.slice(0, 8)).toEqual(new Array(8).fill(false)); // the convolution blocks: a dropout in between
    expect(skipped.filter(Boolean)).toHaveLength(1); // the dense block's batch norm -> ReLU
  });
});

describe.each(['relaxed-simd', 'simd'] as const)('the core, %s kernels', (kernel) => {
  it('gives bit-identical probabilities with the ReLUs folded, on 1 and 2 threads', async () => {
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
});
