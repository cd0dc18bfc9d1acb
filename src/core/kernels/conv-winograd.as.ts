// 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray, 2015): each
// 4x4 block of outputs ("tile") of one channel pair costs 36 multiplications instead of 144.
//
//   forward  Y = A^T [ U (.) V ] A        per tile and filter, summed over channels in the product
//            U = G g G^T (6x6, from the 3x3 kernel g of one filter and channel)
//            V = B^T d B (6x6, from the 6x6 input block d of the tile, one channel)
//   with     B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//            A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//            G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
// so that for each of the 36 points xi of the transform, over the tiles t of a block:
//            M[xi][t, f] = sum_c V[xi][t, c] * U[xi][c, f]           (a matrix product, tile4x8)
//   input gradient: the same forward pass over dy with the kernel turned by 180 degrees and its
//            channels swapped (Wflip[c, ky, kx, f] = W[f, 2-ky, 2-kx, c]), padding 2 - pad.
//   weight gradient: with dM = A dY A^T (the 6x6 gradient of M from the 4x4 gradient of a tile),
//            D[xi][f, c] = sum_t dM[xi][t, f] * V[xi][t, c]            (sumTile4x8)
//            dW[f, :, :, c] = G^T D[.][f, c] G
// The products do 4x fewer multiply-adds than a direct convolution; the price is a larger rounding
// error (the transforms scale values by up to 8 and 1/24: about 5x that of the direct sums here).
// The 2-D transforms are 1-D transforms of the columns, then of the rows, through a small buffer.
// Tiles cover the output in steps of 4 (the last row or column of tiles may stick out: those
// outputs are not stored, and their gradient is zero). Tile t = (n * TH + ty) * TW + tx.
//
// Buffers (the sizes are computed in src/core/layers/conv.ts, which mirrors tileFloats and TMP):
//   block buffers, tile-major: tile i of a block at i * tileFloats(n) floats, point xi at xi * n
//   within the tile (n = channels rounded up to 8), so that the transforms read and write one
//   tile's points close together;
//   transformed kernels: point xi, group g of 8 output channels: 8 zeros (the initial values of
//   the product), then Cin rows of 8 lanes.
//
// Determinism: a tile's outputs are computed whole by the thread that owns the tile (forward,
// input gradient); the weight gradient of a filter is summed by one thread over all tiles in
// blocks of TB, block sums added in order. Transforms are fixed sequences of operations; the
// product is one chain per value. Nothing depends on the number of threads.
import { madd, at } from './simd.as';
import { loadLanes4, storeLanes4, tile4x8, sumTile4x8, zeroFloats } from './conv.as';

/** Tiles per block (a multiple of 4: the product's row tile). */
const TB: i32 = 32;
/** Points of the transform: 6 x 6. */
const POINTS: i32 = 36;
/** Floats of the 1-D transforms' buffer: two 6 x 6 tiles of 4-lane vectors. */
const TMP: i32 = 2 * POINTS * 4;

export function winogradBlockTiles(): i32 {
  return TB;
}

/** Floats of one tile in a block buffer: 36 points of n channels, plus a cache line (so that rows of a product tile do not share L1 sets). */
// @ts-ignore: decorator
@inline function tileFloats(n: i32): i32 {
  return POINTS * n + 16;
}

/** Channels rounded up to a multiple of 8: the stride of the transformed rows. */
// @ts-ignore: decorator
@inline function pad8(n: i32): i32 {
  return (n + 7) & ~7;
}

// ---------------------------------------------------------------------------------------------
// 1-D transforms on vectors: read at src + i * s, write at dst + i * d (bytes).

/** B^T v: 6 values in, 6 out. */
// @ts-ignore: decorator
@inline function inputColumn(src: usize, s: usize, dst: usize, d: usize): void {
  const d0 = v128.load(src), d1 = v128.load(src + s), d2 = v128.load(src + 2 * s);
  const d3 = v128.load(src + 3 * s), d4 = v128.load(src + 4 * s), d5 = v128.load(src + 5 * s);
  const four = f32x4.splat(4), mfive = f32x4.splat(-5), two = f32x4.splat(2);
  v128.store(dst, madd(four, d0, madd(mfive, d2, d4)));
  v128.store(dst + d, madd(f32x4.splat(-4), f32x4.add(d1, d2), f32x4.add(d3, d4)));
  v128.store(dst + 2 * d, madd(four, f32x4.sub(d1, d2), f32x4.sub(d4, d3)));
  const d31 = f32x4.sub(d3, d1), d42 = f32x4.sub(d4, d2);
  v128.store(dst + 3 * d, madd(two, d31, d42));
  v128.store(dst + 4 * d, madd(f32x4.splat(-2), d31, d42));
  v128.store(dst + 5 * d, madd(four, d1, madd(mfive, d3, d5)));
}

