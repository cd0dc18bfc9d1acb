/**
 * The WebAssembly twin of src/random/noise.ts (src/core/kernels/noise.as.ts) gives the same bits: mix32,
 * noiseBits (scalar and four lanes at once) and dropThreshold, on many inputs and the edge values.
 * The file is compiled here on its own with the project's AssemblyScript compiler, behind a few
 * wrappers, so the production kernel module exports nothing for tests.
 */
import asc from 'assemblyscript/asc';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dropThreshold, mix32, noiseBits } from '../src/random/noise.ts';

interface NoiseExports {
  mix(x: number): number;
  bits(key: number, index: number): number;
  /** Lane `lane` of noiseBitsX4(key, [index, index + 1, index + 2, index + 3]). */
  bitsX4(key: number, index: number, lane: number): number;
  threshold(rate: number): number;
}

const WRAPPERS = `
import { mix32, noiseBits, noiseBitsX4, dropThreshold } from './noise.as';
export function mix(x: u32): u32 { return mix32(x); }
export function bits(key: u32, index: u32): u32 { return noiseBits(key, index); }
export function bitsX4(key: u32, index: u32, lane: i32): u32 {
  const v = noiseBitsX4(key, i32x4.add(i32x4.splat(index), i32x4(0, 1, 2, 3)));
  switch (lane) {
    case 0: return i32x4.extract_lane(v, 0);
    case 1: return i32x4.extract_lane(v, 1);
    case 2: return i32x4.extract_lane(v, 2);
    default: return i32x4.extract_lane(v, 3);
  }
}
export function threshold(rate: f64): i32 { return dropThreshold(rate); }
`;

let wasm: NoiseExports;

beforeAll(async () => {
  const noise = readFileSync(join(import.meta.dirname, '..', 'src', 'core', 'kernels', 'noise.as.ts'), 'utf8');
  const result = await asc.compileString({ 'entry.ts': WRAPPERS, 'noise.as.ts': noise }, { optimizeLevel: 1, runtime: 'stub', enable: ['simd'] });
  if (result.error || !result.binary) throw new Error(`compiling noise.as.ts failed: ${result.error?.message}\n${result.stderr.toString()}`);
  wasm = new WebAssembly.Instance(new WebAssembly.Module(result.binary)).exports as unknown as NoiseExports;
});

/** Inputs: edges of the 32-bit range and a spread of pseudo-random values. */
function inputs(count: number): number[] {
  const values = [0, 1, 2, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
  let s = 12345;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values.push(s);
  }
  return values;
}

describe('noise.as.ts = src/random/noise.ts', () => {
  it('mix32 on 20,000 inputs', () => {
    const wrong = inputs(20000).filter((x) => wasm.mix(x) >>> 0 !== mix32(x));
    expect(wrong, 'inputs where mix32 differs').toEqual([]);
  });

  it('noiseBits, scalar and four lanes at once, on keys x indices', () => {
    const keys = inputs(40);
    const indices = [...inputs(200), ...Array.from({ length: 64 }, (_, i) => i)];
    const wrong: string[] = [];
    for (const key of keys) {
      for (const index of indices) {
        const lane = index & 3;
        if (wasm.bits(key, index) >>> 0 !== noiseBits(key, index)) wrong.push(`noiseBits(${key}, ${index})`);
        if (wasm.bitsX4(key, (index - lane) >>> 0, lane) >>> 0 !== noiseBits(key, index)) wrong.push(`noiseBitsX4(${key}, ${index})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('dropThreshold on rates in [0, 1], halves included', () => {
    const rates = [0, 1, 0.5, 0.25, 0.3, 0.1, 0.9, 0.999999, 1e-9, 2.5 / 16777216, 3.5 / 16777216, 0.49999999999999994 / 16777216];
    for (let i = 0; i <= 1000; i++) rates.push(i / 1000);
    expect(rates.filter((rate) => wasm.threshold(rate) !== dropThreshold(rate))).toEqual([]);
  });
});
