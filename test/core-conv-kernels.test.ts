/**
 * The convolution kernels (src/core/kernels/conv*.as.ts), run by the core's driver one thread
 * share after the other (core-layer-harness.ts), against the reference convolution
 * (src/nn/layers/conv.ts, in float64 on the same float32 numbers): odd sizes (not multiples of the SIMD width, the 8-channel groups, the
 * 4x4 Winograd tiles or the 64-position blocks), stride 2, valid padding, 1 and 3 channels,
 * kernels 1 to 7, batch 1, both weight-gradient splits; both kernel flavours; buffers never written
 * past their declared size; and the same bits whatever the split of the work into 1, 2 or 4
 * threads' shares.
 */
import { describe, expect, it } from 'vitest';
import { convGeometry } from '../src/nn/layers/conv.ts';
import type { ConvSpec, LayerSpec } from '../src/nn/layers/spec.ts';
import { planNetwork, type PlannedLayer } from '../src/nn/plan.ts';
import type { Shape } from '../src/nn/shape.ts';
import { conv, convPath } from '../src/core/layers/conv.ts';
import { fillPattern, normwiseError } from './core-helpers.ts';
import { conv as spec } from './helpers/networks.ts';
import { layerHarness, referencePass, type LayerHarness } from './core-layer-harness.ts';

interface Case {
  name: string;
  layer: PlannedLayer<ConvSpec>;
  B: number;
}

const shape = (height: number, width: number, channels: number): Shape => ({ height, width, channels });

/** The layer as the core plans it: second in its network, so that its input gradient is needed. */
function plannedConv(s: ConvSpec, input: Shape): PlannedLayer<ConvSpec> {
  const layers: LayerSpec[] = [{ type: 'relu' }, s, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }];
  return planNetwork({ input, layers }).layers[1] as PlannedLayer<ConvSpec>;
}
const make = (name: string, input: Shape, s: ConvSpec, B: number): Case => ({ name, layer: plannedConv(s, input), B });

const CASES: Case[] = [
  // direct kernels
  make('3x3 same, 3 channels (a first layer), 13 filters', shape(9, 11, 3), spec(13, 3), 2),
  make('3x3 same, 1 channel, no bias, batch 1', shape(7, 6, 1), spec(9, 3, 1, 'same', false), 1),
  make('3x3 same, stride 2, odd size', shape(9, 7, 5), spec(11, 3, 2), 2),
  make('3x3 valid, stride 2, no bias', shape(10, 9, 8), spec(8, 3, 2, 'valid', false), 2),
  make('1x1', shape(5, 5, 12), spec(7, 1), 2),
  make('1x1 stride 2 (dx rows with no tap)', shape(5, 6, 4), spec(6, 1, 2), 2),
  make('2x2 same (padding after)', shape(6, 5, 6), spec(5, 2), 2),
  make('5x5 valid', shape(9, 8, 3), spec(12, 5, 1, 'valid'), 2),
  make('5x5 same, stride 2', shape(11, 10, 9), spec(4, 5, 2), 1),
  make('5x5 same, 40 channels, 72 filters (weight gradient split by filters)', shape(6, 7, 40), spec(72, 5), 2),
  make('7x7 same, stride 2, 3 channels', shape(13, 12, 3), spec(10, 7, 2), 2),
  make('7x7 same on 3x3 (kernel larger than the image)', shape(3, 3, 2), spec(3, 7), 2),
  make('3x3 same, rows longer than a block (67 wide)', shape(3, 67, 2), spec(5, 3), 1),
  // Winograd F(4x4, 3x3)
  make('Winograd: 3x3 same, 17 channels, 20 filters (blocks across images)', shape(6, 7, 17), spec(20, 3), 3),
  make('Winograd: 3x3 same, 40 channels, 36 filters', shape(5, 9, 40), spec(36, 3), 2),
  make('Winograd: 3x3 valid, 9 channels, odd output (partial tiles)', shape(8, 9, 9), spec(6, 3, 1, 'valid'), 2),
  make('Winograd: 3x3 same on 1x1', shape(1, 1, 8), spec(5, 3), 2),
  make('Winograd: 3x3 same, 8 channels, 67 wide, batch 1', shape(3, 67, 8), spec(9, 3, 1, 'same', false), 1),
  make('Winograd: 3x3 same, 64 channels, 72 filters, more than a block of tiles', shape(10, 13, 64), spec(72, 3, 1, 'same', false), 3),
];