/** A^T v (+ bias): 6 values in, 4 out. */
// @ts-ignore: decorator
@inline function outputColumn(src: usize, s: usize, dst: usize, d: usize, bias: v128): void {
  const m0 = v128.load(src), m1 = v128.load(src + s), m2 = v128.load(src + 2 * s);
  const m3 = v128.load(src + 3 * s), m4 = v128.load(src + 4 * s), m5 = v128.load(src + 5 * s);
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), e = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(f32x4.add(m0, a), c), bias));
  v128.store(dst + d, f32x4.add(madd(f32x4.splat(2), e, b), bias));
  v128.store(dst + 2 * d, f32x4.add(madd(f32x4.splat(4), c, a), bias));
  v128.store(dst + 3 * d, f32x4.add(f32x4.add(madd(f32x4.splat(8), e, b), m5), bias));
}

/** A v: 4 values in, 6 out (the gradient of M from the gradient of Y). */
// @ts-ignore: decorator
@inline function gradientColumn(src: usize, s: usize, dst: usize, d: usize): void {
  const y0 = v128.load(src), y1 = v128.load(src + s), y2 = v128.load(src + 2 * s), y3 = v128.load(src + 3 * s);
  const a = f32x4.add(y0, y2), b = f32x4.add(y1, y3);
  const c = madd(f32x4.splat(4), y2, y0), e = madd(f32x4.splat(8), y3, f32x4.add(y1, y1));
  v128.store(dst, y0);
  v128.store(dst + d, f32x4.add(a, b));
  v128.store(dst + 2 * d, f32x4.sub(a, b));
  v128.store(dst + 3 * d, f32x4.add(c, e));
  v128.store(dst + 4 * d, f32x4.sub(c, e));
  v128.store(dst + 5 * d, y3);
}

/** G^T v: 6 values in, 3 out (the gradient of the kernel from the gradient of U). */
// @ts-ignore: decorator
@inline function kernelGradientColumn(src: usize, s: usize, dst: usize, d: usize): void {
  const d0 = v128.load(src), d1 = v128.load(src + s), d2 = v128.load(src + 2 * s);
  const d3 = v128.load(src + 3 * s), d4 = v128.load(src + 4 * s), d5 = v128.load(src + 5 * s);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const s12 = f32x4.add(d1, d2), s34 = f32x4.add(d3, d4);
  // h0 = d0/4 - (d1 + d2)/6 + (d3 + d4)/24; h1 = (d2 - d1)/6 + (d3 - d4)/12; h2 = (d3 + d4 - d1 - d2)/6 + d5
  v128.store(dst, madd(f32x4.splat(<f32>(1.0 / 24.0)), s34, madd(f32x4.splat(-<f32>(1.0 / 6.0)), s12, f32x4.mul(f32x4.splat(0.25), d0))));
  v128.store(dst + d, madd(f32x4.splat(<f32>(1.0 / 12.0)), f32x4.sub(d3, d4), f32x4.mul(sixth, f32x4.sub(d2, d1))));
  v128.store(dst + 2 * d, madd(sixth, f32x4.sub(s34, s12), d5));
}

// ---------------------------------------------------------------------------------------------
// Kernel transform

/** The 6 values of G (g0 g1 g2)^T for one column or row of a kernel, in double, as float32 at dst + i * step. */
// @ts-ignore: decorator
@inline function storeG(dst: usize, step: usize, g0: f64, g1: f64, g2: f64): void {
  const sixth = 1.0 / 6.0;
  const twentyfourth = 1.0 / 24.0;
  const a = g0 + g2;
  const b = g0 + 4 * g2;
  store<f32>(dst, <f32>(0.25 * g0));
  store<f32>(dst + step, <f32>(-sixth * (a + g1)));
  store<f32>(dst + 2 * step, <f32>(-sixth * (a - g1)));
  store<f32>(dst + 3 * step, <f32>(twentyfourth * (b + 2 * g1)));
  store<f32>(dst + 4 * step, <f32>(twentyfourth * (b - 2 * g1)));
  store<f32>(dst + 5 * step, <f32>g2);
}

