// Optimizer state and the thread split: both must reproduce the plain run bit for bit.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/random/rng.ts';
import { createOptimizer, GRADIENT_OPTIMIZER_TYPES, type Optimizer, type OptimizerSpec, type OptimizerState } from '../src/optim/index.ts';

const SPECS: OptimizerSpec[] = [
  { type: 'sgd' },
  { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false },
  { type: 'momentum', beta: 0.8, form: 'ewa', biasCorrection: true },
  { type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: true },
  { type: 'nesterov', beta: 0.9 },
  { type: 'rmsprop', rho: 0.9, epsilon: 1e-8 },
  { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
];
const N = 37;
const LR = 0.01;
const name = (spec: OptimizerSpec): string => JSON.stringify(spec);

/** Byte-level equality: bit-identical floats (NaN payloads and -0 included). */
function expectSameBits(a: Float32Array | Float64Array, b: Float32Array | Float64Array): void {
  expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
}

/** A non-quadratic gradient, so the state matters: g = w^3 - 0.5 + noise(step, i), deterministic. */
function gradient(w: Float32Array, g: Float32Array, step: number): void {
  for (let i = 0; i < w.length; i++) g[i] = w[i]! * w[i]! * w[i]! - 0.5 + 0.1 * Math.sin(step * 7 + i);
}

function startParams(): Float32Array {
  const rng = new Rng(42);
  return Float32Array.from({ length: N }, () => rng.normal());
}

/** What the checkpoint code does: to JSON and back (float32 -> double -> text -> double -> float32 is exact). */
function throughJson(state: OptimizerState): OptimizerState {
  const text = JSON.stringify({ ...state, buffers: Object.fromEntries(Object.entries(state.buffers).map(([k, v]) => [k, Array.from(v)])) });
  const plain = JSON.parse(text) as { type: string; t: number; buffers: Record<string, number[]> };
  return { ...plain, buffers: Object.fromEntries(Object.entries(plain.buffers).map(([k, v]) => [k, Float32Array.from(v)])) };
}

describe('save, restore into a fresh optimizer, continue', () => {
  for (const spec of SPECS) {
    it(`gives the uninterrupted trajectory bit for bit: ${name(spec)}`, () => {
      const g = new Float32Array(N);
      // Uninterrupted: 20 steps.
      const whole = startParams();
      const uninterrupted = createOptimizer(spec, N);
      for (let k = 0; k < 20; k++) {
        gradient(whole, g, k);
        uninterrupted.step(whole, g, LR);
      }
      // Interrupted after 8 steps: save params and state, restore into a fresh optimizer, do 12 more.
      const first = startParams();
      const before = createOptimizer(spec, N);
      for (let k = 0; k < 8; k++) {
        gradient(first, g, k);
        before.step(first, g, LR);
      }
      const saved = throughJson(before.getState());
      const resumed = createOptimizer(spec, N);
      resumed.setState(saved);
      expect(resumed.t).toBe(8);
      const params = first.slice();
      for (let k = 8; k < 20; k++) {
        gradient(params, g, k);
        resumed.step(params, g, LR);
      }
      expectSameBits(params, whole);
      for (const [key, buffer] of Object.entries(uninterrupted.stateBuffers())) expectSameBits(resumed.stateBuffers()[key]!, buffer);
    });
  }

  it('getState returns a snapshot, not the live buffers', () => {
    const opt = createOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 3);
    const w = new Float32Array([1, 2, 3]);
    opt.step(w, new Float32Array([1, 1, 1]), 0.1);
    const snapshot = opt.getState();
    const m = snapshot.buffers.m!.slice();
    opt.step(w, new Float32Array([5, 5, 5]), 0.1);
    expect(snapshot.t).toBe(1);
    expect(snapshot.buffers.m).toEqual(m);
    expect(opt.stateBuffers().m).not.toEqual(m);
  });

  it('setState rejects a state of another type, size or shape with a clear message', () => {
    const adam = createOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 4);
    const momentum = createOptimizer({ type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false }, 4);
    expect(() => adam.setState(momentum.getState())).toThrow('adam optimizer: cannot restore the state of a "momentum" optimizer');
    const state = adam.getState();
    expect(() => adam.setState({ ...state, buffers: { ...state.buffers, v: new Float32Array(3) } })).toThrow(
      'adam optimizer: state buffer "v" has 3 values, expected 4',
    );
    expect(() => adam.setState({ ...state, buffers: { m: state.buffers.m! } })).toThrow('adam optimizer: state buffer "v" is missing');
    expect(() => adam.setState({ ...state, buffers: { ...state.buffers, s: new Float32Array(4) } })).toThrow('unknown state buffer "s"');
    expect(() => adam.setState({ ...state, t: 1.5 })).toThrow('step count t must be an integer >= 0');
  });
});

