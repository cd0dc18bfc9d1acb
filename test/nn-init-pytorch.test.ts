/**
 * model.init "pytorch": PyTorch's default initialisation of Conv2d and Linear (kaiming_uniform_ with
 * a = sqrt(5) for the weights, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for the biases), batch norm's
 * gamma 1 and beta 0 untouched.
 */
import { describe, expect, it } from 'vitest';
import { initParams, pytorchBound } from '../src/nn/init.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { Rng } from '../src/random/rng.ts';

const plan = planNetwork({
  input: { height: 8, width: 8, channels: 3 },
  layers: [
    { type: 'conv', filters: 16, kernel: 3, stride: 1, padding: 'same', bias: true },
    { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
    { type: 'relu' },
    { type: 'flatten' },
    { type: 'dense', units: 64, bias: true },
    { type: 'relu' },
    { type: 'dense', units: 1, bias: true },
  ],
});

describe('PyTorch\'s default init', () => {
  it('bounds weights and biases by 1 / sqrt(fanIn), the Kaiming-uniform bound with a = sqrt(5)', () => {
    const a = Math.sqrt(5);
    const gain = Math.sqrt(2 / (1 + a * a));
    for (const fanIn of [27, 1024, 4096]) expect(pytorchBound(fanIn)).toBeCloseTo(gain * Math.sqrt(3 / fanIn), 15);
    const params = new Float32Array(plan.paramCount);
    initParams(plan, params, new Rng(5), 'pytorch');
    const fanIns = [27, 27, 1024, 1024, 64, 64]; // conv weights, conv bias, dense 1 weights, bias, dense 2 weights, bias
    const random = plan.params.filter((s) => s.layer !== 1);
    expect(random.map((s) => `${s.layer} ${s.name}`)).toEqual(['0 weights', '0 bias', '4 weights', '4 bias', '6 weights', '6 bias']);
    random.forEach((slice, k) => {
      const r = 1 / Math.sqrt(fanIns[k]!);
      const values = Array.from(params.subarray(slice.offset, slice.offset + slice.length));
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(Math.fround(r));
      // Uniform on (-r, r): the largest |value| comes near r, the variance near r^2 / 3.
      if (slice.length >= 64) {
        expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.9 * r);
        const variance = values.reduce((s, v) => s + v * v, 0) / values.length;
        expect(variance).toBeGreaterThan((0.7 * r * r) / 3);
        expect(variance).toBeLessThan((1.3 * r * r) / 3);
      } else {
        expect(values.some((v) => v !== 0)).toBe(true);
      }
    });
    const [gamma, beta] = plan.params.filter((s) => s.layer === 1);
    expect(Array.from(params.subarray(gamma!.offset, gamma!.offset + gamma!.length)).every((v) => v === 1)).toBe(true);
    expect(Array.from(params.subarray(beta!.offset, beta!.offset + beta!.length)).every((v) => v === 0)).toBe(true);
  });

  it('is narrower than He (sqrt(6 / fanIn)) by a factor sqrt(6)', () => {
    const he = new Float32Array(plan.paramCount);
    const torch = new Float32Array(plan.paramCount);
    initParams(plan, he, new Rng(9), 'he');
    initParams(plan, torch, new Rng(9), 'pytorch');
    const w = plan.params[0]!; // first slice, same draws in both
    for (let i = w.offset; i < w.offset + w.length; i++) expect(torch[i]! * Math.sqrt(6)).toBeCloseTo(he[i]!, 5);
  });
});