/** Tap t (ky * 3 + kx) of a kernel whose taps are `tap` bytes apart, turned by 180 degrees for flip. */
// @ts-ignore: decorator
@inline function tapValue(base: usize, tap: usize, flip: bool, t: i32): f64 {
  return <f64>load<f32>(base + <usize>(flip ? 8 - t : t) * tap);
}

/**
 * Transformed kernels U = G g G^T (in double, rounded once to float32) for the output-channel
 * groups [g0, g1) (8 channels each).
 * flip = 0: the forward kernels, g[o, i] = Wt[o, ky, kx, i] (Cout = F, Cin = C);
 * flip = 1: the input gradient's, g[o, i] = Wt[i, 2-ky, 2-kx, o] (Cout = C, Cin = F).
 * Wt is (F, 3, 3, C).
 */
export function winogradPack(Wt: usize, F: i32, C: i32, flip: bool, Up: usize, g0: i32, g1: i32): void {
  const Cin = flip ? F : C;
  const Cout = flip ? C : F;
  const groupBytes = <usize>(Cin + 1) << 5;
  const pointBytes = <usize>((Cout + 7) >> 3) * groupBytes;
  const tap = <usize>C << 2;
  for (let g = g0; g < g1; g++) {
    for (let xi = 0; xi < POINTS; xi++) zeroFloats(Up + <usize>xi * pointBytes + <usize>g * groupBytes, 8);
    // row by row of the pack, lane by lane (each point's row of 8 lanes is written at once)
    for (let i = 0; i < Cin; i++) {
      const row = Up + <usize>g * groupBytes + (<usize>(i + 1) << 5);
      for (let j = 0; j < 8; j++) {
        const o = 8 * g + j;
        const dst = row + (<usize>j << 2);
        if (o >= Cout) {
          for (let xi = 0; xi < POINTS; xi++) store<f32>(dst + <usize>xi * pointBytes, 0);
          continue;
        }
        // the 3x3 kernel of (o, i): tap ky * 3 + kx, turned (8 - tap) for flip
        const base = at(Wt, (flip ? i : o) * 9 * C + (flip ? o : i));
        const g00 = tapValue(base, tap, flip, 0), g01 = tapValue(base, tap, flip, 1), g02 = tapValue(base, tap, flip, 2);
        const g10 = tapValue(base, tap, flip, 3), g11 = tapValue(base, tap, flip, 4), g12 = tapValue(base, tap, flip, 5);
        const g20 = tapValue(base, tap, flip, 6), g21 = tapValue(base, tap, flip, 7), g22 = tapValue(base, tap, flip, 8);
        // G g (6 x 3, in double), then each of its rows times G^T: point xi = 6 r + q
        const sixth = 1.0 / 6.0;
        const twentyfourth = 1.0 / 24.0;
        const a0 = g00 + g20, a1 = g01 + g21, a2 = g02 + g22;
        const b0 = g00 + 4 * g20, b1 = g01 + 4 * g21, b2 = g02 + 4 * g22;
        const row6 = 6 * pointBytes;
        storeG(dst, pointBytes, 0.25 * g00, 0.25 * g01, 0.25 * g02);
        storeG(dst + row6, pointBytes, -sixth * (a0 + g10), -sixth * (a1 + g11), -sixth * (a2 + g12));
        storeG(dst + 2 * row6, pointBytes, -sixth * (a0 - g10), -sixth * (a1 - g11), -sixth * (a2 - g12));
        storeG(dst + 3 * row6, pointBytes, twentyfourth * (b0 + 2 * g10), twentyfourth * (b1 + 2 * g11), twentyfourth * (b2 + 2 * g12));
        storeG(dst + 4 * row6, pointBytes, twentyfourth * (b0 - 2 * g10), twentyfourth * (b1 - 2 * g11), twentyfourth * (b2 - 2 * g12));
        storeG(dst + 5 * row6, pointBytes, g20, g21, g22);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tile transforms

/**
 * V = B^T d B for the tiles [t0, t1) of a block, all channels: tile t - t0, point xi, channels
 * [c, c + 4) at Vb + ((t - t0) * tileFloats(Cp) + xi * Cp + c) * 4, Cp = pad8(C), zeros for c >= C.
 * Input x (B, H, W, C); tile (ty, tx) reads the 6x6 block at rows 4 ty - pt, columns 4 tx - pl
 * (zeros outside the image). tmp: TMP floats.
 */
function inputTransform(x: usize, H: i32, W: i32, C: i32, TH: i32, TW: i32, pt: i32, pl: i32, t0: i32, t1: i32, Vb: usize, tmp: usize): void {
  const Cp = pad8(C);
  const pointBytes = <usize>Cp << 2;
  const tileBytes = <usize>tileFloats(Cp) << 2;
  const rowBytes = <usize>(W * C) << 2;
  const colBytes = <usize>C << 2;
  const gathered = tmp;
  const half = tmp + (<usize>POINTS << 4);
  const vs: usize = 6 << 4; // one row of 6 vectors in the tmp tiles
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const iy0 = 4 * ty - pt;
    const ix0 = 4 * tx - pl;
    const interior = iy0 >= 0 && iy0 + 6 <= H && ix0 >= 0 && ix0 + 6 <= W;
    const src = at(x, ((n * H + iy0) * W + ix0) * C);
    const dst0 = Vb + <usize>(t - t0) * tileBytes;
    for (let c = 0; c < Cp; c += 4) {
      const cn = min(4, C - c);
      // the block d: straight from x inside the image, else gathered with zeros
      let d = src + (<usize>c << 2);
      let ds = rowBytes;
      let dq = colBytes;
      if (!(interior && cn == 4)) {
        for (let i = 0; i < 6; i++) {
          const iy = iy0 + i;
          for (let q = 0; q < 6; q++) {
            const ix = ix0 + q;
            const inside = cn > 0 && iy >= 0 && iy < H && ix >= 0 && ix < W;
            v128.store(gathered + <usize>(i * 6 + q) * 16, inside ? loadLanes4(d + <usize>i * rowBytes + <usize>q * colBytes, cn) : f32x4.splat(0));
          }
        }
        d = gathered;
        ds = vs;
        dq = 16;
      }
      // columns: half[r][q] = (B^T d)[r][q]; rows: V[6 r + q] = (half B)[r][q]
      for (let q = 0; q < 6; q++) inputColumn(d + <usize>q * dq, ds, half + <usize>q * 16, vs);
      const out = dst0 + (<usize>c << 2);
      for (let i = 0; i < 6; i++) inputColumn(half + <usize>i * vs, 16, out + <usize>(6 * i) * pointBytes, pointBytes);
    }
  }
}

/**
 * Y = A^T M A (+ bias) for the tiles [t0, t1): the 4x4 outputs inside the image, channels [0, F)
 * (M rows Fp floats apart). tmp: TMP floats.
 */
function outputTransform(Mb: usize, Fp: i32, F: i32, y: usize, Ho: i32, Wo: i32, TH: i32, TW: i32, bias: usize, t0: i32, t1: i32, tmp: usize): void {
  const point = <usize>Fp << 2;
  const tileBytes = <usize>tileFloats(Fp) << 2;
  const rowBytes = <usize>(Wo * F) << 2;
  const colBytes = <usize>F << 2;
  const half = tmp; // 4 x 6
  const done = tmp + (<usize>POINTS << 4); // 4 x 4
  const vs: usize = 6 << 4;
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const oy = 4 * ty;
    const ox = 4 * tx;
    const rows = min(4, Ho - oy);
    const cols = min(4, Wo - ox);
    const out = at(y, ((n * Ho + oy) * Wo + ox) * F);
    const src = Mb + <usize>(t - t0) * tileBytes;
    for (let f = 0; f < F; f += 4) {
      const fn = min(4, F - f);
      const p = src + (<usize>f << 2);
      // columns: half[i][q] = (A^T M)[i][q]; rows: Y[i][j] = (half A)[i][j] + bias, straight into y
      // for a whole tile, else through `done`
      const zero = f32x4.splat(0);
      for (let q = 0; q < 6; q++) outputColumn(p + <usize>q * point, 6 * point, half + <usize>q * 16, vs, zero);
      const b = bias != 0 ? loadLanes4(at(bias, f), fn) : zero;
      const o = out + (<usize>f << 2);
      if (rows == 4 && cols == 4 && fn == 4) {
        for (let i = 0; i < 4; i++) outputColumn(half + <usize>i * vs, 16, o + <usize>i * rowBytes, colBytes, b);
        continue;
      }
      for (let i = 0; i < 4; i++) outputColumn(half + <usize>i * vs, 16, done + <usize>(i * 4) * 16, 16, b);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) storeLanes4(o + <usize>i * rowBytes + <usize>j * colBytes, v128.load(done + <usize>(i * 4 + j) * 16), fn);
      }
    }
  }
}

