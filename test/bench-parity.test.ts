/**
 * The parity bench's verdict (src/bench/parity-compare.ts): the nudge is one unit in the last
 * place, identical sides pass, a difference beyond both the tolerance and the noise envelope fails,
 * and the same difference passes where rounding alone already makes one as large.
 */
import { describe, expect, it } from 'vitest';
import { compareRun, LOSS_TOLERANCE, NOISE_FACTOR, nudged, type Side } from '../src/bench/parity-compare.ts';

const slices = { params: [{ layer: 0, name: 'weights', offset: 0, length: 4 }], stats: [{ layer: 1, name: 'mean', offset: 0, length: 2 }] };
const side = (losses: number[], params = [1, -2, 3, -4], stats = [0.5, 0.25]): Side => ({
  losses,
  params: Float32Array.from(params),
  stats: Float32Array.from(stats),
});

describe('the parity verdict', () => {
  it('nudges every nonzero weight by one unit in the last place and leaves zeros', () => {
    const init = Float32Array.from([1, 0, -0.3, 1e-30]);
    const n = nudged(init);
    expect(n[1]).toBe(0);
    for (const i of [0, 2, 3]) {
      expect(n[i]).not.toBe(init[i]);
      expect(Math.abs(n[i]! - init[i]!)).toBeLessThanOrEqual(Math.abs(init[i]!) * 2 ** -23);
    }
  });

  it('nudges float64 weights by one float64 unit in the last place', () => {
    const init = Float64Array.from([1, 0, -0.3, 1e-300]);
    const n = nudged(init);
    expect(n).toBeInstanceOf(Float64Array);
    expect(n[1]).toBe(0);
    for (const i of [0, 2, 3]) {
      expect(n[i]).not.toBe(init[i]);
      expect(Math.abs(n[i]! - init[i]!)).toBeLessThanOrEqual(Math.abs(init[i]!) * 2 ** -52);
    }
  });

  it('passes identical sides and reports zero differences', () => {
    const a = side([0.7, 0.6, 0.5]);
    const row = compareRun('x', a, side([0.7, 0.6, 0.5]), side([0.7, 0.6, 0.5]), slices);
    expect(row).toMatchObject({ lossDiff: 0, weightDiff: 0, statDiff: 0, pass: true });
  });

  it('fails a step whose loss is off by more than the tolerance while the noise is small', () => {
    const nn = side([0.7, 0.6, 0.5]);
    const torch = side([0.7, 0.6 * (1 + 3 * LOSS_TOLERANCE), 0.5]);
    const row = compareRun('x', nn, torch, side([0.7, 0.6 * (1 + 1e-7), 0.5]), slices);
    expect(row.lossStep).toBe(2);
    expect(row.lossDiff).toBeGreaterThan(2 * LOSS_TOLERANCE);
    expect(row.pass).toBe(false);
  });

  it('passes the same difference where the nudged run already parts as far (chaos, not a bug)', () => {
    const nn = side([0.7, 0.6, 0.5]);
    const torch = side([0.7, 0.6 * (1 + 3 * LOSS_TOLERANCE), 0.5]);
    const row = compareRun('x', nn, torch, side([0.7, 0.6 * (1 - 2 * LOSS_TOLERANCE), 0.5]), slices);
    expect(row.pass).toBe(true);
    expect(row.lossOverNoise).toBeLessThan(NOISE_FACTOR);
  });

  it('judges the final weights against the tensor scale and the nudged run', () => {
    const nn = side([0.7], [1, -2, 3, -4]);
    const torch = side([0.7], [1, -2, 3, -4.1]); // 0.1 off, RMS of [1, -2, 3, -4.1] ~ 2.76
    const quiet = compareRun('x', nn, torch, side([0.7]), slices);
    expect(quiet.weightDiff).toBeCloseTo(0.1 / Math.sqrt((1 + 4 + 9 + 4.1 ** 2) / 4), 5);
    expect(quiet.weightWhere).toBe('layer 0 weights');
    expect(quiet.pass).toBe(false);
    const noisy = compareRun('x', nn, torch, side([0.7], [1, -2, 3.05, -4]), slices);
    expect(noisy.pass).toBe(true);
  });
});
