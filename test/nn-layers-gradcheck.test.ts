// Backpropagation of every layer kind proven against the central finite-difference gradient, on the
// Float64 reference path: each kind alone (with the dense output it needs) and in stacks that pass
// gradients through it, odd sizes, stride 2, same and valid padding, batch 1, a partial batch,
// batch norm in training mode and dropout with its masks.
import { describe, expect, it } from 'vitest';
import { conv } from './helpers/networks.ts';
import {
  LOSSES,
  Network,
  finiteDifferenceGradient,
  initParams,
  maxRelativeError,
  planNetwork,
  type LayerSpec,
  type Shape,
} from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';

const dense = (units: number, bias = true): LayerSpec => ({ type: 'dense', units, bias });
const bn: LayerSpec = { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 };
const out = dense(1);

interface Case {
  name: string;
  input: Shape;
  layers: LayerSpec[];
  batch: number;
  /** Buffers sized for more samples than the batch uses (a partial last batch). */
  maxBatch?: number;
}

const shape = (height: number, width: number, channels: number): Shape => ({ height, width, channels });

const CASES: Case[] = [
  { name: 'dense alone', input: shape(1, 1, 5), layers: [dense(4), out], batch: 3 },
  { name: 'dense without bias on an image', input: shape(3, 2, 2), layers: [dense(3, false), { type: 'tanh' }, out], batch: 2 },
  { name: 'conv 3x3 same', input: shape(5, 4, 2), layers: [conv(3, 3), out], batch: 2 },
  { name: 'conv 3x3 same, stride 2, odd size', input: shape(7, 5, 3), layers: [conv(2, 3, 2), out], batch: 2 },
  { name: 'conv 2x2 same (even kernel: padding after)', input: shape(5, 5, 1), layers: [conv(2, 2, 1), out], batch: 2 },
  { name: 'conv 4x4 same, stride 2', input: shape(6, 7, 2), layers: [conv(3, 4, 2), out], batch: 1 },
  { name: 'conv 3x3 valid, no bias', input: shape(6, 5, 2), layers: [conv(2, 3, 1, 'valid', false), out], batch: 2 },
  { name: 'conv 5x5 valid, stride 2', input: shape(9, 8, 1), layers: [conv(2, 5, 2, 'valid'), out], batch: 2 },
  { name: 'conv 1x1', input: shape(3, 3, 4), layers: [conv(3, 1), out], batch: 2 },
  { name: 'conv 7x7 same on 3x3', input: shape(3, 3, 1), layers: [conv(2, 7), out], batch: 1 },
  { name: 'conv -> conv (input gradient, stride 2)', input: shape(7, 6, 2), layers: [conv(3, 3, 2), { type: 'relu' }, conv(2, 3, 2), out], batch: 2 },
  { name: 'conv -> maxpool 2x2', input: shape(6, 6, 2), layers: [conv(3, 3), { type: 'maxpool', size: 2, stride: 2 }, out], batch: 2 },
  { name: 'conv -> maxpool 3x3 stride 2 (overlapping, odd)', input: shape(7, 7, 1), layers: [conv(2, 3), { type: 'maxpool', size: 3, stride: 2 }, out], batch: 2 },
  { name: 'conv -> avgpool 2x2 (odd input)', input: shape(5, 7, 2), layers: [conv(2, 3), { type: 'avgpool', size: 2, stride: 2 }, out], batch: 2 },
  { name: 'conv -> avgpool 3x3 stride 1', input: shape(5, 5, 1), layers: [conv(2, 3), { type: 'avgpool', size: 3, stride: 1 }, out], batch: 2 },
  { name: 'conv -> globalavgpool', input: shape(5, 3, 2), layers: [conv(4, 3), { type: 'leaky_relu' }, { type: 'globalavgpool' }, out], batch: 3 },
  { name: 'conv -> batchnorm (train)', input: shape(4, 5, 2), layers: [conv(3, 3, 1, 'same', false), bn, out], batch: 3 },
  { name: 'dense -> batchnorm per unit (train)', input: shape(1, 1, 6), layers: [dense(4, false), bn, { type: 'sigmoid' }, out], batch: 5 },
  { name: 'conv -> dropout', input: shape(4, 4, 2), layers: [conv(3, 3), { type: 'dropout', rate: 0.5 }, out], batch: 2 },
  { name: 'dense -> dropout 0.3', input: shape(1, 1, 7), layers: [dense(6), { type: 'relu' }, { type: 'dropout', rate: 0.3 }, out], batch: 4 },
  { name: 'flatten', input: shape(3, 3, 2), layers: [conv(2, 3), { type: 'flatten' }, dense(3), { type: 'relu' }, out], batch: 2 },
  {
    name: 'the reference CNN in small: [conv-bn-relu-maxpool] x 2, dense, dropout',
    input: shape(9, 8, 3),
    layers: [
      conv(4, 3, 1, 'same', false), bn, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
      conv(5, 3, 1, 'same', false), bn, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 },
      { type: 'flatten' }, dense(6), { type: 'relu' }, { type: 'dropout', rate: 0.5 }, out,
    ],
    batch: 3,
  },
  { name: 'batch 1 through conv, avgpool, batchnorm', input: shape(5, 5, 1), layers: [conv(2, 3, 2), { type: 'avgpool', size: 2, stride: 1 }, bn, { type: 'tanh' }, out], batch: 1 },
  { name: 'partial batch (buffers for 5, batch of 2)', input: shape(5, 4, 2), layers: [conv(3, 3), bn, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 }, { type: 'dropout', rate: 0.5 }, out], batch: 2, maxBatch: 5 },
];

function randomFill(rng: Rng, a: Float64Array, scale = 1): void {
  for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * scale;
}

describe('every layer kind: backpropagation = finite differences (Float64, training mode)', () => {
  for (const c of CASES) {
    for (const lossName of ['bce', 'mse'] as const) {
      it(`${c.name}, ${lossName}`, () => {
        const plan = planNetwork({ input: c.input, layers: c.layers });
        const rng = new Rng(11);
        const params = new Float64Array(plan.paramCount);
        initParams(plan, params, rng);
        // Move every parameter off its start (biases 0, gamma 1), so each gradient is tested in general position.
        for (let i = 0; i < params.length; i++) params[i] += 0.2 * (rng.uniform() - 0.5);
        const net = new Network(plan, c.maxBatch ?? c.batch, params, { seed: 5 });
        const X = new Float64Array((c.maxBatch ?? c.batch) * c.input.height * c.input.width * c.input.channels);
        randomFill(rng, X);
        const y = new Float64Array(c.maxBatch ?? c.batch);
        for (let i = 0; i < y.length; i++) y[i] = i % 2;
        const loss = LOSSES[lossName];
        const step = 3;

        net.lossAndGradient(X, y, c.batch, loss, step);
        const analytic = Float64Array.from(net.grads);
        const numeric = new Float64Array(params.length);
        finiteDifferenceGradient(() => net.loss(X, y, c.batch, loss, 'train', step), params, numeric, 1e-6);
        expect(maxRelativeError(analytic, numeric, undefined, 1e-7)).toBeLessThan(1e-5);
        // Every parameter of this network matters, so a gradient that is zero everywhere would be a bug.
        expect(analytic.some((g) => Math.abs(g) > 1e-6)).toBe(true);
      });
    }
  }
});
