// Backpropagation proven against the central finite-difference gradient, for every activation x
// loss pair and several layer shapes, on the Float64 path (where the check can be tight), then the
// Float32 path against the Float64 one.
import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_NAMES,
  LOSSES,
  LOSS_NAMES,
  Network,
  finiteDifferenceGradient,
  initParams,
  maxRelativeError,
  planNetwork,
  type NetworkPlan,
} from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';
import { mlp } from './helpers/networks.ts';

const SHAPES: { inputSize: number; hidden: number[]; batch: number }[] = [
  { inputSize: 3, hidden: [], batch: 4 }, // logistic regression
  { inputSize: 5, hidden: [4], batch: 3 },
  { inputSize: 4, hidden: [6, 3], batch: 5 },
  { inputSize: 7, hidden: [2, 5, 3], batch: 1 },
];

function randomBatch(rng: Rng, B: number, D: number, Ctor: Float32ArrayConstructor | Float64ArrayConstructor) {
  const X = new Ctor(B * D);
  for (let i = 0; i < X.length; i++) X[i] = 2 * rng.uniform() - 1;
  const y = new Ctor(B);
  for (let i = 0; i < B; i++) y[i] = i % 2 === 0 ? 1 : rng.int(2);
  return { X, y };
}

describe('backpropagation = finite differences (Float64)', () => {
  for (const activation of ACTIVATION_NAMES) {
    for (const lossName of LOSS_NAMES) {
      for (const shape of SHAPES) {
        it(`${activation} x ${lossName}, ${shape.inputSize}-${[...shape.hidden, 1].join('-')}, batch ${shape.batch}`, () => {
          const arch = planNetwork(mlp(shape.inputSize, shape.hidden, activation));
          const rng = new Rng(7);
          const params = new Float64Array(arch.paramCount);
          initParams(arch, params, rng);
          // Non-zero biases, so their gradients are tested away from the symmetric start.
          for (let i = 0; i < params.length; i++) params[i] += 0.1 * (rng.uniform() - 0.5);
          const net = new Network(arch, shape.batch, params);
          const { X, y } = randomBatch(rng, shape.batch, shape.inputSize, Float64Array);
          const loss = LOSSES[lossName];

          net.lossAndGradient(X, y, shape.batch, loss);
          const numeric = new Float64Array(params.length);
          finiteDifferenceGradient(() => net.loss(X, y, shape.batch, loss), params, numeric, 1e-5);

          expect(maxRelativeError(net.grads, numeric, undefined, 1e-6)).toBeLessThan(1e-5);
        });
      }
    }
  }
});

describe('Float32 backpropagation', () => {
  it('matches the Float64 path to float32 precision', () => {
    const arch: NetworkPlan = planNetwork(mlp(50, [16, 8], 'tanh'));
    const B = 10;
    const p64 = new Float64Array(arch.paramCount);
    initParams(arch, p64, new Rng(3));
    const p32 = Float32Array.from(p64);
    const rng = new Rng(4);
    const { X: X64, y: y64 } = randomBatch(rng, B, arch.input.channels, Float64Array);
    const net64 = new Network(arch, B, Float64Array.from(p32)); // same (float32-representable) start
    const net32 = new Network(arch, B, p32);
    const l64 = net64.lossAndGradient(X64, y64, B, LOSSES.bce);
    const l32 = net32.lossAndGradient(Float32Array.from(X64), Float32Array.from(y64), B, LOSSES.bce);
    expect(Math.abs(l32 - l64) / l64).toBeLessThan(1e-5);
    // Normwise: the largest difference relative to the largest gradient entry.
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < p32.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(net32.grads[i]! - net64.grads[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(net64.grads[i]!));
    }
    expect(maxDiff / maxAbs).toBeLessThan(1e-5);
  });

  it('gives the same output for a batch as for its samples one by one', () => {
    const arch: NetworkPlan = planNetwork(mlp(6, [5], 'leaky_relu'));
    const params = new Float32Array(arch.paramCount);
    initParams(arch, params, new Rng(11));
    const net = new Network(arch, 4, params);
    const { X } = randomBatch(new Rng(12), 4, 6, Float32Array);
    const batched = new Float32Array(4);
    net.predict(X, 4, batched);
    const single = new Float32Array(1);
    for (let s = 0; s < 4; s++) {
      net.predict(X.subarray(s * 6, s * 6 + 6), 1, single);
      expect(single[0]).toBe(batched[s]);
    }
  });

  it('refuses a batch larger than its buffers or an input that is too short', () => {
    const arch: NetworkPlan = planNetwork(mlp(3, [], 'relu'));
    const net = new Network(arch, 2);
    expect(() => net.forward(new Float32Array(9), 3)).toThrow(/batch size 3/);
    expect(() => net.forward(new Float32Array(5), 2)).toThrow(/needs 6/);
  });
});

describe('maxRelativeError, the yardstick of every gradient check', () => {
  it('is the largest |a - b| / (|a| + |b|) over the entries', () => {
    const a = Float64Array.of(1, 2, 0);
    const b = Float64Array.of(1, 2.2, 0);
    expect(maxRelativeError(a, b)).toBeCloseTo(0.2 / 4.2, 12);
    expect(maxRelativeError(a, a)).toBe(0);
  });

  it('calls a NaN or infinite entry on either side infinitely wrong, wherever it sits', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 1, 2]) {
        const good = Float64Array.of(0.5, -0.25, 1);
        const broken = Float64Array.from(good);
        broken[at] = bad;
        expect(maxRelativeError(broken, good)).toBe(Infinity);
        expect(maxRelativeError(good, broken)).toBe(Infinity);
        // The check as the gradient tests write it goes red.
        expect(maxRelativeError(broken, good) < 1e-5).toBe(false);
      }
    }
  });

  it('looks only at the entries asked for', () => {
    const a = Float64Array.of(NaN, 1);
    const b = Float64Array.of(0, 1);
    expect(maxRelativeError(a, b, [1])).toBe(0);
  });
});