/** A harness for the case with deterministic inputs: x, weights, biases and dy. */
function setUp(kernel: 'relaxed-simd' | 'simd', c: Case): LayerHarness {
  const h = layerHarness(kernel, conv, c.layer, c.B);
  const K = c.layer.spec.kernel * c.layer.spec.kernel * c.layer.input.channels;
  fillPattern(h.x, 1);
  fillPattern(h.params.weights!, 2, Math.sqrt(3 / K));
  if (h.params.bias) fillPattern(h.params.bias, 3, 0.1);
  fillPattern(h.dy, 4);
  return h;
}

/** One training pass with T threads: copies of y, dx, dW and db. */
function run(h: LayerHarness, B: number, T: number) {
  h.forward(B, 'train', 0, T);
  h.backward(B, T);
  return { y: h.y.slice(), dx: h.dx.slice(), dw: h.grads.weights!.slice(), db: h.grads.bias?.slice() ?? new Float32Array(0) };
}

const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe.each(['relaxed-simd', 'simd'] as const)('%s convolution kernels', (kernel) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: forward, dW, db and dx as the reference', (_name, c) => {
    expect(convPath(convGeometry(c.layer.spec, c.layer.input))).toBe(c.name.startsWith('Winograd') ? 'winograd' : 'direct');
    const h = setUp(kernel, c);
    const got = run(h, c.B, 1);
    expect(h.overruns(), 'buffers written past their declared size').toEqual([]);
    const ref = referencePass(h, c.B, 'train', 0);
    // F(4x4, 3x3) transforms scale values by up to 8 and 1/24: a few times the rounding error.
    const tolerance = c.name.startsWith('Winograd') ? 1e-5 : 2e-6;
    expect(normwiseError(got.y, ref.y), 'y').toBeLessThan(tolerance);
    expect(normwiseError(got.dw, ref.grads.weights!), 'dW').toBeLessThan(tolerance);
    if (ref.grads.bias) expect(normwiseError(got.db, ref.grads.bias), 'db').toBeLessThan(tolerance);
    expect(normwiseError(got.dx, ref.dx!), 'dx').toBeLessThan(tolerance);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: the same bits for 1, 2 and 4 threads', (_name, c) => {
    const h = setUp(kernel, c);
    const one = run(h, c.B, 1);
    for (const T of [2, 4]) {
      const many = run(h, c.B, T);
      expect(h.overruns(), `buffers written past their declared size, ${T} threads`).toEqual([]);
      expect(same(many.y, one.y), `y, ${T} threads`).toBe(true);
      expect(same(many.dw, one.dw), `dW, ${T} threads`).toBe(true);
      expect(same(many.db, one.db), `db, ${T} threads`).toBe(true);
      expect(same(many.dx, one.dx), `dx, ${T} threads`).toBe(true);
    }
  });
});

it('the core picks Winograd for 3x3 stride-1 layers of 8 channels or more, the direct kernels otherwise', () => {
  const path = (input: Shape, s: ConvSpec) => convPath(convGeometry(s, input));
  expect(path(shape(64, 64, 3), spec(32, 3))).toBe('direct');
  expect(path(shape(32, 32, 32), spec(64, 3))).toBe('winograd');
  expect(path(shape(32, 32, 32), spec(64, 3, 1, 'valid'))).toBe('winograd');
  expect(path(shape(32, 32, 32), spec(64, 3, 2))).toBe('direct');
  expect(path(shape(32, 32, 32), spec(64, 5))).toBe('direct');
});
