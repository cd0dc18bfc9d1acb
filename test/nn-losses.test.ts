import { describe, expect, it } from 'vitest';
import { bce, mse, sigmoid } from '../src/nn/index.ts';

describe('losses', () => {
  it('MSE is the textbook mean of (y - p)^2 with p = sigmoid(z)', () => {
    const z = new Float64Array([0, 2, -1]);
    const y = new Float64Array([1, 0, 0]);
    const p = [0.5, sigmoid(2), sigmoid(-1)];
    const expected = ((1 - p[0]!) ** 2 + p[1]! ** 2 + p[2]! ** 2) / 3;
    expect(mse.forwardBackward(z, y, 3)).toBeCloseTo(expected, 14);
  });

  it('BCE equals -[y log p + (1-y) log(1-p)] where that is computable', () => {
    const z = new Float64Array([0.3, -2, 4]);
    const y = new Float64Array([1, 0, 0]);
    let expected = 0;
    for (let i = 0; i < 3; i++) {
      const p = 1 / (1 + Math.exp(-z[i]!));
      expected += -(y[i]! * Math.log(p) + (1 - y[i]!) * Math.log(1 - p));
    }
    expect(bce.forwardBackward(z, y, 3)).toBeCloseTo(expected / 3, 12);
  });

  it('BCE stays finite for confident outputs, right or wrong', () => {
    const z = new Float32Array([1000, -1000, 1000, -1000, 88.8, -104]);
    const y = new Float32Array([1, 0, 0, 1, 1, 0]);
    const dz = new Float32Array(6);
    const value = bce.forwardBackward(z, y, 6, dz);
    expect(Number.isFinite(value)).toBe(true);
    // The two confidently wrong samples each cost exactly |z| = 1000.
    expect(value).toBeCloseTo(2000 / 6, 6);
    for (const g of dz) expect(Number.isFinite(g)).toBe(true);
    expect(dz[2]).toBeCloseTo(1 / 6, 7); // p ~ 1, y = 0: (p - y)/B
    expect(dz[3]).toBeCloseTo(-1 / 6, 7);
  });

  it('sigmoid never overflows', () => {
    expect(sigmoid(-1e4)).toBe(0);
    expect(sigmoid(1e4)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
  });
});