/**
 * dM = A dY A^T for the tiles [t0, t1) and the filters [f0, f1): tile t - t0, point xi, filters
 * [f, f + 4) at Eb + ((t - t0) * tileFloats(Np) + xi * Np + f - f0) * 4, zeros past f1 (and for
 * the outputs of a tile outside the image). tmp: TMP floats.
 */
function gradientTransform(dy: usize, Ho: i32, Wo: i32, F: i32, TH: i32, TW: i32, f0: i32, f1: i32, Np: i32, t0: i32, t1: i32, Eb: usize, tmp: usize): void {
  const point = <usize>Np << 2;
  const tileBytes = <usize>tileFloats(Np) << 2;
  const rowBytes = <usize>(Wo * F) << 2;
  const colBytes = <usize>F << 2;
  const gathered = tmp; // 4 x 4
  const half = tmp + (<usize>POINTS << 4); // 6 x 4
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const oy = 4 * ty;
    const ox = 4 * tx;
    const src = at(dy, ((n * Ho + oy) * Wo + ox) * F);
    const dst0 = Eb + <usize>(t - t0) * tileBytes;
    const whole = oy + 4 <= Ho && ox + 4 <= Wo;
    for (let f = f0; f < f0 + Np; f += 4) {
      const fn = min(4, f1 - f);
      // the 4x4 block dY: straight from dy for a whole tile, else gathered with zeros
      let d = src + (<usize>f << 2);
      let ds = rowBytes;
      let dq = colBytes;
      if (!(whole && fn == 4)) {
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) {
            const inside = fn > 0 && oy + i < Ho && ox + j < Wo;
            const p = d + <usize>i * rowBytes + <usize>j * colBytes;
            v128.store(gathered + <usize>(i * 4 + j) * 16, inside ? loadLanes4(p, fn) : f32x4.splat(0));
          }
        }
        d = gathered;
        ds = 64;
        dq = 16;
      }
      // columns: half[r][j] = (A dY)[r][j]; rows: dM[6 r + q] = (half A^T)[r][q]
      for (let j = 0; j < 4; j++) gradientColumn(d + <usize>j * dq, ds, half + <usize>j * 16, 64);
      const out = dst0 + (<usize>(f - f0) << 2);
      for (let i = 0; i < 6; i++) gradientColumn(half + <usize>(i * 4) * 16, 16, out + <usize>(6 * i) * point, point);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Passes

