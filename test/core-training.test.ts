/**
 * Training through the gradient core: the fused optimizer pass against the TypeScript optimizers
 * (bit for bit), results that do not depend on the number of threads (bit for bit), agreement with
 * the TypeScript reference core ('js') within float32 rounding, the gradient of the whole network
 * against finite differences and checkpoint state.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { initParams } from '../src/nn/init.ts';
import { maxRelativeError } from '../src/nn/gradcheck.ts';
import { LOSSES } from '../src/nn/losses.ts';
import { Network } from '../src/nn/network.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { Rng } from '../src/random/rng.ts';
import { createOptimizer } from '../src/optim/index.ts';
import { addWeightDecay } from '../src/optim/regularize.ts';
import { learningRateAt } from '../src/optim/schedule.ts';
import { configSchema, type GradientOptimizerConfig } from '../src/config/schema.ts';
import { gradientMethod } from '../src/train/engine.ts';
import type { OptimizerSpec } from '../src/optim/spec.ts';
import type { Core, CoreOptions } from '../src/core/index.ts';
import { coreTracker, expectSameTrainingOnAnyThreadCount, fillPattern, mlp, normwiseError } from './core-helpers.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

const makeCore = (options: CoreOptions): Promise<Core> => cores.make(options);

const SPECS: OptimizerSpec[] = [
  { type: 'sgd' },
  { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false },
  { type: 'momentum', beta: 0.8, form: 'classic', biasCorrection: true },
  { type: 'nesterov', beta: 0.9 },
  { type: 'rmsprop', rho: 0.9, epsilon: 1e-8 },
  { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
];

/** Batch number k: deterministic inputs and labels. */
function fillBatch(core: Core, k: number): void {
  fillPattern(core.input, 1000 + k);
  for (let s = 0; s < core.maxBatch; s++) core.labels[s] = (s + k) % 2;
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

describe('the fused optimizer pass', () => {
  const network = mlp(45, [10, 7], 'tanh');
  const plan = planNetwork(network);

  it.each(SPECS.map((s) => [s.type + ('form' in s ? ` ${s.form}` : ''), s] as const))(
    '%s equals the TypeScript optimizer bit for bit (with weight decay, over 3 steps)',
    async (_, spec) => {
      const core = await makeCore({ network, maxBatch: 6, loss: 'bce', workers: 2 });
      initParams(plan, core.params, new Rng(1));
      core.setOptimizer(spec, { weightDecay: 0.01 });
      const reference = createOptimizer(spec, core.paramCount);
      const weights = plan.params.filter((s) => s.decay).map((s) => [s.offset, s.offset + s.length] as const);
      for (let step = 0; step < 3; step++) {
        fillBatch(core, step);
        const params = Float32Array.from(core.params);
        core.gradient(6); // the gradient trainStep is about to use (deterministic)
        const grads = Float32Array.from(core.grads);
        core.trainStep(6, 0.05);
        for (const [from, to] of weights) addWeightDecay(grads, params, 0.01, from, to);
        reference.step(params, grads, 0.05);
        expect(bits(core.params)).toEqual(bits(params));
      }
      // The checkpoint state has the shape of src/optim's, and round-trips both ways.
      const state = core.getOptimizerState();
      expect(state).toEqual(reference.getState());
      const other = createOptimizer(spec, core.paramCount);
      other.setState(state);
      core.setOptimizer(spec, { weightDecay: 0.01 });
      core.setOptimizerState(other.getState());
      expect(core.getOptimizerState()).toEqual(state);
    },
  );

  it('clips by global norm (after weight decay) like the TypeScript reference core', async () => {
    const spec: OptimizerSpec = { type: 'adam', beta1: 0.9, beta2: 0.99, epsilon: 1e-7 };
    const wasm = await makeCore({ network, maxBatch: 6, loss: 'mse', workers: 3 });
    const js = await makeCore({ network, maxBatch: 6, loss: 'mse', kernel: 'js' });
    for (const core of [wasm, js]) {
      initParams(plan, core.params, new Rng(2));
      core.setOptimizer(spec, { weightDecay: 0.1, clipNorm: 0.05 });
    }
    for (let step = 0; step < 4; step++) {
      for (const core of [wasm, js]) fillBatch(core, step);
      expect(wasm.trainStep(6, 0.01)).toBeCloseTo(js.trainStep(6, 0.01), 5);
      expect(wasm.lastGradientNorm).toBeGreaterThan(0.05); // so the clipping did act
      expect(wasm.lastGradientNorm).toBeCloseTo(js.lastGradientNorm, 5);
    }
    expect(normwiseError(wasm.params, js.params)).toBeLessThan(1e-5);
  });
});

describe('the training method (gradientMethod) gives the core the config\'s optimizer settings', () => {
  const network = mlp(45, [10, 7], 'tanh');
  const plan = planNetwork(network);
  const optimizer = { type: 'adam', lr: 0.05, weightDecay: 0.1, clipNorm: 0.05, warmupSteps: 2, schedule: { type: 'step', every: 1, factor: 0.5 } };
  // One core for every run (setOptimizer resets the optimizer's state; the weights are set anew).
  let shared: Core | undefined;
  const theCore = async (): Promise<Core> => (shared ??= await makeCore({ network, maxBatch: 6, loss: 'bce', workers: 1 }));

  /** Weights after 4 batches of `optimizer` through gradientMethod (stepsPerEpoch 2, 4 steps in all). */
  async function trainThroughMethod(overrides: Record<string, unknown>): Promise<Float32Array> {
    const config = configSchema.parse({ optimizer: { ...optimizer, ...overrides } }).optimizer as GradientOptimizerConfig;
    const core = await theCore();
    initParams(plan, core.params, new Rng(4));
    const method = gradientMethod(core, config, 2, 4);
    for (let step = 0; step < 4; step++) {
      fillBatch(core, step);
      method.trainBatch(6, step);
    }
    return Float32Array.from(core.params);
  }

  it('the same weights as the core told the settings directly', async () => {
    const core = await theCore();
    initParams(plan, core.params, new Rng(4));
    core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 0.1, clipNorm: 0.05 });
    for (let step = 0; step < 4; step++) {
      fillBatch(core, step);
      core.trainStep(6, learningRateAt(0.05, { type: 'step', every: 1, factor: 0.5 }, 2, step, 2, 4), step);
    }
    const direct = bits(core.params);
    expect(bits(await trainThroughMethod({}))).toEqual(direct);
  });

  it('each setting turned off changes them (so each one reaches the core and acts)', async () => {
    const all = bits(await trainThroughMethod({}));
    for (const off of [{ weightDecay: 0 }, { clipNorm: null }, { warmupSteps: 0 }, { schedule: { type: 'constant' } }]) {
      expect(bits(await trainThroughMethod(off)), JSON.stringify(off)).not.toEqual(all);
    }
  });
});

