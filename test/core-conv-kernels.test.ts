/**
 * The convolution kernels (src/core/kernels/conv*.as.ts) against the reference convolution
 * (src/nn/layers/conv.ts, in float64 on the same float32 numbers), called directly over a shared
 * WebAssembly.Memory: odd sizes (not multiples of the SIMD width, the 8-channel groups or the
 * 64-position blocks), stride 2, valid padding, 1 and 3 channels, kernels 1 to 7, batch 1; both
 * kernel flavours; and the same bits whatever the split of the work into 1, 2 or 4 threads' shares.
 */
import { describe, expect, it } from 'vitest';
import { conv, convGeometry } from '../src/nn/layers/conv.ts';
import type { ConvSpec } from '../src/nn/layers/spec.ts';
import type { LayerPass } from '../src/nn/layers/layer.ts';
import type { Shape } from '../src/nn/shape.ts';
import { convPath, type ConvPath } from '../src/core/layers/conv.ts';
import { convHarness, type ConvRun } from './conv-kernel-helpers.ts';
import { fillPattern, normwiseError } from './core-helpers.ts';

interface Case {
  name: string;
  input: Shape;
  spec: ConvSpec;
  B: number;
}

const spec = (filters: number, kernel: number, stride: 1 | 2 = 1, padding: 'same' | 'valid' = 'same', bias = true): ConvSpec => ({
  type: 'conv',
  filters,
  kernel,
  stride,
  padding,
  bias,
});
const shape = (height: number, width: number, channels: number): Shape => ({ height, width, channels });

const CASES: Case[] = [
  { name: '3x3 same, 3 channels (a first layer), 13 filters', input: shape(9, 11, 3), spec: spec(13, 3), B: 2 },
  { name: '3x3 same, 1 channel, no bias, batch 1', input: shape(7, 6, 1), spec: spec(9, 3, 1, 'same', false), B: 1 },
  { name: '3x3 same, 17 channels, 20 filters (blocks across images)', input: shape(6, 7, 17), spec: spec(20, 3), B: 3 },
  { name: '3x3 same, stride 2, odd size', input: shape(9, 7, 5), spec: spec(11, 3, 2), B: 2 },
  { name: '3x3 valid, stride 2, no bias', input: shape(10, 9, 8), spec: spec(8, 3, 2, 'valid', false), B: 2 },
  { name: '1x1', input: shape(5, 5, 12), spec: spec(7, 1), B: 2 },
  { name: '1x1 stride 2 (dx rows with no tap)', input: shape(5, 6, 4), spec: spec(6, 1, 2), B: 2 },
  { name: '2x2 same (padding after)', input: shape(6, 5, 6), spec: spec(5, 2), B: 2 },
  { name: '5x5 valid', input: shape(9, 8, 3), spec: spec(12, 5, 1, 'valid'), B: 2 },
  { name: '5x5 same, stride 2', input: shape(11, 10, 9), spec: spec(4, 5, 2), B: 1 },
  { name: '7x7 same, stride 2, 3 channels', input: shape(13, 12, 3), spec: spec(10, 7, 2), B: 2 },
  { name: '7x7 same on 3x3 (kernel larger than the image)', input: shape(3, 3, 2), spec: spec(3, 7), B: 2 },
  { name: '3x3 same, 40 channels, 36 filters', input: shape(5, 9, 40), spec: spec(36, 3), B: 2 },
  { name: '3x3 same, rows longer than a block (67 wide)', input: shape(3, 67, 2), spec: spec(5, 3), B: 1 },
];

/** The reference forward and backward in float64 on the float32 values. */
function reference(c: Case, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array) {
  const g = convGeometry(c.spec, c.input);
  const out = { height: g.Ho, width: g.Wo, channels: g.F };
  const inSize = g.H * g.W * g.C;
  const outSize = g.Ho * g.Wo * g.F;
  const io: LayerPass = {
    B: c.B,
    mode: 'train',
    noiseKey: 0,
    x: Float64Array.from(x),
    y: new Float64Array(c.B * outSize),
    dy: Float64Array.from(dy),
    dx: new Float64Array(c.B * inSize),
    params: c.spec.bias ? { weights: Float64Array.from(w), bias: Float64Array.from(b) } : { weights: Float64Array.from(w) },
    grads: c.spec.bias ? { weights: new Float64Array(w.length), bias: new Float64Array(b.length) } : { weights: new Float64Array(w.length) },
    stats: {},
    saved: {},
  };
  conv.forward(c.spec, c.input, out, io);
  conv.backward(c.spec, c.input, out, io);
  return { y: io.y, dx: io.dx!, dw: io.grads.weights!, db: io.grads.bias ?? null };
}

