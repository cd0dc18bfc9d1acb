// The WebAssembly twin of src/random/noise.ts: counter-based random bits, a pure function of (key,
// index), so that every thread draws the same bits for the same element however the work is split.
// Same integer arithmetic (i32 multiply = Math.imul, logical shifts = >>>), so the bits are the
// same as the TypeScript ones; test/core-noise.test.ts compares them.
//
//   mix32(x)           the "lowbias32" hash: x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15;
//                      x *= 0x846ca68b; x ^= x >>> 16
//   noiseBits(key, i)  mix32(key ^ mix32(i))
//   dropThreshold(r)   Math.round(r * 2^24): dropout keeps i iff (noiseBits(key, i) >>> 8) >= it

// @ts-ignore: decorator
@inline export function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  return x ^ (x >>> 16);
}

// @ts-ignore: decorator
@inline export function noiseBits(key: u32, index: u32): u32 {
  return mix32(key ^ mix32(index));
}

/** AssemblyScript's Math.round rounds halves up, as JavaScript's does. */
// @ts-ignore: decorator
@inline export function dropThreshold(rate: f64): i32 {
  return <i32>Math.round(rate * 16777216);
}

/** mix32 on four lanes. */
// @ts-ignore: decorator
@inline export function mix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** noiseBits for the four indices in `index`. */
// @ts-ignore: decorator
@inline export function noiseBitsX4(key: u32, index: v128): v128 {
  return mix32x4(v128.xor(i32x4.splat(key), mix32x4(index)));
}