describe('update on a split range', () => {
  for (const spec of SPECS) {
    it(`equals the whole update bit for bit: ${name(spec)}`, () => {
      const g = new Float32Array(N);
      const whole = startParams();
      const split = startParams();
      const a = createOptimizer(spec, N);
      const b = createOptimizer(spec, N);
      const ranges: [number, number][] = [[20, 37], [0, 5], [5, 5], [5, 20]]; // any order, an empty one too
      for (let k = 0; k < 6; k++) {
        gradient(whole, g, k);
        a.step(whole, g, LR);
        gradient(split, g, k);
        b.beginStep();
        for (const [from, to] of ranges) b.update(split, g, LR, from, to);
      }
      expectSameBits(split, whole);
    });
  }

  it('state buffers come from alloc (shared memory for the worker core)', () => {
    const shared: Float32Array[] = [];
    const alloc = (n: number): Float32Array => {
      const buffer = new Float32Array(new SharedArrayBuffer(4 * n));
      shared.push(buffer);
      return buffer;
    };
    const opt = createOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 5, alloc);
    expect(shared).toHaveLength(2);
    expect(opt.stateBuffers().m).toBe(shared[0]);
    expect(opt.stateBuffers().v!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(() => createOptimizer({ type: 'nesterov', beta: 0.9 }, 5, () => new Float32Array(4))).toThrow('alloc gave 4 values');
  });

  it('update checks its arguments', () => {
    const opt = createOptimizer({ type: 'sgd' }, 3);
    const w = new Float32Array(3);
    expect(() => opt.update(w, w, 0.1, 0, 3)).toThrow('call beginStep() before update()');
    opt.beginStep();
    expect(() => opt.update(w, w, 0.1, 2, 4)).toThrow('range [2, 4) is not inside [0, 3)');
    expect(() => opt.update(w, new Float32Array(2), 0.1, 0, 3)).toThrow('expected 3 params and grads');
    expect(() => opt.update(w, w, NaN, 0, 3)).toThrow('learning rate');
  });
});

describe('createOptimizer', () => {
  it('builds every type, with its state buffers', () => {
    const buffers: Record<string, string[]> = { sgd: [], momentum: ['v'], nesterov: ['v'], rmsprop: ['s'], adam: ['m', 'v'] };
    for (const type of GRADIENT_OPTIMIZER_TYPES) {
      const opt: Optimizer = createOptimizer(SPECS.find((s) => s.type === type)!, 6);
      expect(opt.type).toBe(type);
      expect(opt.n).toBe(6);
      expect(opt.t).toBe(0);
      expect(Object.keys(opt.stateBuffers())).toEqual(buffers[type]);
    }
  });

  it('rejects hyperparameters outside their range', () => {
    expect(() => createOptimizer({ type: 'momentum', beta: 1, form: 'ewa', biasCorrection: false }, 2)).toThrow('momentum: beta must be in [0, 1), got 1');
    expect(() => createOptimizer({ type: 'rmsprop', rho: 0.9, epsilon: 0 }, 2)).toThrow('rmsprop: epsilon must be > 0, got 0');
    expect(() => createOptimizer({ type: 'adam', beta1: 0.9, beta2: -0.1, epsilon: 1e-8 }, 2)).toThrow('adam: beta2 must be in [0, 1)');
    expect(() => createOptimizer({ type: 'sgd' }, -1)).toThrow('parameter count');
    expect(() => createOptimizer({ type: 'lbfgs' } as unknown as OptimizerSpec, 2)).toThrow('unknown optimizer type "lbfgs"');
  });
});