describe('determinism', () => {
  // Odd sizes, every layer split (minSplitWork 0): 4 threads get uneven shares of rows and columns.
  const network = mlp(301, [22, 9], 'relu');
  const plan = planNetwork(network);
  const spec: OptimizerSpec = { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

  async function train(options: { workers?: number; kernel?: 'js' }): Promise<{ params: Float32Array; losses: number[] }> {
    const core = await makeCore({ network, maxBatch: 11, loss: 'bce', ...options });
    initParams(plan, core.params, new Rng(42));
    core.setOptimizer(spec, { weightDecay: 1e-3, clipNorm: 1 });
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      fillBatch(core, step);
      losses.push(core.trainStep(step % 3 === 2 ? 5 : 11, 0.01)); // with partial batches
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

describe('gradient check', () => {
  const network = mlp(23, [8, 5], 'tanh');
  const plan = planNetwork(network);
  /** A core at a fixed point (non-zero biases) with batch 1 loaded, and the gradient it computes there. */
  async function coreAtTestPoint() {
    const core = await makeCore({ network, maxBatch: 5, loss: 'bce', workers: 2 });
    initParams(plan, core.params, new Rng(9));
    const bias = plan.params.find((s) => s.name === 'bias')!;
    fillPattern(core.params.subarray(bias.offset, bias.offset + bias.length), 3, 0.5);
    fillBatch(core, 1);
    core.gradient(5);
    return { core, grads: Float32Array.from(core.grads) };
  }

  it('matches central finite differences of the loss computed by the core', async () => {
    const { core, grads } = await coreAtTestPoint();
    // float32 losses carry ~1e-7 relative error, so eps is large and the tolerance loose: this check
    // says the core's gradient is the derivative of the core's own loss; the next one is the tight one.
    const eps = 1e-2;
    let worst = 0;
    for (let i = 0; i < core.paramCount; i += 7) {
      const saved = core.params[i]!;
      core.params[i] = saved + eps;
      const plus = core.evaluate(5);
      core.params[i] = saved - eps;
      const minus = core.evaluate(5);
      core.params[i] = saved;
      const fd = (plus - minus) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - grads[i]!) / Math.max(Math.abs(fd) + Math.abs(grads[i]!), 1e-3));
    }
    expect(worst).toBeLessThan(1e-2);
  });

  it('matches, entry by entry, the float64 gradient (itself proven by finite differences) closely enough to catch a 0.5 % error in any one', async () => {
    const { core, grads } = await coreAtTestPoint();
    // The same network, parameters and batch in float64 (src/nn, checked against central differences
    // to 1e-5 in test/nn-gradcheck.test.ts): the core's float32 gradient differs from it by rounding only.
    const B = 5;
    const D = plan.input.channels;
    const net = new Network(plan, B, Float64Array.from(core.params));
    net.lossAndGradient(Float64Array.from(core.input.subarray(0, B * D)), Float64Array.from(core.labels.subarray(0, B)), B, LOSSES.bce);
    const exact = net.grads;
    let largest = 0;
    for (const g of exact) largest = Math.max(largest, Math.abs(g));
    // float32 rounding leaves ~5e-6 relative here; entries below 1e-6 of the largest are compared on that scale.
    const floor = 1e-6 * largest;
    const tolerance = 1e-4;
    expect(maxRelativeError(grads, exact, undefined, floor)).toBeLessThan(tolerance);
    // The yardstick is tight enough: one entry 0.5 % off, anywhere above the floor, fails it.
    let checked = 0;
    for (let i = 0; i < grads.length; i++) {
      if (Math.abs(exact[i]!) < floor) continue;
      const off = Float32Array.from(grads);
      off[i]! *= 1.005;
      expect(maxRelativeError(off, exact, undefined, floor), `entry ${i}`).toBeGreaterThan(tolerance);
      checked++;
    }
    expect(checked).toBeGreaterThan(0.9 * grads.length);
  });
});

describe('inference', () => {
  it('predicts probabilities in (0, 1) matching the reference core', async () => {
    const network = mlp(64, [16], 'relu');
  const plan = planNetwork(network);
    const wasm = await makeCore({ network, maxBatch: 9, loss: 'bce', workers: 2 });
    const js = await makeCore({ network, maxBatch: 9, loss: 'bce', kernel: 'js' });
    for (const core of [wasm, js]) {
      initParams(plan, core.params, new Rng(5));
      fillBatch(core, 0);
    }
    const a = new Float32Array(9);
    const b = new Float32Array(9);
    wasm.predict(9, a);
    js.predict(9, b);
    expect(normwiseError(a, b)).toBeLessThan(1e-6);
    for (const p of a) expect(p > 0 && p < 1).toBe(true);
  });

  it('rejects bad arguments with clear errors', async () => {
    const core = await makeCore({ network: mlp(8, [4], 'relu'), maxBatch: 4, loss: 'bce', workers: 2 });
    expect(() => core.trainStep(2, 0.1)).toThrow(/setOptimizer/);
    expect(() => core.evaluate(5)).toThrow(/batch size 5 outside \[1, 4\]/);
    expect(() => core.evaluate(0)).toThrow(/batch size/);
    expect(() => core.predict(4, new Float32Array(3))).toThrow(/holds 3 values, 4 needed/);
    expect(() => core.setOptimizer({ type: 'sgd' }, { clipNorm: -1 })).toThrow(/clipNorm/);
    core.setOptimizer({ type: 'sgd' });
    expect(() => core.trainStep(4, NaN)).toThrow(/learning rate/);
    expect(core.evaluate(4)).toBeGreaterThan(0); // still usable after argument errors
  });
});