/**
 * The output tiles [t0, t1) of a 3x3 stride-1 convolution: y (B, Ho, Wo, Cout) from x (B, H, W,
 * Cin), top and left padding pt, pl, transformed kernels Up (winogradPack), bias (Cout floats, or
 * 0). scratch: this thread's, TB * (tileFloats(pad8(Cin)) + tileFloats(pad8(Cout))) + TMP floats.
 * Vall: 0, or where to keep the transformed input of every tile (tile t at t * tileFloats(pad8(Cin))
 * floats) for the weight gradient (winogradWeightGradient), which reads it instead of transforming
 * x again on every thread.
 */
export function winogradForward(
  x: usize, H: i32, W: i32, Cin: i32, y: usize, Ho: i32, Wo: i32, Cout: i32,
  pt: i32, pl: i32, Up: usize, bias: usize, t0: i32, t1: i32, scratch: usize, Vall: usize,
): void {
  const TH = (Ho + 3) >> 2;
  const TW = (Wo + 3) >> 2;
  const Cp = pad8(Cin);
  const Fp = pad8(Cout);
  const groups = (Cout + 7) >> 3;
  const groupBytes = <usize>(Cin + 1) << 5;
  const vTile = <usize>tileFloats(Cp) << 2;
  const mTile = <usize>tileFloats(Fp) << 2;
  const uPoint = <usize>groups * groupBytes;
  const Mb = scratch + <usize>TB * vTile;
  const tmp = Mb + <usize>TB * mTile;
  for (let b0 = t0; b0 < t1; b0 += TB) {
    const b1 = min(b0 + TB, t1);
    const nb = b1 - b0;
    const Vb = Vall != 0 ? Vall + <usize>b0 * vTile : scratch;
    inputTransform(x, H, W, Cin, TH, TW, pt, pl, b0, b1, Vb, tmp);
    for (let xi = 0; xi < POINTS; xi++) {
      const V = Vb + (<usize>(xi * Cp) << 2);
      const M = Mb + (<usize>(xi * Fp) << 2);
      const U = Up + <usize>xi * uPoint;
      for (let g = 0; g < groups; g++) {
        const pack = U + <usize>g * groupBytes;
        for (let i = 0; i < nb; i += 4) {
          tile4x8(V + <usize>i * vTile, vTile, min(4, nb - i), Cin, pack, pack + 32, M + <usize>i * mTile + (<usize>g << 5), mTile, 8);
        }
      }
    }
    outputTransform(Mb, Fp, Cout, y, Ho, Wo, TH, TW, bias, b0, b1, tmp);
  }
}

