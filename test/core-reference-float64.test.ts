/**
 * The TypeScript reference core with float64 buffers (JsCore given `array: Float64Array`), which the
 * parity bench trains against PyTorch in double: every buffer, the optimizer's state included, is
 * float64, so a training step is the reference's arithmetic without float32 rounding.
 */
import { describe, expect, it } from 'vitest';
import { JsCore } from '../src/core/js-core.ts';
import { initParams } from '../src/nn/init.ts';
import type { NetworkSpec } from '../src/nn/layers/spec.ts';
import { LOSSES } from '../src/nn/losses.ts';
import { Network } from '../src/nn/network.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { addWeightDecay, createOptimizer, type OptimizerSpec } from '../src/optim/index.ts';
import { Rng } from '../src/random/rng.ts';
import { fillPattern } from './core-helpers.ts';

// The layer kinds of the parity network, at a test's size: conv -> batch norm -> ReLU -> max pool, dense.
const network: NetworkSpec = {
  input: { height: 6, width: 6, channels: 2 },
  layers: [
    { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias: false },
    { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
    { type: 'relu' },
    { type: 'maxpool', size: 2, stride: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 4, bias: true },
    { type: 'relu' },
    { type: 'dense', units: 1, bias: true },
  ],
};
const plan = planNetwork(network);
const B = 5;
const STEPS = 3;
const DECAY = 0.01;
const SPECS: OptimizerSpec[] = [
  { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  { type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: false },
];

function batch(k: number, input: Float32Array | Float64Array, labels: Float32Array | Float64Array): void {
  fillPattern(input, 100 + k);
  for (let s = 0; s < B; s++) labels[s] = (s + k) % 2;
}

describe('the reference core in float64', () => {
  for (const spec of SPECS) {
    it(`${spec.type}: ${STEPS} steps are the network's and optimizer's own float64 arithmetic, bit for bit`, async () => {
      const init = new Float32Array(plan.paramCount);
      initParams(plan, init, new Rng(3));

      const core = new JsCore({ maxBatch: B, loss: 'bce', array: Float64Array }, plan);
      core.params.set(init);
      core.setOptimizer(spec, { weightDecay: DECAY });
      const losses: number[] = [];
      for (let k = 0; k < STEPS; k++) {
        batch(k, core.input, core.labels);
        losses.push(core.trainStep(B, 0.01, k));
      }
      await core.close();
      expect(core.params).toBeInstanceOf(Float64Array);
      expect(core.stats).toBeInstanceOf(Float64Array);

      // The same steps from the parts, every buffer float64 (the order of js-core.ts: gradient, decay, optimizer).
      const params = Float64Array.from(init);
      const net = new Network(plan, B, params);
      const optimizer = createOptimizer(spec, plan.paramCount, (n) => new Float64Array(n));
      const input = new Float64Array(B * 6 * 6 * 2);
      const labels = new Float64Array(B);
      for (let k = 0; k < STEPS; k++) {
        batch(k, input, labels);
        expect(net.lossAndGradient(input, labels, B, LOSSES.bce, k)).toBe(losses[k]);
        for (const s of plan.params) if (s.decay) addWeightDecay(net.grads, params, DECAY, s.offset, s.offset + s.length);
        optimizer.step(params, net.grads, 0.01);
      }
      expect(Array.from(core.params)).toEqual(Array.from(params));
      expect(Array.from(core.stats)).toEqual(Array.from(net.stats));
      // Double precision indeed: weights float32 cannot hold.
      expect(Array.from(core.params).some((w) => w !== Math.fround(w))).toBe(true);

      // And the float32 core computes the same training within float32 rounding.
      const core32 = new JsCore({ maxBatch: B, loss: 'bce' }, plan);
      core32.params.set(init);
      core32.setOptimizer(spec, { weightDecay: DECAY });
      for (let k = 0; k < STEPS; k++) {
        batch(k, core32.input, core32.labels);
        expect(Math.abs(core32.trainStep(B, 0.01, k) - losses[k]!)).toBeLessThan(1e-5);
      }
      await core32.close();
      const largest = Math.max(...Array.from(params, (w, i) => Math.abs(w - core32.params[i]!)));
      expect(largest).toBeGreaterThan(0);
      expect(largest).toBeLessThan(1e-4);
    });
  }
});
