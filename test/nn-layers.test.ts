// The layer kinds and the planner on their own: shapes, parameter slices and their weight-decay
// flags, and the layers that behave differently in training and inference (batch norm, dropout).
import { describe, expect, it } from 'vitest';
import { Network, planNetwork, PlanError, type LayerSpec } from '../src/nn/index.ts';
import { dropThreshold, mix32, noiseBits, noiseKey } from '../src/random/noise.ts';

const conv = (filters: number, kernel: number, extra: Partial<Extract<LayerSpec, { type: 'conv' }>> = {}): LayerSpec => ({
  type: 'conv',
  filters,
  kernel,
  stride: 1,
  padding: 'same',
  bias: false,
  ...extra,
});
const bn = (momentum = 0.1): LayerSpec => ({ type: 'batchnorm', momentum, epsilon: 1e-5 });
const dense = (units: number): LayerSpec => ({ type: 'dense', units, bias: true });

describe('the planner', () => {
  it('plans the reference CNN: shapes, one parameter vector cut into slices, weight decay on weights and kernels only', () => {
    const block = (f: number): LayerSpec[] => [conv(f, 3), bn(), { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 }];
    const plan = planNetwork({
      input: { height: 64, width: 64, channels: 3 },
      layers: [...block(32), ...block(64), ...block(128), ...block(256), { type: 'flatten' }, dense(256), { type: 'relu' }, { type: 'dropout', rate: 0.5 }, dense(1)],
    });
    expect(plan.layers.map((l) => `${l.output.height}x${l.output.width}x${l.output.channels}`).filter((_, i) => i < 16 && i % 4 === 3)).toEqual(['32x32x32', '16x16x64', '8x8x128', '4x4x256']);
    expect(plan.paramCount).toBe(864 + 64 + 18432 + 128 + 73728 + 256 + 294912 + 512 + 4096 * 256 + 256 + 257);
    expect(plan.statCount).toBe(2 * (32 + 64 + 128 + 256));
    // Slices are contiguous, in layer order, and cover the vector.
    let next = 0;
    for (const s of plan.params) {
      expect(s.offset).toBe(next);
      next += s.length;
    }
    expect(next).toBe(plan.paramCount);
    expect(plan.params.filter((s) => s.decay).map((s) => `${s.layer}:${s.name}`)).toEqual(['0:weights', '4:weights', '8:weights', '12:weights', '17:weights', '20:weights']);
    expect(new Set(plan.params.filter((s) => !s.decay).map((s) => s.name))).toEqual(new Set(['gamma', 'beta', 'bias']));
    // What the forward pass keeps for the backward pass.
    expect(plan.layers[1]!.saved).toEqual([
      { name: 'xhat', perSample: 64 * 64 * 32, fixed: 0 },
      { name: 'invstd', perSample: 0, fixed: 32 },
    ]);
    expect(plan.layers[19]!.saved).toEqual([{ name: 'mask', perSample: 256, fixed: 0 }]);
  });

  it('computes same and valid padding, stride 1 and 2, as TensorFlow and ONNX (SAME_UPPER) do', () => {
    const out = (H: number, k: number, stride: 1 | 2, padding: 'same' | 'valid') =>
      planNetwork({ input: { height: H, width: H, channels: 1 }, layers: [{ ...conv(1, k, { stride, padding }), kernel: k } as LayerSpec, dense(1)] }).layers[0]!.output.height;
    expect([out(7, 3, 1, 'same'), out(7, 3, 2, 'same'), out(8, 3, 2, 'same'), out(7, 3, 1, 'valid'), out(7, 3, 2, 'valid'), out(8, 4, 2, 'valid')]).toEqual([7, 4, 4, 5, 3, 3]);
  });

  it('names the layer that does not fit, and its shapes', () => {
    const attempt = (layers: LayerSpec[]) => {
      try {
        planNetwork({ input: { height: 5, width: 5, channels: 2 }, layers });
      } catch (err) {
        return err as PlanError;
      }
      throw new Error('planned');
    };
    const e = attempt([conv(4, 3, { padding: 'valid' }), conv(4, 5, { padding: 'valid' }), dense(1)]);
    expect(e).toBeInstanceOf(PlanError);
    expect(e.layer).toBe(1);
    expect(e.reason).toBe('conv 4 filters 5x5, valid, no bias does not fit its input of 3x3x4: a window of 5 rows does not fit in 3');
    expect(attempt([dense(3)]).reason).toMatch(/the last layer must be \{"type":"dense","units":1\}/);
    expect(attempt([]).reason).toMatch(/the list is empty/);
  });
});

