// A behaviour test: a real network (src/nn, float32) learns a small synthetic two-class problem with
// every optimizer. The problem is XOR-shaped, four blobs at (+-1, +-1), class 1 where x * y > 0:
// no straight line separates the classes, so the hidden layer has to be trained, not only the output.
import { describe, expect, it } from 'vitest';
import { bce, initParams, Network, planNetwork, type NetworkPlan } from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';
import { mlp } from './helpers/networks.ts';
import { addWeightDecay, clipByGlobalNorm, createOptimizer, learningRateAt, type OptimizerSpec } from '../src/optim/index.ts';

function blobs(n: number, seed: number): { X: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const X = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let s = 0; s < n; s++) {
    const cx = rng.int(2) === 0 ? -1 : 1;
    const cy = rng.int(2) === 0 ? -1 : 1;
    X[2 * s] = cx + 0.3 * rng.normal();
    X[2 * s + 1] = cy + 0.3 * rng.normal();
    y[s] = cx * cy > 0 ? 1 : 0;
  }
  return { X, y };
}

const train = blobs(256, 1);
const test = blobs(256, 2);
const BATCH = 32;
const EPOCHS = 60;

function accuracy(net: Network, X: Float32Array, y: Float32Array): number {
  const n = y.length;
  const p = new Float32Array(n);
  net.predict(X, n, p);
  let right = 0;
  for (let s = 0; s < n; s++) if ((p[s]! > 0.5 ? 1 : 0) === y[s]) right++;
  return right / n;
}

interface Extras {
  weightDecay: number;
  clip: number;
  cosine: boolean;
}
const NO_EXTRAS: Extras = { weightDecay: 0, clip: 0, cosine: false };

/** Mini-batch training; returns the accuracy on held-out samples of the same distribution. */
function trainWith(spec: OptimizerSpec, lr: number, arch: NetworkPlan, extras: Extras = NO_EXTRAS): number {
  return trainedNetwork(spec, lr, arch, extras).accuracy;
}

/** The same training, returning the trained parameters as well. */
function trainedNetwork(spec: OptimizerSpec, lr: number, arch: NetworkPlan, extras: Extras): { accuracy: number; params: Float32Array } {
  const n = train.y.length;
  const net = new Network(arch, n);
  initParams(arch, net.params, new Rng(7));
  const params = net.params as Float32Array;
  const grads = net.grads as Float32Array;
  const opt = createOptimizer(spec, params.length);
  const stepsPerEpoch = n / BATCH;
  const totalSteps = EPOCHS * stepsPerEpoch;
  for (let step = 0; step < totalSteps; step++) {
    const from = (step % stepsPerEpoch) * BATCH;
    net.lossAndGradient(train.X.subarray(2 * from), train.y.subarray(from), BATCH, bce);
    if (extras.weightDecay > 0) addWeightDecay(grads, params, extras.weightDecay, 0, params.length);
    if (extras.clip > 0) clipByGlobalNorm(grads, extras.clip);
    const rate = extras.cosine ? learningRateAt(lr, { type: 'cosine', minLr: lr / 10 }, stepsPerEpoch, step, stepsPerEpoch, totalSteps) : lr;
    opt.step(params, grads, rate);
  }
  return { accuracy: accuracy(net, test.X, test.y), params: Float32Array.from(params) };
}

const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
const norm = (a: Float32Array): number => Math.hypot(...a);

const HIDDEN: NetworkPlan = planNetwork(mlp(2, [16], 'tanh'));

describe('a 2-16-1 network on four XOR blobs reaches high accuracy', () => {
  const cases: [OptimizerSpec, number][] = [
    [{ type: 'sgd' }, 0.5],
    [{ type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: true }, 0.5],
    [{ type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: false }, 0.05],
    [{ type: 'nesterov', beta: 0.9 }, 0.05],
    [{ type: 'rmsprop', rho: 0.9, epsilon: 1e-8 }, 0.01],
    [{ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 0.01],
  ];
  for (const [spec, lr] of cases) {
    it(`${JSON.stringify(spec)}, lr ${lr}`, () => {
      expect(trainWith(spec, lr, HIDDEN)).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('also with weight decay, clipping and a warmed-up cosine schedule (Adam)', () => {
    const adam: OptimizerSpec = { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    expect(trainWith(adam, 0.01, HIDDEN, { weightDecay: 1e-4, clip: 1, cosine: true })).toBeGreaterThanOrEqual(0.95);
  });

  // Controls: each of the three changes the trained weights the way it should, so the accuracy
  // above is not that of a run where they did nothing.
  describe('each extra acts (SGD, so each one\'s effect is direct)', () => {
    const sgd: OptimizerSpec = { type: 'sgd' };
    const plain = trainedNetwork(sgd, 0.5, HIDDEN, NO_EXTRAS).params;

    it('weight decay shrinks the weights', () => {
      const decayed = trainedNetwork(sgd, 0.5, HIDDEN, { ...NO_EXTRAS, weightDecay: 1e-2 }).params;
      expect(norm(decayed)).toBeLessThan(0.9 * norm(plain));
    });

    it('clipping changes the steps when the gradient is larger than the bound, and only then', () => {
      const clipped = trainedNetwork(sgd, 0.5, HIDDEN, { ...NO_EXTRAS, clip: 0.05 }).params;
      expect(sameBits(clipped, plain)).toBe(false);
      // The tighter the bound, the smaller the steps: the weights move less from their start.
      const start = new Float32Array(HIDDEN.paramCount);
      initParams(HIDDEN, start, new Rng(7));
      const moved = (p: Float32Array) => Math.hypot(...p.map((v, i) => v - start[i]!));
      expect(moved(clipped)).toBeLessThan(moved(plain));
      expect(sameBits(trainedNetwork(sgd, 0.5, HIDDEN, { ...NO_EXTRAS, clip: 1e9 }).params, plain)).toBe(true);
    });

    it('the cosine schedule changes the weights (its rate is not the constant one)', () => {
      const scheduled = trainedNetwork(sgd, 0.5, HIDDEN, { ...NO_EXTRAS, cosine: true }).params;
      expect(sameBits(scheduled, plain)).toBe(false);
    });
  });

  it('while logistic regression (no hidden layer) cannot do it: the problem needs the hidden layer', () => {
    const adam: OptimizerSpec = { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    expect(trainWith(adam, 0.01, planNetwork(mlp(2, [], 'tanh')))).toBeLessThan(0.75);
  });
});
