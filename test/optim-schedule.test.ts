// Learning-rate schedules, weight decay and gradient clipping, against hand values.
import { describe, expect, it } from 'vitest';
import {
  addWeightDecay,
  clipByGlobalNorm,
  clipScale,
  createOptimizer,
  learningRateAt,
  scaleInPlace,
  squaredNorm,
  type ScheduleSpec,
} from '../src/optim/index.ts';

function expectValues(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 15));
}

describe('learningRateAt', () => {
  const constant: ScheduleSpec = { type: 'constant' };

  it('constant, with and without warm-up', () => {
    expect(learningRateAt(0.1, constant, 0, 0, 10, 100)).toBe(0.1);
    expect(learningRateAt(0.1, constant, 0, 99, 10, 100)).toBe(0.1);
    // warm-up over 4 steps: 0.1 * (s + 1) / 4
    expectValues(
      [0, 1, 2, 3, 4, 50].map((s) => learningRateAt(0.1, constant, 4, s, 10, 100)),
      [0.025, 0.05, 0.075, 0.1, 0.1, 0.1],
    );
  });

  it('step decay: factor 0.5 every 2 epochs of 10 steps', () => {
    const step: ScheduleSpec = { type: 'step', every: 2, factor: 0.5 };
    // epochs 0-1 (steps 0-19): 0.1;  epochs 2-3 (steps 20-39): 0.05;  epoch 4 (step 40): 0.025
    expectValues(
      [0, 19, 20, 39, 40, 65].map((s) => learningRateAt(0.1, step, 0, s, 10, 100)),
      [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125],
    );
    // warm-up applies on top: step 1 of a 5-step warm-up is 0.1 * 2 / 5
    expect(learningRateAt(0.1, step, 5, 1, 10, 100)).toBeCloseTo(0.04, 15);
  });

  it('cosine from baseLr after the warm-up down to minLr at the last step', () => {
    const cosine: ScheduleSpec = { type: 'cosine', minLr: 0.01 };
    const at = (s: number): number => learningRateAt(0.1, cosine, 10, s, 7, 110);
    // warm-up (W = 10): the schedule is at baseLr, times (s + 1) / 10
    expect(at(0)).toBeCloseTo(0.01, 15);
    expect(at(4)).toBeCloseTo(0.05, 15);
    // p = (s - 10) / 100:  p = 0 -> 0.1;  p = 0.25 -> 0.01 + 0.09 (1 + cos(pi/4)) / 2 = 0.0868198052;  p = 0.5 -> 0.055;  p >= 1 -> 0.01
    expect(at(10)).toBeCloseTo(0.1, 15);
    expect(at(35)).toBeCloseTo(0.0868198052, 10);
    expect(at(60)).toBeCloseTo(0.055, 15);
    expect(at(110)).toBe(0.01);
    expect(at(500)).toBe(0.01);
    // decreasing between warm-up and the end
    for (let s = 10; s < 110; s++) expect(at(s + 1)).toBeLessThan(at(s));
  });

  it('rejects a bad step, epoch length or warm-up', () => {
    expect(() => learningRateAt(0.1, constant, 0, -1, 10, 100)).toThrow('step must be an integer >= 0');
    expect(() => learningRateAt(0.1, constant, 0, 0, 0, 100)).toThrow('stepsPerEpoch must be an integer >= 1');
    expect(() => learningRateAt(0.1, constant, 1.5, 0, 10, 100)).toThrow('warmupSteps must be an integer >= 0');
    expect(() => learningRateAt(0.1, { type: 'step', every: 0, factor: 0.5 }, 0, 0, 10, 100)).toThrow('every > 0');
  });
});

describe('weight decay', () => {
  it('adds lambda * w to the gradient, on the given range only', () => {
    // g + 0.1 w = [1 + 0.2, -1 + 0.4, 0.5 - 0.6]
    const g = new Float32Array([1, -1, 0.5]);
    addWeightDecay(g, new Float32Array([2, 4, -6]), 0.1, 0, 3);
    expect(Array.from(g).map((x) => +x.toFixed(6))).toEqual([1.2, -0.6, -0.1]);
    const h = new Float32Array([1, -1, 0.5]);
    addWeightDecay(h, new Float32Array([2, 4, -6]), 0.1, 1, 3);
    expect(h[0]).toBe(1);
  });

  it('with gradient descent and no data gradient it shrinks the weights by (1 - lr lambda) per step', () => {
    const w = new Float32Array([2, -4]);
    const g = new Float32Array(2);
    const sgd = createOptimizer({ type: 'sgd' }, 2);
    for (let k = 0; k < 10; k++) {
      g.fill(0);
      addWeightDecay(g, w, 0.5, 0, 2);
      sgd.step(w, g, 0.1);
    }
    // (1 - 0.1 * 0.5)^10 = 0.95^10 = 0.5987369392
    expect(w[0]).toBeCloseTo(2 * 0.5987369392, 6);
    expect(w[1]).toBeCloseTo(-4 * 0.5987369392, 6);
  });
});

describe('clipping by global norm', () => {
  it('scales a gradient longer than maxNorm down to maxNorm and returns the norm before clipping', () => {
    const g = new Float32Array([3, 4]); // norm 5
    expect(clipByGlobalNorm(g, 1)).toBe(5);
    expect(g[0]).toBeCloseTo(0.6, 7);
    expect(g[1]).toBeCloseTo(0.8, 7);
    expect(Math.hypot(g[0]!, g[1]!)).toBeCloseTo(1, 6);
  });

  it('leaves a shorter gradient alone', () => {
    const g = new Float32Array([3, 4]);
    expect(clipByGlobalNorm(g, 10)).toBe(5);
    expect(Array.from(g)).toEqual([3, 4]);
  });

  it('leaves a non-finite gradient alone and reports its norm', () => {
    const g = new Float32Array([Infinity, 1]);
    expect(clipByGlobalNorm(g, 1)).toBe(Infinity);
    expect(Array.from(g)).toEqual([Infinity, 1]);
    expect(clipByGlobalNorm(new Float32Array([NaN, 1]), 1)).toBeNaN();
    expect(() => clipByGlobalNorm(g, 0)).toThrow('maxNorm must be > 0');
  });

  it('can be done per range, as the thread core does: partial squared norms, one factor, scale each range', () => {
    const g = new Float32Array([1, 2, 2, 4]); // squared norms 1 + 4 and 4 + 16, total 25, norm 5
    const partial = [squaredNorm(g, 0, 2), squaredNorm(g, 2, 4)];
    expect(partial).toEqual([5, 20]);
    const norm = Math.sqrt(partial[0]! + partial[1]!);
    const factor = clipScale(norm, 2.5);
    expect(factor).toBe(0.5);
    scaleInPlace(g, factor, 0, 2);
    scaleInPlace(g, factor, 2, 4);
    expect(Array.from(g)).toEqual([0.5, 1, 1, 2]);
    expect(clipScale(2, 2.5)).toBe(1);
  });
});
