/**
 * Test support for the layer kinds of the gradient core: runs a layer through the harness
 * (core-layer-harness.ts) for several thread counts and checks that every output byte is the same,
 * and compares with the reference kind.
 */
import { expect } from 'vitest';
import type { Mode } from '../src/nn/index.ts';
import { shapeSize } from '../src/nn/index.ts';
import { KERNEL_FILES, type WasmKernelName } from '../src/core/kernels.ts';
import type { LayerHarness } from './core-layer-harness.ts';

export const THREAD_COUNTS = [1, 2, 3, 4];
export const KERNELS = Object.keys(KERNEL_FILES) as WasmKernelName[];

/** Every output of one run: y, and in training mode dx, the gradients, the statistics and the saved buffers. */
export type Outputs = Record<string, Float32Array>;

/** Index of the first value whose bits differ, or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return Math.min(ua.length, ub.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

export function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
  const i = firstBitDifference(a, b);
  expect(i, `${what}: first differing value at ${i} (${a[i]} vs ${b[i]})`).toBe(-1);
}

/** A NaN with a payload no kernel makes: values past the batch must keep it. */
const SENTINEL = new Float32Array(new Uint32Array([0x7fc0beef]).buffer)[0]!;

/**
 * One forward (and in training mode backward) pass over B samples with T threads, from the
 * current x, dy, params and stats (`stats0`, restored first); returns copies of every output.
 */
export function runLayer(h: LayerHarness, B: number, mode: Mode, noiseKey: number, T: number, stats0: Outputs, withDx = true): Outputs {
  for (const [name, values] of Object.entries(stats0)) h.stats[name]!.set(values);
  const inSize = shapeSize(h.layer.input);
  const outSize = shapeSize(h.layer.output);
  h.y.fill(SENTINEL);
  h.dx.fill(SENTINEL);
  for (const g of Object.values(h.grads)) g.fill(SENTINEL);
  h.forward(B, mode, noiseKey, T);
  const out: Outputs = { y: h.y.slice(0, B * outSize) };
  expectUntouched(h.y, B * outSize, 'y');
  if (mode === 'train') {
    h.backward(B, T, withDx);
    if (withDx) {
      out.dx = h.dx.slice(0, B * inSize);
      expectUntouched(h.dx, B * inSize, 'dx');
    } else {
      expectUntouched(h.dx, 0, 'dx');
    }
    for (const [name, g] of Object.entries(h.grads)) out[`grad ${name}`] = g.slice();
    for (const [name, s] of Object.entries(h.stats)) out[`stat ${name}`] = s.slice();
  }
  return out;
}

function expectUntouched(a: Float32Array, from: number, what: string): void {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = from; i < bits.length; i++) {
    if (bits[i] !== 0x7fc0beef) expect.fail(`${what}[${i}] written, past the batch`);
  }
}

/** Runs the pass for every thread count; all outputs must be bit-identical. Returns the outputs. */
export function expectSameForAnyThreadCount(h: LayerHarness, B: number, mode: Mode, noiseKey: number, withDx = true): Outputs {
  const stats0 = Object.fromEntries(Object.entries(h.stats).map(([name, s]) => [name, s.slice()]));
  const first = runLayer(h, B, mode, noiseKey, THREAD_COUNTS[0]!, stats0, withDx);
  for (const T of THREAD_COUNTS.slice(1)) {
    const other = runLayer(h, B, mode, noiseKey, T, stats0, withDx);
    for (const name of Object.keys(first)) expectSameBits(other[name]!, first[name]!, `${name} with ${T} threads vs 1`);
  }
  // Leave the statistics as one pass left them (the caller compares with the reference).
  return first;
}
