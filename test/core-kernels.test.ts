/**
 * The WebAssembly kernels against the TypeScript reference network (src/nn), on shapes chosen to
 * hit every edge of the kernels: input sizes that are not multiples of 4 (SIMD width) or of the
 * panel width (256) and longer than a forward chunk (1024), layer widths that are not multiples of
 * the 4-row tile or of the 2-row pairs, batch 1, a partial batch and a full odd batch; both kernel
 * flavours; one thread and an odd number of threads with every layer split.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, type ActivationName } from '../src/nn/activations.ts';
import type { NetworkSpec } from '../src/nn/layers/spec.ts';
import { LOSSES, type LossName } from '../src/nn/losses.ts';
import { Network } from '../src/nn/network.ts';
import type { Core } from '../src/core/index.ts';
import { coreTracker, fillPattern, mlp, normwiseError } from './core-helpers.ts';

const maxBatch = 7;
const cores = coreTracker();
afterAll(() => cores.closeAll());

async function makeCore(network: NetworkSpec, loss: LossName, kernel: 'relaxed-simd' | 'simd', workers: number): Promise<Core> {
  return cores.make({ network, maxBatch, loss, kernel, workers });
}

/** The reference in double precision, fed the same float32 numbers. */
function reference(core: Core, loss: LossName, B: number): { net: Network; value: number; probabilities: Float64Array } {
  const net = new Network(core.plan, maxBatch, Float64Array.from(core.params));
  const X = Float64Array.from(core.input);
  const y = Float64Array.from(core.labels);
  const value = net.lossAndGradient(X, y, B, LOSSES[loss]);
  const probabilities = new Float64Array(B);
  new Network(core.plan, maxBatch, Float64Array.from(core.params)).predict(X, B, probabilities);
  return { net, value, probabilities };
}

function fillBatch(core: Core, seed: number): void {
  fillPattern(core.input, seed);
  for (let s = 0; s < maxBatch; s++) core.labels[s] = (s * 7 + seed) % 3 === 0 ? 1 : 0;
}

function initWeights(core: Core, seed: number): void {
  fillPattern(core.params, seed);
  for (const slice of core.plan.params) {
    const r = slice.init.kind === 'random' ? Math.sqrt(3 / slice.init.fanIn) : 0.1;
    for (let i = slice.offset; i < slice.offset + slice.length; i++) core.params[i]! *= r;
  }
}

/** Compares predict, evaluate and gradient with the reference for batches 1, 4 and 7. */
function checkAgainstReference(core: Core, loss: LossName): void {
  for (const B of [1, 4, 7]) {
    const ref = reference(core, loss, B);
    const p = new Float32Array(B);
    core.predict(B, p);
    expect(normwiseError(p, ref.probabilities)).toBeLessThan(2e-6);
    expect(core.evaluate(B)).toBeCloseTo(ref.value, 5);
    expect(core.gradient(B)).toBeCloseTo(ref.value, 5);
    // Slice by slice, weights and biases: each product is a float32 sum of up to ~1000 terms.
    for (const slice of core.plan.params) {
      expect(normwiseError(core.grads, ref.net.grads, slice.offset, slice.offset + slice.length), `${slice.name} of layer ${slice.layer}, batch ${B}`).toBeLessThan(1e-5);
    }
  }
}

describe.each(['relaxed-simd', 'simd'] as const)('%s kernels against the TypeScript reference', (kernel) => {
  it.each([1, 3])('odd shapes (1029-13-5-1, relu, bce) on %i thread(s)', async (workers) => {
    const core = await makeCore(mlp(1029, [13, 5], 'relu'), 'bce', kernel, workers);
    expect(core.kernel).toBe(kernel);
    expect(core.workers).toBe(workers);
    initWeights(core, 11);
    fillBatch(core, 5);
    checkAgainstReference(core, 'bce');
  });

  it.each(ACTIVATION_NAMES.map((a, i) => [a, i % 2 === 0 ? 'mse' : 'bce'] as [ActivationName, LossName]))(
    'activation %s with loss %s (37-9-6-1, 2 threads)',
    async (activation, loss) => {
      const core = await makeCore(mlp(37, [9, 6], activation), loss, kernel, 2);
      initWeights(core, 3);
      fillBatch(core, 8);
      checkAgainstReference(core, loss);
    },
  );

  it('logistic regression (no hidden layer) and a 300-wide layer (two panels)', async () => {
    const lr = await makeCore(mlp(301, [], 'relu'), 'bce', kernel, 2);
    initWeights(lr, 4);
    fillBatch(lr, 2);
    checkAgainstReference(lr, 'bce');
    const wide = await makeCore(mlp(300, [300], 'leaky_relu'), 'mse', kernel, 2);
    initWeights(wide, 6);
    fillBatch(wide, 9);
    checkAgainstReference(wide, 'mse');
  });
});
