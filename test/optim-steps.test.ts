// Two steps of each optimizer on f(x) = sum(x^2), whose gradient is g = 2x, from x0 = [1, -2];
// the expected values are derived by hand in the comments (tfjs-core style).
import { describe, expect, it } from 'vitest';
import { Adam, createOptimizer, ExponentiallyWeightedAverage, Momentum, type Optimizer, type OptimizerSpec } from '../src/optim/index.ts';

type FloatArray = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * Runs `steps` steps from [1, -2] on f(x) = sum(x^2) in buffers of `array`; returns the parameters
 * after each step, and the optimizer.
 */
function run(spec: OptimizerSpec, lr: number, array: FloatArray, steps = 2): { points: number[][]; optimizer: Optimizer } {
  const x = array.from([1, -2]);
  const g = new array(2);
  const optimizer = createOptimizer(spec, 2, (n) => new array(n));
  const points: number[][] = [];
  for (let k = 0; k < steps; k++) {
    for (let i = 0; i < 2; i++) g[i] = 2 * x[i]!;
    optimizer.step(x, g, lr);
    points.push(Array.from(x));
  }
  return { points, optimizer };
}

/** The largest |actual - expected| over the steps and parameters. */
function largestError(actual: number[][], expected: number[][]): number {
  expect(actual.length).toBe(expected.length);
  return Math.max(...actual.flatMap((row, k) => row.map((v, i) => Math.abs(v - expected[k]![i]!))));
}

interface HandCase {
  name: string;
  spec: OptimizerSpec;
  lr: number;
  /** The parameters after steps 1 and 2, computed by hand (to 8-10 digits) in the comments. */
  expected: number[][];
}