describe('training and inference modes', () => {
  const X = Float32Array.from({ length: 4 * 6 }, (_, i) => Math.sin(1.7 * i) * 3 + (i % 6));

  it('batch norm normalises with the batch in training, updates its running statistics (unbiased variance), and uses them in inference', () => {
    const plan = planNetwork({ input: { height: 1, width: 1, channels: 6 }, layers: [bn(1), dense(1)] });
    const net = new Network(plan, 4, Float64Array.from({ length: plan.paramCount }, (_, i) => (i < 6 ? 1 : i < 12 ? 0 : 0.1)));
    const x = Float64Array.from(X);
    net.forward(x, 4, 'train');
    for (let c = 0; c < 6; c++) {
      const values = [0, 1, 2, 3].map((s) => x[s * 6 + c]!);
      const mean = values.reduce((a, b) => a + b) / 4;
      const unbiased = values.reduce((a, v) => a + (v - mean) ** 2, 0) / 3;
      expect(net.stats[c]).toBeCloseTo(mean, 12); // momentum 1: the running mean is the batch's
      expect(net.stats[6 + c]).toBeCloseTo(unbiased, 12);
    }
    // Inference reads the running statistics: a batch of one sample gives the same as it would in the batch of four.
    const one = new Float64Array(1);
    const logits = net.forward(x.subarray(6, 12), 1, 'infer');
    one[0] = logits[0]!;
    const all = net.forward(x, 4, 'infer');
    expect(one[0]).toBeCloseTo(all[1]!, 12);
    // In training a batch of one has zero variance: batch norm outputs beta (0), the logit is the bias.
    expect(net.forward(x.subarray(0, 6), 1, 'train')[0]).toBeCloseTo(0.1, 12);
  });

  it('dropout drops about `rate` of the values in training (scaling the rest), none in inference, and its masks follow (seed, step, layer, position) only', () => {
    const n = 4000;
    const plan = planNetwork({ input: { height: 1, width: 1, channels: n }, layers: [{ type: 'dropout', rate: 0.3 }, dense(1)] });
    const ones = new Float32Array(n).fill(1);
    const masked = (seed: number, step: number): Float32Array => {
      const net = new Network(plan, 1, undefined, { seed });
      const pass = (net as unknown as { passes: { y: Float32Array }[] }).passes[0]!;
      net.forward(ones, 1, 'train', step);
      return Float32Array.from(pass.y);
    };
    const a = masked(1, 5);
    const dropped = a.filter((v) => v === 0).length / n;
    expect(dropped).toBeGreaterThan(0.27);
    expect(dropped).toBeLessThan(0.33);
    for (const v of a) expect(v === 0 || v === Math.fround(1 / 0.7)).toBe(true);
    expect(masked(1, 5)).toEqual(a); // the same key: the same mask
    expect(masked(1, 6)).not.toEqual(a); // another step
    expect(masked(2, 5)).not.toEqual(a); // another seed
    // Element i's decision is a function of (key, i): exactly what noise.ts says.
    const key = noiseKey(1, 5, 0);
    for (let i = 0; i < n; i += 97) expect(a[i] === 0).toBe(noiseBits(key, i) >>> 8 < dropThreshold(0.3));
    // Inference: the identity.
    const net = new Network(plan, 1);
    const pass = (net as unknown as { passes: { y: Float32Array }[] }).passes[0]!;
    net.forward(ones, 1, 'infer', 5);
    expect(Array.from(pass.y).every((v) => v === 1)).toBe(true);
  });

  it('the noise hash is pinned: integer arithmetic only, the same on every machine', () => {
    expect([mix32(0), mix32(1), mix32(0xffffffff), noiseKey(1, 2, 3), noiseBits(7, 11)]).toMatchSnapshot();
  });

  it('the noise hash is the one src/random/noise.ts describes, computed apart (BigInt arithmetic)', () => {
    // x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16 (mod 2^32)
    const M = 0xffffffffn;
    const mix = (v: number): number => {
      let x = BigInt(v >>> 0);
      x ^= x >> 16n;
      x = (x * 0x7feb352dn) & M;
      x ^= x >> 15n;
      x = (x * 0x846ca68bn) & M;
      return Number(x ^ (x >> 16n));
    };
    const add = (a: number, b: number): number => (a + b) % 4294967296;
    for (const v of [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 123456789]) expect(mix32(v), `mix32(${v})`).toBe(mix(v));
    for (const [seed, step, layer] of [[1, 2, 3], [0, 0, 0], [42, 1000, 7]] as const) {
      expect(noiseKey(seed, step, layer)).toBe(mix(add(mix(add(mix(seed), step)), layer)));
    }
    for (const [key, index] of [[7, 11], [0xdeadbeef, 0], [1, 1e6]] as const) expect(noiseBits(key, index)).toBe(mix(Number(BigInt(key) ^ BigInt(mix(index)))));
  });
});
