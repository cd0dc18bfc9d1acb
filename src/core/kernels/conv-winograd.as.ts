// 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, 2015): each
// 2x2 block of outputs ("tile") of one channel pair costs 16 multiplications instead of 36.
//
//   forward  Y = A^T [ U (.) V ] A        per tile and filter, summed over channels in the product
//            U = G g G^T (4x4, from the 3x3 kernel g of one filter and channel)
//            V = B^T d B (4x4, from the 4x4 input block d of the tile, one channel)
//   with     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//            A^T = [1 1 1 0; 0 1 -1 -1]
// so that for each of the 16 points xi of the 4x4 transform, over the tiles t of a block:
//            M[xi][t, f] = sum_c V[xi][t, c] * U[xi][c, f]           (a matrix product, tile4x8)
//   input gradient: the same forward pass over dy with the kernel turned by 180 degrees and its
//            channels swapped (Wflip[c, ky, kx, f] = W[f, 2-ky, 2-kx, c]), padding 2 - pad.
//   weight gradient: with dM = A dY A^T (the 4x4 gradient of M from the 2x2 gradient of a tile),
//            D[xi][f, c] = sum_t dM[xi][t, f] * V[xi][t, c]            (sumTile4x8)
//            dW[f, :, :, c] = G^T D[.][f, c] G
// Tiles cover the output in steps of 2 (the last row or column of tiles may stick out: those
// outputs are not stored, and their gradient is zero). Tile t = (n * TH + ty) * TW + tx.
//
// Determinism: a tile's outputs are computed whole by the thread that owns the tile (forward,
// input gradient); the weight gradient of a filter is summed by one thread over all tiles in
// blocks of TB, block sums added in order. Transforms are fixed sequences of adds; the product
// is one chain per value. Nothing depends on the number of threads.
import { at } from './simd.as';
import { loadLanes4, storeLanes4, tile4x8, sumTile4x8, zeroFloats } from './conv.as';

/** Tiles per block (a multiple of 4: the product's row tile). */
const TB: i32 = 64;

export function winogradBlockTiles(): i32 {
  return TB;
}

/**
 * Floats between the blocks of two consecutive points xi in a scratch buffer: n rounded up, plus 16
 * (one cache line) so that the 16 points of a tile, read or written together, do not all fall in
 * the same L1 set (their distance would often be a multiple of 4 KiB).
 */
// @ts-ignore: decorator
@inline function pointFloats(n: i32): i32 {
  return n + 16;
}

/** Channels rounded up to a multiple of 8: the stride of the transformed rows. */
// @ts-ignore: decorator
@inline function pad8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** Bytes of the transformed kernels for Cin input and Cout output channels (winogradPack). */
export function winogradPackBytes(Cin: i32, Cout: i32): i32 {
  return 16 * ((Cout + 7) >> 3) * (Cin + 1) * 32;
}

/** Floats of a thread's scratch for the forward pass (V and M of one block). */
export function winogradForwardScratchFloats(Cin: i32, Cout: i32): i32 {
  return 16 * (pointFloats(TB * pad8(Cin)) + pointFloats(TB * pad8(Cout)));
}

/** Floats of a thread's scratch for the weight gradient of nf filters (V, dM of one block, and D). */
export function winogradWeightScratchFloats(C: i32, nf: i32): i32 {
  return 16 * (pointFloats(TB * pad8(C)) + pointFloats(TB * pad8(nf)) + pointFloats(pad8(nf) * pad8(C)));
}

/**
 * Transformed kernels U = G g G^T for the output-channel groups [g0, g1) (8 channels each): at
 * point xi, group g: 8 zeros (the initial values of the product), then Cin rows of 8 lanes.
 * flip = 0: the forward kernels, g[o, i] = Wt[o, ky, kx, i] (Cout = F, Cin = C);
 * flip = 1: the input gradient's, g[o, i] = Wt[i, 2-ky, 2-kx, o] (Cout = C, Cin = F).
 * Wt is (F, 3, 3, C).
 */