function runCase(run: ConvRun, path: ConvPath, c: Case, T: number) {
  const g = convGeometry(c.spec, c.input);
  const K = g.k * g.k * g.C;
  const x = new Float32Array(c.B * g.H * g.W * g.C);
  const w = new Float32Array(g.F * K);
  const b = new Float32Array(g.F);
  const dy = new Float32Array(c.B * g.Ho * g.Wo * g.F);
  fillPattern(x, 1);
  fillPattern(w, 2, Math.sqrt(3 / K));
  fillPattern(b, 3, 0.1);
  fillPattern(dy, 4);
  const got = run(path, g, c.B, c.spec.bias, { x, w, b, dy }, T);
  return { x, w, b, dy, got };
}

/** Winograd F(4x4, 3x3): 3x3 stride-1 layers only (the core uses it from 8 channels up; the kernels take any). */
const WINOGRAD_CASES: Case[] = [
  ...CASES.filter((c) => c.spec.kernel === 3 && c.spec.stride === 1),
  { name: '3x3 valid, 9 channels, odd output (partial tiles)', input: shape(8, 9, 9), spec: spec(6, 3, 1, 'valid'), B: 2 },
  { name: '3x3 same on 1x1', input: shape(1, 1, 4), spec: spec(5, 3), B: 2 },
  { name: '3x3 same, 64 channels, 72 filters, more than a block of tiles', input: shape(10, 13, 64), spec: spec(72, 3, 1, 'same', false), B: 3 },
];

describe.each([
  ['relaxed-simd', 'direct', CASES],
  ['simd', 'direct', CASES],
  ['relaxed-simd', 'winograd', WINOGRAD_CASES],
  ['simd', 'winograd', WINOGRAD_CASES],
] as const)('%s %s convolution kernels', (flavour, path, cases) => {
  const run = convHarness(flavour);

  it.each(cases.map((c) => [c.name, c] as const))('%s: forward, dW, db and dx as the reference', (_name, c) => {
    const { x, w, b, dy, got } = runCase(run, path, c, 1);
    const ref = reference(c, x, w, b, dy);
    expect(got.overruns, 'buffers written past their declared size').toEqual([]);
    // F(4x4, 3x3) transforms multiply values by up to 8 and 1/24: a few times the rounding error.
    const tolerance = path === 'winograd' ? 1e-5 : 2e-6;
    expect(normwiseError(got.y, ref.y), 'y').toBeLessThan(tolerance);
    expect(normwiseError(got.dw, ref.dw), 'dW').toBeLessThan(tolerance);
    if (ref.db) expect(normwiseError(got.db, ref.db), 'db').toBeLessThan(tolerance);
    expect(normwiseError(got.dx, ref.dx), 'dx').toBeLessThan(tolerance);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: the same bits for 1, 2 and 4 threads', (_name, c) => {
    const one = runCase(run, path, c, 1).got;
    for (const T of [2, 4]) {
      const many = runCase(run, path, c, T).got;
      expect(many.overruns, `buffers written past their declared size, ${T} threads`).toEqual([]);
      expect(Buffer.from(many.y.buffer).equals(Buffer.from(one.y.buffer)), `y, ${T} threads`).toBe(true);
      expect(Buffer.from(many.dw.buffer).equals(Buffer.from(one.dw.buffer)), `dW, ${T} threads`).toBe(true);
      expect(Buffer.from(many.db.buffer).equals(Buffer.from(one.db.buffer)), `db, ${T} threads`).toBe(true);
      expect(Buffer.from(many.dx.buffer).equals(Buffer.from(one.dx.buffer)), `dx, ${T} threads`).toBe(true);
    }
  });
});

it('the core picks Winograd for 3x3 stride-1 layers of 8 channels or more, the direct kernels otherwise', () => {
  const path = (c: Case) => convPath(convGeometry(c.spec, c.input));
  expect(path({ name: '', input: shape(64, 64, 3), spec: spec(32, 3), B: 1 })).toBe('direct');
  expect(path({ name: '', input: shape(32, 32, 32), spec: spec(64, 3), B: 1 })).toBe('winograd');
  expect(path({ name: '', input: shape(32, 32, 32), spec: spec(64, 3, 1, 'valid'), B: 1 })).toBe('winograd');
  expect(path({ name: '', input: shape(32, 32, 32), spec: spec(64, 3, 2), B: 1 })).toBe('direct');
  expect(path({ name: '', input: shape(32, 32, 32), spec: spec(64, 5), B: 1 })).toBe('direct');
});
