import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { initParams, initStats, planNetwork, type LayerSpec, type NetworkPlan } from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';
import { mlp } from './helpers/networks.ts';

const plan = planNetwork(mlp(300, [64, 16], 'relu'));

function init(seed: number, p: NetworkPlan = plan): Float32Array {
  const params = new Float32Array(p.paramCount);
  initParams(p, params, new Rng(seed));
  return params;
}

function variance(a: Float32Array): number {
  let sumSq = 0;
  for (const v of a) sumSq += v * v;
  return sumSq / a.length;
}

const sha = (p: Float32Array) => createHash('sha256').update(new Uint8Array(p.buffer)).digest('hex');

describe('initialisation', () => {
  it('is identical, byte for byte, for the same seed', () => {
    expect(sha(init(42))).toBe(sha(init(42)));
    expect(sha(init(42))).not.toBe(sha(init(43)));
  });

  it('does not depend on the machine: the PRNG stream is pinned', () => {
    // sfc32 seeded by splitmix32 uses 32-bit integer arithmetic only; these values are its contract.
    const rng = new Rng(42);
    const words = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
    const again = new Rng(42);
    expect([again.nextUint32(), again.nextUint32(), again.nextUint32()]).toEqual(words);
    expect(words).toMatchSnapshot();
    expect(sha(init(42))).toMatchSnapshot();
  });

  it('uses He for ReLU layers, Xavier for the sigmoid output, and zero biases', () => {
    const params = init(1);
    const output = plan.layers.length - 1;
    for (const slice of plan.params) {
      const values = params.subarray(slice.offset, slice.offset + slice.length);
      if (slice.init.kind === 'constant') {
        expect(Array.from(values).every((b) => b === 0)).toBe(true);
        continue;
      }
      const { fanIn, fanOut } = slice.init;
      const isOutput = slice.layer === output;
      const expected = isOutput ? 2 / (fanIn + fanOut) : 2 / fanIn;
      // The sample variance of n uniform draws is within a few percent for these sizes.
      expect(variance(values) / expected).toBeGreaterThan(isOutput ? 0.6 : 0.85);
      expect(variance(values) / expected).toBeLessThan(isOutput ? 1.4 : 1.15);
    }
  });

  it('gives a convolution kernel the fan-in of a patch (k*k*C), looks past batch norm and pooling for the activation, and starts batch norm at gamma 1, beta 0, running variance 1', () => {
    const layers: LayerSpec[] = [
      { type: 'conv', filters: 16, kernel: 3, stride: 1, padding: 'same', bias: false },
      { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
      { type: 'relu' },
      { type: 'maxpool', size: 2, stride: 2 },
      { type: 'conv', filters: 8, kernel: 5, stride: 2, padding: 'valid', bias: true },
      { type: 'tanh' },
      { type: 'flatten' },
      { type: 'dense', units: 1, bias: true },
    ];
    const p = planNetwork({ input: { height: 32, width: 32, channels: 3 }, layers });
    const params = init(3, p);
    const [conv1, gamma, beta, conv2] = p.params;
    expect(conv1).toMatchObject({ name: 'weights', layer: 0, length: 16 * 27, decay: true, init: { fanIn: 27, fanOut: 9 * 16 } });
    expect(variance(params.subarray(conv1!.offset, conv1!.offset + conv1!.length)) / (2 / 27)).toBeGreaterThan(0.8); // He: before a ReLU
    expect(variance(params.subarray(conv1!.offset, conv1!.offset + conv1!.length)) / (2 / 27)).toBeLessThan(1.2);
    expect(gamma).toMatchObject({ name: 'gamma', decay: false });
    expect(Array.from(params.subarray(gamma!.offset, gamma!.offset + 16)).every((v) => v === 1)).toBe(true);
    expect(beta).toMatchObject({ name: 'beta', decay: false });
    expect(Array.from(params.subarray(beta!.offset, beta!.offset + 16)).every((v) => v === 0)).toBe(true);
    // Xavier before tanh: variance 2 / (fanIn + fanOut) = 2 / (25*16 + 25*8).
    expect(conv2).toMatchObject({ init: { fanIn: 400, fanOut: 200 } });
    const v2 = variance(params.subarray(conv2!.offset, conv2!.offset + conv2!.length));
    expect(v2 / (2 / 600)).toBeGreaterThan(0.75);
    expect(v2 / (2 / 600)).toBeLessThan(1.25);
    const stats = new Float32Array(p.statCount);
    initStats(p, stats);
    expect(Array.from(stats)).toEqual([...new Array(16).fill(0), ...new Array(16).fill(1)]);
  });

  it('restores the PRNG exactly from its saved state', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 5; i++) rng.uniform();
    const saved = rng.getState();
    const a = [rng.uniform(), rng.normal(), rng.int(10)];
    const other = new Rng(0);
    other.setState(saved);
    expect([other.uniform(), other.normal(), other.int(10)]).toEqual(a);
  });
});