export function winogradPack(Wt: usize, F: i32, C: i32, flip: bool, Up: usize, g0: i32, g1: i32): void {
  const Cin = flip ? F : C;
  const Cout = flip ? C : F;
  const groupBytes = <usize>(Cin + 1) << 5;
  const pointBytes = <usize>((Cout + 7) >> 3) * groupBytes;
  for (let g = g0; g < g1; g++) {
    for (let xi = 0; xi < 16; xi++) zeroFloats(Up + <usize>xi * pointBytes + <usize>g * groupBytes, 8);
    for (let j = 0; j < 8; j++) {
      const o = 8 * g + j;
      for (let i = 0; i < Cin; i++) {
        // the 3x3 kernel g[ky][kx] of (o, i)
        const f = flip ? i : o;
        const c = flip ? o : i;
        const valid = o < Cout;
        const base = valid ? at(Wt, f * 9 * C + c) : 0;
        const tap = <usize>C << 2;
        let g00: f32 = 0, g01: f32 = 0, g02: f32 = 0, g10: f32 = 0, g11: f32 = 0, g12: f32 = 0, g20: f32 = 0, g21: f32 = 0, g22: f32 = 0;
        if (valid) {
          // tap ky * 3 + kx, turned by 180 degrees (8 - tap) for the input gradient
          g00 = load<f32>(base + <usize>(flip ? 8 : 0) * tap);
          g01 = load<f32>(base + <usize>(flip ? 7 : 1) * tap);
          g02 = load<f32>(base + <usize>(flip ? 6 : 2) * tap);
          g10 = load<f32>(base + <usize>(flip ? 5 : 3) * tap);
          g11 = load<f32>(base + 4 * tap);
          g12 = load<f32>(base + <usize>(flip ? 3 : 5) * tap);
          g20 = load<f32>(base + <usize>(flip ? 2 : 6) * tap);
          g21 = load<f32>(base + <usize>(flip ? 1 : 7) * tap);
          g22 = load<f32>(base + <usize>(flip ? 0 : 8) * tap);
        }
        // rows: G g (4x3)
        const a0 = g00, a1 = g01, a2 = g02;
        const b0: f32 = 0.5 * (g00 + g10 + g20), b1: f32 = 0.5 * (g01 + g11 + g21), b2: f32 = 0.5 * (g02 + g12 + g22);
        const c0: f32 = 0.5 * (g00 - g10 + g20), c1: f32 = 0.5 * (g01 - g11 + g21), c2: f32 = 0.5 * (g02 - g12 + g22);
        const d0 = g20, d1 = g21, d2 = g22;
        // columns: (G g) G^T (4x4), point xi = 4 * row + column
        const row = <usize>(i + 1) << 5;
        const lane = <usize>j << 2;
        const dst = Up + <usize>g * groupBytes + row + lane;
        storeRow(dst, pointBytes, 0, a0, a1, a2);
        storeRow(dst, pointBytes, 4, b0, b1, b2);
        storeRow(dst, pointBytes, 8, c0, c1, c2);
        storeRow(dst, pointBytes, 12, d0, d1, d2);
      }
    }
  }
}

/** Points xi0 .. xi0+3 of one transformed row (r0 r1 r2) G^T. */
function storeRow(dst: usize, pointBytes: usize, xi0: i32, r0: f32, r1: f32, r2: f32): void {
  store<f32>(dst + <usize>xi0 * pointBytes, r0);
  store<f32>(dst + <usize>(xi0 + 1) * pointBytes, <f32>0.5 * (r0 + r1 + r2));
  store<f32>(dst + <usize>(xi0 + 2) * pointBytes, <f32>0.5 * (r0 - r1 + r2));
  store<f32>(dst + <usize>(xi0 + 3) * pointBytes, r2);
}