const HAND_CASES: HandCase[] = [
  {
    name: 'gradient descent, lr 0.1',
    // x1 = x0 - 0.1 * 2 x0 = 0.8 x0 = [0.8, -1.6]
    // x2 = 0.8 x1         = [0.64, -1.28]
    spec: { type: 'sgd' },
    lr: 0.1,
    expected: [
      [0.8, -1.6],
      [0.64, -1.28],
    ],
  },
  {
    name: 'momentum, ewa form, beta 0.9, lr 0.1',
    // g1 = [2, -4];  v1 = 0.1 g1 = [0.2, -0.4];  x1 = x0 - 0.1 v1 = [0.98, -1.96]
    // g2 = [1.96, -3.92];  v2 = 0.9 [0.2, -0.4] + 0.1 [1.96, -3.92] = [0.376, -0.752]
    // x2 = x1 - 0.1 v2 = [0.98 - 0.0376, -1.96 + 0.0752] = [0.9424, -1.8848]
    spec: { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false },
    lr: 0.1,
    expected: [
      [0.98, -1.96],
      [0.9424, -1.8848],
    ],
  },
  {
    name: 'momentum, ewa form with bias correction, beta 0.9, lr 0.1',
    // v1 = [0.2, -0.4];  v1_hat = v1 / (1 - 0.9) = [2, -4] = g1;  x1 = x0 - 0.1 g1 = [0.8, -1.6]
    // g2 = [1.6, -3.2];  v2 = 0.9 [0.2, -0.4] + 0.1 [1.6, -3.2] = [0.34, -0.68]
    // v2_hat = v2 / (1 - 0.81) = [0.34 / 0.19, -0.68 / 0.19] = [1.78947368, -3.57894737]
    // x2 = x1 - 0.1 v2_hat = [0.62105263, -1.24210526]
    spec: { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: true },
    lr: 0.1,
    expected: [
      [0.8, -1.6],
      [0.62105263, -1.24210526],
    ],
  },
  {
    name: 'momentum, classic form, beta 0.9, lr 0.1',
    // v1 = g1 = [2, -4];  x1 = x0 - 0.1 v1 = [0.8, -1.6]
    // g2 = [1.6, -3.2];  v2 = 0.9 [2, -4] + [1.6, -3.2] = [3.4, -6.8]
    // x2 = x1 - 0.1 v2 = [0.8 - 0.34, -1.6 + 0.68] = [0.46, -0.92]
    spec: { type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: false },
    lr: 0.1,
    expected: [
      [0.8, -1.6],
      [0.46, -0.92],
    ],
  },
  {
    name: 'Nesterov, beta 0.9, lr 0.1',
    // v1 = g1 = [2, -4];  x1 = x0 - 0.1 (g1 + 0.9 v1) = x0 - 0.19 g1 = [0.62, -1.24]
    // g2 = [1.24, -2.48];  v2 = 0.9 [2, -4] + [1.24, -2.48] = [3.04, -6.08]
    // x2 = x1 - 0.1 (g2 + 0.9 v2) = [0.62 - 0.1 (1.24 + 2.736), -1.24 + 0.1 (2.48 + 5.472)] = [0.2224, -0.4448]
    spec: { type: 'nesterov', beta: 0.9 },
    lr: 0.1,
    expected: [
      [0.62, -1.24],
      [0.2224, -0.4448],
    ],
  },
  {
    name: 'RMSprop, rho 0.9, epsilon 1e-8, lr 0.01',
    // s1 = 0.1 g1^2 = [0.4, 1.6];  step = 0.01 g1 / sqrt(s1) = 0.01 [2 / 0.63245553, -4 / 1.26491106] = [0.0316227766, -0.0316227766]
    //   (= 0.01 sqrt(10) sign(g): the first RMSprop step ignores the gradient's size; epsilon changes it by ~1e-8 relative)
    // x1 = [0.9683772234, -1.9683772234]
    // g2 = [1.9367544468, -3.9367544468];  g2^2 = [3.7510177872, 15.4980355763]
    // s2 = 0.9 s1 + 0.1 g2^2 = [0.36 + 0.3751017787, 1.44 + 1.5498035576] = [0.7351017787, 2.9898035576]
    // sqrt(s2) = [0.8573807667, 1.7291048428]
    // x2 = x1 - 0.01 g2 / sqrt(s2) = [0.9683772234 - 0.0225891979, -1.9683772234 + 0.0227675865] = [0.9457880255, -1.9456096369]
    spec: { type: 'rmsprop', rho: 0.9, epsilon: 1e-8 },
    lr: 0.01,
    expected: [
      [0.9683772234, -1.9683772234],
      [0.9457880255, -1.9456096369],
    ],
  },
  {
    name: 'Adam, beta1 0.9, beta2 0.999, epsilon 1e-8, lr 0.1',
    // m1 = 0.1 g1, v1 = 0.001 g1^2;  m1_hat = g1, v1_hat = g1^2;  step = 0.1 g1 / (|g1| + 1e-8) = 0.1 sign(g1)
    // x1 = [0.9, -1.9]
    // g2 = [1.8, -3.8]
    // m2 = 0.9 [0.2, -0.4] + 0.1 [1.8, -3.8] = [0.36, -0.74]
    // v2 = 0.999 [0.004, 0.016] + 0.001 [3.24, 14.44] = [0.007236, 0.030424]
    // c1 = 1 - 0.9^2 = 0.19;  c2 = 1 - 0.999^2 = 0.001999
    // m2_hat = [1.8947368421, -3.8947368421];  v2_hat = [3.6198099050, 15.2196098049];  sqrt = [1.9025798030, 3.9012318320]
    // x2 = x1 - 0.1 m2_hat / sqrt(v2_hat) = [0.9 - 0.0995877714, -1.9 + 0.0998335138] = [0.8004122286, -1.8001664862]
    spec: { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    lr: 0.1,
    expected: [
      [0.9, -1.9],
      [0.8004122286, -1.8001664862],
    ],
  },
];

describe('two hand-computed steps on f(x) = sum(x^2) from [1, -2]', () => {
  for (const c of HAND_CASES) {
    it(c.name, () => {
      expect(largestError(run(c.spec, c.lr, Float32Array).points, c.expected)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('in float64 buffers every optimizer keeps double precision: the hand values to 1e-8, which float32 misses', () => {
    // The precision is the buffers' (src/optim/optimizer.ts): the parity bench's float64 reference
    // relies on it. Float32 rounds 0.8 alone by 1.2e-8.
    let float32Worst = 0;
    for (const c of HAND_CASES) {
      const { points, optimizer } = run(c.spec, c.lr, Float64Array);
      expect(largestError(points, c.expected), c.name).toBeLessThanOrEqual(1e-8);
      // The state too: each buffer holds a value float32 cannot (Adam's m = 0.9 * 0.2 + 0.1 * 1.8, ...).
      for (const [name, state] of Object.entries(optimizer.stateBuffers())) {
        expect(state, `${c.name}: ${name}`).toBeInstanceOf(Float64Array);
        expect(Array.from(state).some((value) => value !== Math.fround(value)), `${c.name}: ${name}`).toBe(true);
      }
      float32Worst = Math.max(float32Worst, largestError(run(c.spec, c.lr, Float32Array).points, c.expected));
    }
    expect(float32Worst).toBeGreaterThan(1e-8);
  });
});

describe('bias correction', () => {
  // A constant gradient g = 3: the average of the gradients seen so far is exactly 3.
  function momentumSteps(biasCorrection: boolean, steps: number): number[] {
    const opt = new Momentum(1, { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection });
    const w = new Float32Array(1);
    const g = new Float32Array([3]);
    const moves: number[] = [];
    for (let k = 0; k < steps; k++) {
      const before = w[0]!;
      opt.step(w, g, 1);
      moves.push(before - w[0]!); // = lr * v(_hat) with lr = 1
    }
    return moves;
  }

  it('without it the first averages are biased toward 0', () => {
    const moves = momentumSteps(false, 3);
    // v1 = 0.1 * 3 = 0.3;  v2 = 0.9 * 0.3 + 0.3 = 0.57;  v3 = 0.9 * 0.57 + 0.3 = 0.813  (all below 3)
    expect(moves[0]).toBeCloseTo(0.3, 6);
    expect(moves[1]).toBeCloseTo(0.57, 6);
    expect(moves[2]).toBeCloseTo(0.813, 5);
  });

  it('with it the first average equals the first sample, and a constant stays constant', () => {
    const moves = momentumSteps(true, 5);
    for (const move of moves) expect(move).toBeCloseTo(3, 5);
  });

  it('Adam takes a first step of about lr per weight, whatever the gradient scale', () => {
    for (const scale of [1e-3, 1, 1e3]) {
      const adam = new Adam(2, { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
      const w = new Float32Array([0, 0]);
      adam.step(w, new Float32Array([scale, -scale]), 0.01);
      // without correction it would be 0.01 * 0.1 g / sqrt(0.001 g^2) = 0.0316 per weight
      expect(w[0]).toBeCloseTo(-0.01, 6);
      expect(w[1]).toBeCloseTo(0.01, 6);
    }
  });

  it('epsilon is added after the square root (RMSprop and Adam), as in the Adam paper', () => {
    // With g = epsilon = 1e-8 the placement matters: sqrt(v) + eps is ~1e-8, sqrt(v + eps) would be ~1e-4.
    const g = new Float32Array([1e-8]);
    // Adam, step 1: v_hat = g^2, so the step is lr * g / (|g| + eps) = lr / 2
    const adam = new Adam(1, { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    const w = new Float32Array([0]);
    adam.step(w, g, 1);
    expect(w[0]).toBeCloseTo(-0.5, 5);
    // RMSprop, step 1: s = 0.1 g^2, sqrt(s) = 0.31622777 g, step = lr * g / (0.31622777 g + g) = lr / 1.31622777 = 0.75974693 lr
    const rmsprop = createOptimizer({ type: 'rmsprop', rho: 0.9, epsilon: 1e-8 }, 1);
    w[0] = 0;
    rmsprop.step(w, g, 1);
    expect(w[0]).toBeCloseTo(-0.75974693, 5);
  });

  it('ExponentiallyWeightedAverage: hand values, with and without correction', () => {
    const plain = new ExponentiallyWeightedAverage(0.5, false);
    const corrected = new ExponentiallyWeightedAverage(0.5, true);
    expect(plain.value).toBeNaN(); // no average before the first value
    // a1 = 0.5 * 4 = 2 (biased: the sample is 4);  corrected a1 / (1 - 0.5) = 4
    expect(plain.push(4)).toBe(2);
    expect(corrected.push(4)).toBe(4);
    // a2 = 0.5 * 2 + 0.5 * 8 = 5;  corrected 5 / (1 - 0.25) = 6.6667 (the weighted mean (0.5*4 + 1*8) / 1.5)
    expect(plain.push(8)).toBe(5);
    expect(corrected.push(8)).toBeCloseTo(20 / 3, 12);
    expect(corrected.t).toBe(2);
  });

  it('ExponentiallyWeightedAverage: a constant series is reproduced from the first value when corrected', () => {
    const avg = new ExponentiallyWeightedAverage(0.98);
    for (let k = 0; k < 200; k++) expect(avg.push(0.7)).toBeCloseTo(0.7, 12);
  });

  it('ExponentiallyWeightedAverage: state restores exactly', () => {
    const a = new ExponentiallyWeightedAverage(0.9);
    const xs = [3, 1, 4, 1, 5, 9, 2, 6];
    for (const x of xs.slice(0, 4)) a.push(x);
    const b = new ExponentiallyWeightedAverage(0.9);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    for (const x of xs.slice(4)) expect(b.push(x)).toBe(a.push(x));
    expect(() => b.setState({ t: -1, average: 0 })).toThrow(/t must be an integer/);
  });
});