/**
 * dW (F, 3, 3, C) for the filters [f0, f1) of a 3x3 stride-1 convolution: sums over all the tiles
 * of the batch (B * TH * TW) in blocks of TB, from Vall, the transformed input the forward pass
 * kept (winogradForward), and dy. scratch: this thread's,
 * TB * tileFloats(pad8(f1 - f0)) + 36 * (pad8(f1 - f0) * pad8(C) + 16) + TMP floats.
 */
export function winogradWeightGradient(
  Vall: usize, C: i32, dy: usize, Ho: i32, Wo: i32, F: i32, B: i32, dW: usize, f0: i32, f1: i32, scratch: usize,
): void {
  if (f0 >= f1) return;
  const TH = (Ho + 3) >> 2;
  const TW = (Wo + 3) >> 2;
  const nTiles = B * TH * TW;
  const nf = f1 - f0;
  const Cp = pad8(C);
  const Np = pad8(nf);
  const vTile = <usize>tileFloats(Cp) << 2;
  const eTile = <usize>tileFloats(Np) << 2;
  const dPoint = <usize>(Np * Cp + 16) << 2;
  const Eb = scratch;
  const D = Eb + <usize>TB * eTile;
  const tmp = D + <usize>POINTS * dPoint;
  for (let b0 = 0; b0 < nTiles; b0 += TB) {
    const b1 = min(b0 + TB, nTiles);
    const first = b0 == 0;
    const Vb = Vall + <usize>b0 * vTile;
    gradientTransform(dy, Ho, Wo, F, TH, TW, f0, f1, Np, b0, b1, Eb, tmp);
    for (let xi = 0; xi < POINTS; xi++) {
      const V = Vb + (<usize>(xi * Cp) << 2);
      const E = Eb + (<usize>(xi * Np) << 2);
      const Dx = D + <usize>xi * dPoint;
      for (let c = 0; c < Cp; c += 8) {
        for (let f = 0; f < nf; f += 4) {
          sumTile4x8(E + (<usize>f << 2), eTile, 4, V + (<usize>c << 2), vTile, b1 - b0, Dx + (<usize>(f * Cp + c) << 2), <usize>Cp << 2, 8, first);
        }
      }
    }
  }
  // dW[f, :, :, c] = G^T D G, 4 channels at a time: columns into tmp (3 x 6), then rows
  const tap = <usize>C << 2;
  const half = tmp;
  const done = tmp + (<usize>POINTS << 4);
  const vs: usize = 6 << 4;
  for (let f = 0; f < nf; f++) {
    const out = at(dW, (f0 + f) * 9 * C);
    for (let c = 0; c < C; c += 4) {
      const cn = min(4, C - c);
      const p = D + (<usize>(f * Cp + c) << 2);
      for (let q = 0; q < 6; q++) kernelGradientColumn(p + <usize>q * dPoint, 6 * dPoint, half + <usize>q * 16, vs);
      for (let i = 0; i < 3; i++) kernelGradientColumn(half + <usize>i * vs, 16, done + <usize>(3 * i) * 16, 16);
      const o = out + (<usize>c << 2);
      for (let kk = 0; kk < 9; kk++) storeLanes4(o + <usize>kk * tap, v128.load(done + <usize>kk * 16), cn);
    }
  }
}