/**
 * V = B^T d B for the tiles [t0, t1) of a block, all channels: V[xi][t - t0, c] at
 * Vb + ((xi * TB + t - t0) * Cp + c) * 4, Cp = pad8(C), zeros for c >= C.
 * Input x (B, H, W, C); tiles of 2x2 outputs (TH x TW per image) starting at rows 2 ty - pt,
 * columns 2 tx - pl of x.
 */
function inputTransform(x: usize, H: i32, W: i32, C: i32, TH: i32, TW: i32, pt: i32, pl: i32, t0: i32, t1: i32, Vb: usize): void {
  const Cp = pad8(C);
  const pointBytes = <usize>pointFloats(TB * Cp) << 2;
  const zero = f32x4.splat(0);
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const iy0 = 2 * ty - pt;
    const ix0 = 2 * tx - pl;
    const interior = iy0 >= 0 && iy0 + 4 <= H && ix0 >= 0 && ix0 + 4 <= W;
    const src = at(x, ((n * H + iy0) * W + ix0) * C);
    const rowBytes = <usize>(W * C) << 2;
    const colBytes = <usize>C << 2;
    const dst0 = Vb + (<usize>((t - t0) * Cp) << 2);
    for (let c = 0; c < Cp; c += 4) {
      const cn = min(4, C - c);
      let d00 = zero, d01 = zero, d02 = zero, d03 = zero, d10 = zero, d11 = zero, d12 = zero, d13 = zero;
      let d20 = zero, d21 = zero, d22 = zero, d23 = zero, d30 = zero, d31 = zero, d32 = zero, d33 = zero;
      const p = src + (<usize>c << 2);
      if (interior && cn == 4) {
        d00 = v128.load(p); d01 = v128.load(p + colBytes); d02 = v128.load(p + 2 * colBytes); d03 = v128.load(p + 3 * colBytes);
        const p1 = p + rowBytes;
        d10 = v128.load(p1); d11 = v128.load(p1 + colBytes); d12 = v128.load(p1 + 2 * colBytes); d13 = v128.load(p1 + 3 * colBytes);
        const p2 = p1 + rowBytes;
        d20 = v128.load(p2); d21 = v128.load(p2 + colBytes); d22 = v128.load(p2 + 2 * colBytes); d23 = v128.load(p2 + 3 * colBytes);
        const p3 = p2 + rowBytes;
        d30 = v128.load(p3); d31 = v128.load(p3 + colBytes); d32 = v128.load(p3 + 2 * colBytes); d33 = v128.load(p3 + 3 * colBytes);
      } else if (cn > 0) {
        d00 = edge(p, 0, 0, iy0, ix0, H, W, rowBytes, colBytes, cn); d01 = edge(p, 0, 1, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d02 = edge(p, 0, 2, iy0, ix0, H, W, rowBytes, colBytes, cn); d03 = edge(p, 0, 3, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d10 = edge(p, 1, 0, iy0, ix0, H, W, rowBytes, colBytes, cn); d11 = edge(p, 1, 1, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d12 = edge(p, 1, 2, iy0, ix0, H, W, rowBytes, colBytes, cn); d13 = edge(p, 1, 3, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d20 = edge(p, 2, 0, iy0, ix0, H, W, rowBytes, colBytes, cn); d21 = edge(p, 2, 1, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d22 = edge(p, 2, 2, iy0, ix0, H, W, rowBytes, colBytes, cn); d23 = edge(p, 2, 3, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d30 = edge(p, 3, 0, iy0, ix0, H, W, rowBytes, colBytes, cn); d31 = edge(p, 3, 1, iy0, ix0, H, W, rowBytes, colBytes, cn);
        d32 = edge(p, 3, 2, iy0, ix0, H, W, rowBytes, colBytes, cn); d33 = edge(p, 3, 3, iy0, ix0, H, W, rowBytes, colBytes, cn);
      }
      // B^T d: rows
      const t00 = f32x4.sub(d00, d20), t01 = f32x4.sub(d01, d21), t02 = f32x4.sub(d02, d22), t03 = f32x4.sub(d03, d23);
      const t10 = f32x4.add(d10, d20), t11 = f32x4.add(d11, d21), t12 = f32x4.add(d12, d22), t13 = f32x4.add(d13, d23);
      const t20 = f32x4.sub(d20, d10), t21 = f32x4.sub(d21, d11), t22 = f32x4.sub(d22, d12), t23 = f32x4.sub(d23, d13);
      const t30 = f32x4.sub(d10, d30), t31 = f32x4.sub(d11, d31), t32 = f32x4.sub(d12, d32), t33 = f32x4.sub(d13, d33);
      // (B^T d) B: columns; point xi = 4 * row + column
      const dst = dst0 + (<usize>c << 2);
      storeTransformedRow(dst, pointBytes, 0, t00, t01, t02, t03);
      storeTransformedRow(dst, pointBytes, 4, t10, t11, t12, t13);
      storeTransformedRow(dst, pointBytes, 8, t20, t21, t22, t23);
      storeTransformedRow(dst, pointBytes, 12, t30, t31, t32, t33);
    }
  }
}

/** The input vector at row r, column q of a tile's 4x4 block, zeros outside the image. */
function edge(p: usize, r: i32, q: i32, iy0: i32, ix0: i32, H: i32, W: i32, rowBytes: usize, colBytes: usize, cn: i32): v128 {
  const iy = iy0 + r;
  const ix = ix0 + q;
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return f32x4.splat(0);
  return loadLanes4(p + <usize>r * rowBytes + <usize>q * colBytes, cn);
}

/** Points xi0 .. xi0+3 of (t0 t1 t2 t3) B. */
// @ts-ignore: decorator
@inline function storeTransformedRow(dst: usize, pointBytes: usize, xi0: i32, t0: v128, t1: v128, t2: v128, t3: v128): void {
  v128.store(dst + <usize>xi0 * pointBytes, f32x4.sub(t0, t2));
  v128.store(dst + <usize>(xi0 + 1) * pointBytes, f32x4.add(t1, t2));
  v128.store(dst + <usize>(xi0 + 2) * pointBytes, f32x4.sub(t2, t1));
  v128.store(dst + <usize>(xi0 + 3) * pointBytes, f32x4.sub(t1, t3));
}

/**
 * The output tiles [t0, t1) of a 3x3 stride-1 convolution: y (B, Ho, Wo, Cout) from x (B, H, W,
 * Cin), top and left padding pt, pl, transformed kernels Up (winogradPack), bias (Cout floats or 0).
 * scratch: winogradForwardScratchFloats(Cin, Cout) floats of this thread's memory.
 */
export function winogradForward(
  x: usize, H: i32, W: i32, Cin: i32, y: usize, Ho: i32, Wo: i32, Cout: i32,
  pt: i32, pl: i32, Up: usize, bias: usize, t0: i32, t1: i32, scratch: usize,
): void {
  const TH = (Ho + 1) >> 1;
  const TW = (Wo + 1) >> 1;
  const Cp = pad8(Cin);
  const Fp = pad8(Cout);
  const groups = (Cout + 7) >> 3;
  const groupBytes = <usize>(Cin + 1) << 5;
  const vPoint = <usize>pointFloats(TB * Cp) << 2;
  const mPoint = <usize>pointFloats(TB * Fp) << 2;
  const Vb = scratch;
  const Mb = scratch + 16 * vPoint;
  const uPoint = <usize>groups * groupBytes;
  for (let b0 = t0; b0 < t1; b0 += TB) {
    const b1 = min(b0 + TB, t1);
    const nb = b1 - b0;
    inputTransform(x, H, W, Cin, TH, TW, pt, pl, b0, b1, Vb);
    for (let xi = 0; xi < 16; xi++) {
      const V = Vb + <usize>xi * vPoint;
      const M = Mb + <usize>xi * mPoint;
      const U = Up + <usize>xi * uPoint;
      for (let g = 0; g < groups; g++) {
        const pack = U + <usize>g * groupBytes;
        for (let i = 0; i < nb; i += 4) {
          tile4x8(V + (<usize>(i * Cp) << 2), <usize>Cp << 2, min(4, nb - i), Cin, pack, pack + 32, M + (<usize>(i * Fp + 8 * g) << 2), <usize>Fp << 2, 8);
        }
      }
    }
    outputTransform(Mb, Fp, Cout, y, Ho, Wo, TH, TW, bias, b0, b1);
  }
}

/** Y = A^T M A (+ bias) for the tiles [t0, t1): the 2x2 outputs inside the image. */
function outputTransform(Mb: usize, Fp: i32, F: i32, y: usize, Ho: i32, Wo: i32, TH: i32, TW: i32, bias: usize, t0: i32, t1: i32): void {
  const point = <usize>pointFloats(TB * Fp) << 2;
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const oy = 2 * ty;
    const ox = 2 * tx;
    const down = oy + 1 < Ho;
    const right = ox + 1 < Wo;
    const out = at(y, ((n * Ho + oy) * Wo + ox) * F);
    const rowBytes = <usize>(Wo * F) << 2;
    const m = Mb + (<usize>((t - t0) * Fp) << 2);
    for (let f = 0; f < F; f += 4) {
      const fn = min(4, F - f);
      const p = m + (<usize>f << 2);
      // A^T M: rows s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (m_r: row r of the 4x4)
      const m00 = v128.load(p), m01 = v128.load(p + point), m02 = v128.load(p + 2 * point), m03 = v128.load(p + 3 * point);
      const m10 = v128.load(p + 4 * point), m11 = v128.load(p + 5 * point), m12 = v128.load(p + 6 * point), m13 = v128.load(p + 7 * point);
      const m20 = v128.load(p + 8 * point), m21 = v128.load(p + 9 * point), m22 = v128.load(p + 10 * point), m23 = v128.load(p + 11 * point);
      const m30 = v128.load(p + 12 * point), m31 = v128.load(p + 13 * point), m32 = v128.load(p + 14 * point), m33 = v128.load(p + 15 * point);
      const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
      const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
      const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
      const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
      const b = bias != 0 ? loadLanes4(at(bias, f), fn) : f32x4.splat(0);
      const o = out + (<usize>f << 2);
      storeLanes4(o, f32x4.add(b, f32x4.add(f32x4.add(s00, s01), s02)), fn);
      if (right) storeLanes4(o + (<usize>F << 2), f32x4.add(b, f32x4.sub(f32x4.sub(s01, s02), s03)), fn);
      if (down) {
        storeLanes4(o + rowBytes, f32x4.add(b, f32x4.add(f32x4.add(s10, s11), s12)), fn);
        if (right) storeLanes4(o + rowBytes + (<usize>F << 2), f32x4.add(b, f32x4.sub(f32x4.sub(s11, s12), s13)), fn);
      }
    }
  }
}

/**
 * dW (F, 3, 3, C) for the filters [f0, f1) (f0 a multiple of 4) of a 3x3 stride-1 convolution:
 * sums over all the tiles of the batch (nTiles = B * TH * TW) in blocks of TB.
 * scratch: winogradWeightScratchFloats(C, f1 - f0) floats of this thread's memory.
 */
export function winogradWeightGradient(
  x: usize, H: i32, W: i32, C: i32, dy: usize, Ho: i32, Wo: i32, F: i32,
  pt: i32, pl: i32, B: i32, dW: usize, f0: i32, f1: i32, scratch: usize,
): void {
  if (f0 >= f1) return;
  const TH = (Ho + 1) >> 1;
  const TW = (Wo + 1) >> 1;
  const nTiles = B * TH * TW;
  const nf = f1 - f0;
  const Cp = pad8(C);
  const Np = pad8(nf);
  const vPoint = <usize>pointFloats(TB * Cp) << 2;
  const ePoint = <usize>pointFloats(TB * Np) << 2;
  const dPoint = <usize>pointFloats(Np * Cp) << 2;
  const Vb = scratch;
  const Eb = Vb + 16 * vPoint;
  const D = Eb + 16 * ePoint;
  for (let b0 = 0; b0 < nTiles; b0 += TB) {
    const b1 = min(b0 + TB, nTiles);
    const first = b0 == 0;
    inputTransform(x, H, W, C, TH, TW, pt, pl, b0, b1, Vb);
    gradientTransform(dy, Ho, Wo, F, TH, TW, f0, f1, Np, b0, b1, Eb);
    for (let xi = 0; xi < 16; xi++) {
      const V = Vb + <usize>xi * vPoint;
      const E = Eb + <usize>xi * ePoint;
      const Dx = D + <usize>xi * dPoint;
      for (let c = 0; c < Cp; c += 8) {
        for (let f = 0; f < nf; f += 4) {
          sumTile4x8(E + (<usize>f << 2), <usize>Np << 2, min(4, nf - f), V + (<usize>c << 2), <usize>Cp << 2, b1 - b0, Dx + (<usize>(f * Cp + c) << 2), <usize>Cp << 2, 8, first);
        }
      }
    }
  }
  // dW[f, :, :, c] = G^T D G, 4 channels at a time
  const tap = <usize>C << 2;
  for (let f = 0; f < nf; f++) {
    const out = at(dW, (f0 + f) * 9 * C);
    for (let c = 0; c < C; c += 4) {
      const cn = min(4, C - c);
      const p = D + (<usize>(f * Cp + c) << 2);
      // G^T D: rows h0 = D0 + (D1 + D2)/2, h1 = (D1 - D2)/2, h2 = (D1 + D2)/2 + D3
      const half = f32x4.splat(0.5);
      let h00: v128, h01: v128, h02: v128, h03: v128, h10: v128, h11: v128, h12: v128, h13: v128, h20: v128, h21: v128, h22: v128, h23: v128;
      {
        const a0 = v128.load(p), a1 = v128.load(p + dPoint), a2 = v128.load(p + 2 * dPoint), a3 = v128.load(p + 3 * dPoint);
        const b0 = v128.load(p + 4 * dPoint), b1 = v128.load(p + 5 * dPoint), b2 = v128.load(p + 6 * dPoint), b3 = v128.load(p + 7 * dPoint);
        const c0 = v128.load(p + 8 * dPoint), c1 = v128.load(p + 9 * dPoint), c2 = v128.load(p + 10 * dPoint), c3 = v128.load(p + 11 * dPoint);
        const d0 = v128.load(p + 12 * dPoint), d1 = v128.load(p + 13 * dPoint), d2 = v128.load(p + 14 * dPoint), d3 = v128.load(p + 15 * dPoint);
        const s0 = f32x4.mul(half, f32x4.add(b0, c0)), s1 = f32x4.mul(half, f32x4.add(b1, c1));
        const s2 = f32x4.mul(half, f32x4.add(b2, c2)), s3 = f32x4.mul(half, f32x4.add(b3, c3));
        h00 = f32x4.add(a0, s0); h01 = f32x4.add(a1, s1); h02 = f32x4.add(a2, s2); h03 = f32x4.add(a3, s3);
        h10 = f32x4.mul(half, f32x4.sub(b0, c0)); h11 = f32x4.mul(half, f32x4.sub(b1, c1));
        h12 = f32x4.mul(half, f32x4.sub(b2, c2)); h13 = f32x4.mul(half, f32x4.sub(b3, c3));
        h20 = f32x4.add(s0, d0); h21 = f32x4.add(s1, d1); h22 = f32x4.add(s2, d2); h23 = f32x4.add(s3, d3);
      }
      const o = out + (<usize>c << 2);
      storeKernelRow(o, tap, 0, h00, h01, h02, h03, cn);
      storeKernelRow(o, tap, 3, h10, h11, h12, h13, cn);
      storeKernelRow(o, tap, 6, h20, h21, h22, h23, cn);
    }
  }
}

/** Taps tap0 .. tap0+2 of the kernel from one row (h0 h1 h2 h3) of G^T D: (h G). */
function storeKernelRow(o: usize, tap: usize, tap0: i32, h0: v128, h1: v128, h2: v128, h3: v128, cn: i32): void {
  const half = f32x4.splat(0.5);
  const s = f32x4.mul(half, f32x4.add(h1, h2));
  storeLanes4(o + <usize>tap0 * tap, f32x4.add(h0, s), cn);
  storeLanes4(o + <usize>(tap0 + 1) * tap, f32x4.mul(half, f32x4.sub(h1, h2)), cn);
  storeLanes4(o + <usize>(tap0 + 2) * tap, f32x4.add(s, h3), cn);
}

/**
 * dM = A dY A^T for the tiles [t0, t1) and the filters [f0, f1): at Eb + ((xi * TB + t - t0) *
 * Np + f - f0) * 4, zeros past f1 (and for the outputs of a tile outside the image).
 * A = [1 0; 1 1; 1 -1; 0 -1].
 */
function gradientTransform(dy: usize, Ho: i32, Wo: i32, F: i32, TH: i32, TW: i32, f0: i32, f1: i32, Np: i32, t0: i32, t1: i32, Eb: usize): void {
  const point = <usize>pointFloats(TB * Np) << 2;
  const zero = f32x4.splat(0);
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const oy = 2 * ty;
    const ox = 2 * tx;
    const down = oy + 1 < Ho;
    const right = ox + 1 < Wo;
    const src = at(dy, ((n * Ho + oy) * Wo + ox) * F);
    const rowBytes = <usize>(Wo * F) << 2;
    const dst0 = Eb + (<usize>((t - t0) * Np) << 2);
    for (let f = f0; f < f0 + Np; f += 4) {
      const fn = min(4, f1 - f);
      let y00 = zero, y01 = zero, y10 = zero, y11 = zero;
      if (fn > 0) {
        const p = src + (<usize>f << 2);
        y00 = loadLanes4(p, fn);
        if (right) y01 = loadLanes4(p + (<usize>F << 2), fn);
        if (down) {
          y10 = loadLanes4(p + rowBytes, fn);
          if (right) y11 = loadLanes4(p + rowBytes + (<usize>F << 2), fn);
        }
      }
      // A dY: rows e0 = y0, e1 = y0 + y1, e2 = y0 - y1, e3 = -y1 (y_a: row a of the 2x2)
      const e00 = y00, e01 = y01;
      const e10 = f32x4.add(y00, y10), e11 = f32x4.add(y01, y11);
      const e20 = f32x4.sub(y00, y10), e21 = f32x4.sub(y01, y11);
      const e30 = f32x4.neg(y10), e31 = f32x4.neg(y11);
      const dst = dst0 + (<usize>(f - f0) << 2);
      storeGradientRow(dst, point, 0, e00, e01);
      storeGradientRow(dst, point, 4, e10, e11);
      storeGradientRow(dst, point, 8, e20, e21);
      storeGradientRow(dst, point, 12, e30, e31);
    }
  }
}

/** Points xi0 .. xi0+3 of (e0 e1) A^T. */
// @ts-ignore: decorator
@inline function storeGradientRow(dst: usize, point: usize, xi0: i32, e0: v128, e1: v128): void {
  v128.store(dst + <usize>xi0 * point, e0);
  v128.store(dst + <usize>(xi0 + 1) * point, f32x4.add(e0, e1));
  v128.store(dst + <usize>(xi0 + 2) * point, f32x4.sub(e0, e1));
  v128.store(dst + <usize>(xi0 + 3) * point, f32x4.neg(e1));
}
