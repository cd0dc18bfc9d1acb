// The forward product of a dense layer, for the output rows [o0, o1) of one thread:
//
//   Z[s, o] = b[o] + sum_i X[s, i] * W[o, i]      s in [0, B), o in [o0, o1)
//
// X is (B, nIn) with rows ldx floats apart, W is (nOut, nIn) row-major (src/nn/layers/dense.ts), Z has rows
// ldz floats apart. Each Z value is a SIMD dot product along i: four lanes each accumulate every
// fourth product, chunk by chunk of KC inputs; at the end of a chunk the four lanes are summed
// (hsum) and added into Z. Chunking keeps the W rows of a tile in L1 and cuts float32 rounding
// error several times compared with one long chain.
//
// Tiles of 2 samples x 4 weight rows = 8 vector accumulators (V8 has about 15 SIMD registers; more
// accumulators spill). Every Z value goes through the same sequence of operations whatever tile
// computes it (2x4, 1x4, 2x1 or 1x1), so the result does not depend on how rows are split between
// threads. Inputs past the last multiple of 4 in a chunk are added one by one after the hsum.
import { madd, hsum, at } from './simd.as';

/** Inputs per chunk (a multiple of 4). */
const KC: i32 = 1024;

export function denseForward(X: usize, ldx: i32, W: usize, nIn: i32, bias: usize, Z: usize, ldz: i32, B: i32, o0: i32, o1: i32): void {
  // Z starts at the bias (address 0: a layer without bias).
  for (let s = 0; s < B; s++) {
    for (let o = o0; o < o1; o++) store<f32>(at(Z, s * ldz + o), bias != 0 ? load<f32>(at(bias, o)) : 0);
  }
  for (let c0 = 0; c0 < nIn; c0 += KC) {
    const c1 = min(c0 + KC, nIn);
    const cv = c0 + ((c1 - c0) & ~3); // end of the vector part of this chunk
    let o = o0;
    for (; o + 4 <= o1; o += 4) {
      let s = 0;
      for (; s + 2 <= B; s += 2) tile2x4(X, ldx, W, nIn, Z, ldz, s, o, c0, cv, c1);
      if (s < B) tile1x4(X, ldx, W, nIn, Z, ldz, s, o, c0, cv, c1);
    }
    for (; o < o1; o++) {
      for (let s = 0; s < B; s++) tile1x1(X, ldx, W, nIn, Z, ldz, s, o, c0, cv, c1);
    }
  }
}

/** Adds the chunk's sum (lanes, then the scalar tail [cv, c1)) into Z[s, o]. */
// @ts-ignore: decorator
@inline function finish(acc: v128, x: usize, w: usize, Z: usize, ldz: i32, s: i32, o: i32, cv: i32, c1: i32): void {
  let t = hsum(acc);
  for (let i = cv; i < c1; i++) t += load<f32>(at(x, i)) * load<f32>(at(w, i));
  const z = at(Z, s * ldz + o);
  store<f32>(z, load<f32>(z) + t);
}

function tile2x4(X: usize, ldx: i32, W: usize, nIn: i32, Z: usize, ldz: i32, s: i32, o: i32, c0: i32, cv: i32, c1: i32): void {
  const x0 = at(X, s * ldx);
  const x1 = at(X, (s + 1) * ldx);
  const w0 = at(W, o * nIn);
  const w1 = at(W, (o + 1) * nIn);
  const w2 = at(W, (o + 2) * nIn);
  const w3 = at(W, (o + 3) * nIn);
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
  const end = <usize>cv << 2;
  for (let k = <usize>c0 << 2; k < end; k += 16) {
    const xa = v128.load(x0 + k);
    const xb = v128.load(x1 + k);
    const wa = v128.load(w0 + k);
    a00 = madd(xa, wa, a00);
    a10 = madd(xb, wa, a10);
    const wb = v128.load(w1 + k);
    a01 = madd(xa, wb, a01);
    a11 = madd(xb, wb, a11);
    const wc = v128.load(w2 + k);
    a02 = madd(xa, wc, a02);
    a12 = madd(xb, wc, a12);
    const wd = v128.load(w3 + k);
    a03 = madd(xa, wd, a03);
    a13 = madd(xb, wd, a13);
  }
  finish(a00, x0, w0, Z, ldz, s, o, cv, c1);
  finish(a01, x0, w1, Z, ldz, s, o + 1, cv, c1);
  finish(a02, x0, w2, Z, ldz, s, o + 2, cv, c1);
  finish(a03, x0, w3, Z, ldz, s, o + 3, cv, c1);
  finish(a10, x1, w0, Z, ldz, s + 1, o, cv, c1);
  finish(a11, x1, w1, Z, ldz, s + 1, o + 1, cv, c1);
  finish(a12, x1, w2, Z, ldz, s + 1, o + 2, cv, c1);
  finish(a13, x1, w3, Z, ldz, s + 1, o + 3, cv, c1);
}

function tile1x4(X: usize, ldx: i32, W: usize, nIn: i32, Z: usize, ldz: i32, s: i32, o: i32, c0: i32, cv: i32, c1: i32): void {
  const x0 = at(X, s * ldx);
  const w0 = at(W, o * nIn);
  const w1 = at(W, (o + 1) * nIn);
  const w2 = at(W, (o + 2) * nIn);
  const w3 = at(W, (o + 3) * nIn);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end = <usize>cv << 2;
  for (let k = <usize>c0 << 2; k < end; k += 16) {
    const xa = v128.load(x0 + k);
    a0 = madd(xa, v128.load(w0 + k), a0);
    a1 = madd(xa, v128.load(w1 + k), a1);
    a2 = madd(xa, v128.load(w2 + k), a2);
    a3 = madd(xa, v128.load(w3 + k), a3);
  }
  finish(a0, x0, w0, Z, ldz, s, o, cv, c1);
  finish(a1, x0, w1, Z, ldz, s, o + 1, cv, c1);
  finish(a2, x0, w2, Z, ldz, s, o + 2, cv, c1);
  finish(a3, x0, w3, Z, ldz, s, o + 3, cv, c1);
}

function tile1x1(X: usize, ldx: i32, W: usize, nIn: i32, Z: usize, ldz: i32, s: i32, o: i32, c0: i32, cv: i32, c1: i32): void {
  const x0 = at(X, s * ldx);
  const w0 = at(W, o * nIn);
  let a0 = f32x4.splat(0);
  const end = <usize>cv << 2;
  for (let k = <usize>c0 << 2; k < end; k += 16) a0 = madd(v128.load(x0 + k), v128.load(w0 + k), a0);
  finish(a0, x0, w0, Z, ldz, s, o, cv, c1);
}
