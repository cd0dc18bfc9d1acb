// 3x3 stride-1 convolution by Winograd's minimal filtering F(m x m, 3x3) (Lavin & Gray, 2015),
// m = 2 or 4: each m x m block of outputs ("tile") of one channel pair costs a^2 multiplications,
// a = m + 2, instead of 9 m^2 (16 instead of 36 for m = 2, 36 instead of 144 for m = 4).
//
//   forward  Y = A^T [ U (.) V ] A        per tile and filter, summed over channels in the product
//            U = G g G^T (a x a, from the 3x3 kernel g of one filter and channel)
//            V = B^T d B (a x a, from the a x a input block d of the tile, one channel)
//   m = 2    B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   A^T = [1 1 1 0; 0 1 -1 -1]
//            G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   m = 4    B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//            A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//            G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
// so that for each of the a^2 points xi of the transform, over the tiles t of a block:
//            M[xi][t, f] = sum_c V[xi][t, c] * U[xi][c, f]           (a matrix product, tile4x8)
//   input gradient: the same forward pass over dy with the kernel turned by 180 degrees and its
//            channels swapped (Wflip[c, ky, kx, f] = W[f, 2-ky, 2-kx, c]), padding 2 - pad.
//   weight gradient: with dM = A dY A^T (the a x a gradient of M from the m x m gradient of a tile),
//            D[xi][f, c] = sum_t dM[xi][t, f] * V[xi][t, c]            (sumTile4x8)
//            dW[f, :, :, c] = G^T D[.][f, c] G
// The 2-D transforms are done as 1-D transforms of the columns, then of the rows, through a small
// per-thread buffer. Tiles cover the output in steps of m (the last row or column of tiles may
// stick out: those outputs are not stored, and their gradient is zero). Tile t = (n * TH + ty) *
// TW + tx.
//
// Determinism: a tile's outputs are computed whole by the thread that owns the tile (forward,
// input gradient); the weight gradient of a filter is summed by one thread over all tiles in
// blocks of tilesPerBlock(m), block sums added in order. Transforms are fixed sequences of
// operations; the product is one chain per value. Nothing depends on the number of threads.
import { madd, at } from './simd.as';
import { loadLanes4, storeLanes4, tile4x8, sumTile4x8, zeroFloats } from './conv.as';

/** Tiles per block (a multiple of 4: the product's row tile). */
export function winogradBlockTiles(m: i32): i32 {
  return m == 2 ? 64 : 32;
}

/**
 * Floats of one tile's transformed values in a block buffer: a^2 points of n channels each
 * (tile-major: the transforms read and write one tile's points close together), plus 16 (one
 * cache line) so that the rows of a product tile, read together, do not fall in the same L1 set
 * (their distance would often be a multiple of 4 KiB).
 */
// @ts-ignore: decorator
@inline function tileFloats(m: i32, n: i32): i32 {
  return (m + 2) * (m + 2) * n + 16;
}

/** Channels rounded up to a multiple of 8: the stride of the transformed rows. */
// @ts-ignore: decorator
@inline function pad8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** Floats of the 1-D transforms' buffer: two a x a tiles of 4-lane vectors. */
const TMP_FLOATS: i32 = 2 * 36 * 4;

/** Bytes of the transformed kernels for Cin input and Cout output channels (winogradPack). */
export function winogradPackBytes(m: i32, Cin: i32, Cout: i32): i32 {
  return (m + 2) * (m + 2) * ((Cout + 7) >> 3) * (Cin + 1) * 32;
}

/** Floats of a thread's scratch for the forward pass (V and M of one block). */
export function winogradForwardScratchFloats(m: i32, Cin: i32, Cout: i32): i32 {
  const TB = winogradBlockTiles(m);
  return TB * (tileFloats(m, pad8(Cin)) + tileFloats(m, pad8(Cout))) + TMP_FLOATS;
}

/** Floats of a thread's scratch for the weight gradient of nf filters (V, dM of one block, and D). */
export function winogradWeightScratchFloats(m: i32, C: i32, nf: i32): i32 {
  const TB = winogradBlockTiles(m);
  return TB * (tileFloats(m, pad8(C)) + tileFloats(m, pad8(nf))) + (m + 2) * (m + 2) * (pad8(nf) * pad8(C) + 16) + TMP_FLOATS;
}

// ---------------------------------------------------------------------------------------------
// 1-D transforms on vectors: read at src + i * s, write at dst + i * d (bytes).

/** B^T v: a values in, a out. */
// @ts-ignore: decorator
@inline function inputColumn(m: i32, src: usize, s: usize, dst: usize, d: usize): void {
  if (m == 2) {
    const d0 = v128.load(src), d1 = v128.load(src + s), d2 = v128.load(src + 2 * s), d3 = v128.load(src + 3 * s);
    v128.store(dst, f32x4.sub(d0, d2));
    v128.store(dst + d, f32x4.add(d1, d2));
    v128.store(dst + 2 * d, f32x4.sub(d2, d1));
    v128.store(dst + 3 * d, f32x4.sub(d1, d3));
    return;
  }
  const d0 = v128.load(src), d1 = v128.load(src + s), d2 = v128.load(src + 2 * s);
  const d3 = v128.load(src + 3 * s), d4 = v128.load(src + 4 * s), d5 = v128.load(src + 5 * s);
  const four = f32x4.splat(4), mfour = f32x4.splat(-4), mfive = f32x4.splat(-5), two = f32x4.splat(2), mtwo = f32x4.splat(-2);
  v128.store(dst, madd(four, d0, madd(mfive, d2, d4)));
  const s12 = f32x4.add(d1, d2), s34 = f32x4.add(d3, d4);
  v128.store(dst + d, madd(mfour, s12, s34));
  const d12 = f32x4.sub(d1, d2), d43 = f32x4.sub(d4, d3);
  v128.store(dst + 2 * d, madd(four, d12, d43));
  const d31 = f32x4.sub(d3, d1), d42 = f32x4.sub(d4, d2);
  v128.store(dst + 3 * d, madd(two, d31, d42));
  v128.store(dst + 4 * d, madd(mtwo, d31, d42));
  v128.store(dst + 5 * d, madd(four, d1, madd(mfive, d3, d5)));
}

/** A^T v: a values in, m out. */
// @ts-ignore: decorator
@inline function outputColumn(m: i32, src: usize, s: usize, dst: usize, d: usize): void {
  if (m == 2) {
    const m0 = v128.load(src), m1 = v128.load(src + s), m2 = v128.load(src + 2 * s), m3 = v128.load(src + 3 * s);
    v128.store(dst, f32x4.add(f32x4.add(m0, m1), m2));
    v128.store(dst + d, f32x4.sub(f32x4.sub(m1, m2), m3));
    return;
  }
  const m0 = v128.load(src), m1 = v128.load(src + s), m2 = v128.load(src + 2 * s);
  const m3 = v128.load(src + 3 * s), m4 = v128.load(src + 4 * s), m5 = v128.load(src + 5 * s);
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), e = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, a), c));
  v128.store(dst + d, madd(f32x4.splat(2), e, b));
  v128.store(dst + 2 * d, madd(f32x4.splat(4), c, a));
  v128.store(dst + 3 * d, f32x4.add(madd(f32x4.splat(8), e, b), m5));
}

/** A v: m values in, a out (the gradient of M from the gradient of Y). */
// @ts-ignore: decorator
@inline function gradientColumn(m: i32, src: usize, s: usize, dst: usize, d: usize): void {
  if (m == 2) {
    const y0 = v128.load(src), y1 = v128.load(src + s);
    v128.store(dst, y0);
    v128.store(dst + d, f32x4.add(y0, y1));
    v128.store(dst + 2 * d, f32x4.sub(y0, y1));
    v128.store(dst + 3 * d, f32x4.neg(y1));
    return;
  }
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

/** G^T v: a values in, 3 out (the gradient of the kernel from the gradient of U). */
// @ts-ignore: decorator
@inline function kernelGradientColumn(m: i32, src: usize, s: usize, dst: usize, d: usize): void {
  if (m == 2) {
    const d0 = v128.load(src), d1 = v128.load(src + s), d2 = v128.load(src + 2 * s), d3 = v128.load(src + 3 * s);
    const half = f32x4.splat(0.5);
    const h = f32x4.mul(half, f32x4.add(d1, d2));
    v128.store(dst, f32x4.add(d0, h));
    v128.store(dst + d, f32x4.mul(half, f32x4.sub(d1, d2)));
    v128.store(dst + 2 * d, f32x4.add(h, d3));
    return;
  }
  const d0 = v128.load(src), d1 = v128.load(src + s), d2 = v128.load(src + 2 * s);
  const d3 = v128.load(src + 3 * s), d4 = v128.load(src + 4 * s), d5 = v128.load(src + 5 * s);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const s12 = f32x4.add(d1, d2), s34 = f32x4.add(d3, d4);
  // h0 = d0/4 - (d1 + d2)/6 + (d3 + d4)/24; h1 = (d2 - d1)/6 + (d3 - d4)/12; h2 = (d3 + d4 - d1 - d2)/6 + d5
  v128.store(dst, madd(f32x4.splat(<f32>(1.0 / 24.0)), s34, madd(f32x4.splat(-<f32>(1.0 / 6.0)), s12, f32x4.mul(f32x4.splat(0.25), d0))));
  v128.store(dst + d, madd(f32x4.splat(<f32>(1.0 / 12.0)), f32x4.sub(d3, d4), f32x4.mul(sixth, f32x4.sub(d2, d1))));
  v128.store(dst + 2 * d, madd(sixth, f32x4.sub(s34, s12), d5));
}

/** Row r of G times the column (g0 g1 g2) of a kernel, in double. */
function gRow(m: i32, r: i32, g0: f64, g1: f64, g2: f64): f64 {
  if (m == 2) {
    if (r == 0) return g0;
    if (r == 1) return 0.5 * (g0 + g1 + g2);
    if (r == 2) return 0.5 * (g0 - g1 + g2);
    return g2;
  }
  if (r == 0) return g0 / 4;
  if (r == 1) return -(g0 + g1 + g2) / 6;
  if (r == 2) return -(g0 - g1 + g2) / 6;
  if (r == 3) return (g0 + 2 * g1 + 4 * g2) / 24;
  if (r == 4) return (g0 - 2 * g1 + 4 * g2) / 24;
  return g2;
}

// ---------------------------------------------------------------------------------------------
// Kernel transform

/**
 * Transformed kernels U = G g G^T (in double, rounded once to float32) for the output-channel
 * groups [g0, g1) (8 channels each): at point xi, group g: 8 zeros (the initial values of the
 * product), then Cin rows of 8 lanes.
 * flip = 0: the forward kernels, g[o, i] = Wt[o, ky, kx, i] (Cout = F, Cin = C);
 * flip = 1: the input gradient's, g[o, i] = Wt[i, 2-ky, 2-kx, o] (Cout = C, Cin = F).
 * Wt is (F, 3, 3, C).
 */
export function winogradPack(m: i32, Wt: usize, F: i32, C: i32, flip: bool, Up: usize, g0: i32, g1: i32): void {
  const a = m + 2;
  const Cin = flip ? F : C;
  const Cout = flip ? C : F;
  const groupBytes = <usize>(Cin + 1) << 5;
  const pointBytes = <usize>((Cout + 7) >> 3) * groupBytes;
  const tap = <usize>C << 2;
  for (let g = g0; g < g1; g++) {
    for (let xi = 0; xi < a * a; xi++) zeroFloats(Up + <usize>xi * pointBytes + <usize>g * groupBytes, 8);
    for (let j = 0; j < 8; j++) {
      const o = 8 * g + j;
      for (let i = 0; i < Cin; i++) {
        const dst = Up + <usize>g * groupBytes + (<usize>(i + 1) << 5) + (<usize>j << 2);
        if (o >= Cout) {
          for (let xi = 0; xi < a * a; xi++) store<f32>(dst + <usize>xi * pointBytes, 0);
          continue;
        }
        // the 3x3 kernel of (o, i): tap ky * 3 + kx, turned (8 - tap) for flip
        const base = at(Wt, (flip ? i : o) * 9 * C + (flip ? o : i));
        const g00 = tapValue(base, tap, flip, 0), g01 = tapValue(base, tap, flip, 1), g02 = tapValue(base, tap, flip, 2);
        const g10 = tapValue(base, tap, flip, 3), g11 = tapValue(base, tap, flip, 4), g12 = tapValue(base, tap, flip, 5);
        const g20 = tapValue(base, tap, flip, 6), g21 = tapValue(base, tap, flip, 7), g22 = tapValue(base, tap, flip, 8);
        for (let r = 0; r < a; r++) {
          // row r of G g, then that row times G^T: point xi = a r + q
          const c0 = gRow(m, r, g00, g10, g20), c1 = gRow(m, r, g01, g11, g21), c2 = gRow(m, r, g02, g12, g22);
          for (let q = 0; q < a; q++) store<f32>(dst + <usize>(a * r + q) * pointBytes, <f32>gRow(m, q, c0, c1, c2));
        }
      }
    }
  }
}

/** Tap t (ky * 3 + kx) of a kernel whose taps are `tap` bytes apart, turned by 180 degrees for flip. */
// @ts-ignore: decorator
@inline function tapValue(base: usize, tap: usize, flip: bool, t: i32): f64 {
  return <f64>load<f32>(base + <usize>(flip ? 8 - t : t) * tap);
}

// ---------------------------------------------------------------------------------------------
// Tile transforms

/**
 * V = B^T d B for the tiles [t0, t1) of a block, all channels: V[t - t0][xi, c] at
 * Vb + ((t - t0) * tileFloats(m, Cp) + xi * Cp + c) * 4, Cp = pad8(C), zeros for c >= C.
 * Input x (B, H, W, C); tile (ty, tx) reads the a x a block at rows m ty - pt, columns m tx - pl
 * (zeros outside the image). tmp: TMP_FLOATS floats.
 */
function inputTransform(m: i32, x: usize, H: i32, W: i32, C: i32, TH: i32, TW: i32, pt: i32, pl: i32, t0: i32, t1: i32, Vb: usize, tmp: usize): void {
  const a = m + 2;
  const Cp = pad8(C);
  const pointBytes = <usize>Cp << 2;
  const tileBytes = <usize>tileFloats(m, Cp) << 2;
  const rowBytes = <usize>(W * C) << 2;
  const colBytes = <usize>C << 2;
  const gathered = tmp;
  const half = tmp + (<usize>(a * a) << 4);
  const vs = <usize>a << 4; // a vectors: one row of the tmp tiles
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const iy0 = m * ty - pt;
    const ix0 = m * tx - pl;
    const interior = iy0 >= 0 && iy0 + a <= H && ix0 >= 0 && ix0 + a <= W;
    const src = at(x, ((n * H + iy0) * W + ix0) * C);
    const dst0 = Vb + <usize>(t - t0) * tileBytes;
    for (let c = 0; c < Cp; c += 4) {
      const cn = min(4, C - c);
      // the block d: straight from x inside the image, else gathered with zeros
      let d = src + (<usize>c << 2);
      let ds = rowBytes;
      let dq = colBytes;
      if (!(interior && cn == 4)) {
        for (let i = 0; i < a; i++) {
          const iy = iy0 + i;
          for (let q = 0; q < a; q++) {
            const ix = ix0 + q;
            const inside = cn > 0 && iy >= 0 && iy < H && ix >= 0 && ix < W;
            v128.store(gathered + <usize>(i * a + q) * 16, inside ? loadLanes4(d + <usize>i * rowBytes + <usize>q * colBytes, cn) : f32x4.splat(0));
          }
        }
        d = gathered;
        ds = vs;
        dq = 16;
      }
      // columns: half[r][q] = (B^T d)[r][q]; rows: V[a r + q] = (half B)[r][q]
      for (let q = 0; q < a; q++) inputColumn(m, d + <usize>q * dq, ds, half + <usize>q * 16, vs);
      const out = dst0 + (<usize>c << 2);
      for (let i = 0; i < a; i++) inputColumn(m, half + <usize>i * vs, 16, out + <usize>(a * i) * pointBytes, pointBytes);
    }
  }
}

/**
 * Y = A^T M A (+ bias) for the tiles [t0, t1): the m x m outputs inside the image, channels [0, F)
 * (M rows Fp floats apart). tmp: TMP_FLOATS floats.
 */
function outputTransform(m: i32, Mb: usize, Fp: i32, F: i32, y: usize, Ho: i32, Wo: i32, TH: i32, TW: i32, bias: usize, t0: i32, t1: i32, tmp: usize): void {
  const a = m + 2;
  const point = <usize>Fp << 2;
  const tileBytes = <usize>tileFloats(m, Fp) << 2;
  const rowBytes = <usize>(Wo * F) << 2;
  const colBytes = <usize>F << 2;
  const half = tmp; // m x a
  const done = tmp + (<usize>(a * a) << 4); // m x m
  const vs = <usize>a << 4;
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const oy = m * ty;
    const ox = m * tx;
    const rows = min(m, Ho - oy);
    const cols = min(m, Wo - ox);
    const out = at(y, ((n * Ho + oy) * Wo + ox) * F);
    const src = Mb + <usize>(t - t0) * tileBytes;
    for (let f = 0; f < F; f += 4) {
      const fn = min(4, F - f);
      const p = src + (<usize>f << 2);
      // columns: half[i][q] = (A^T M)[i][q]; rows: done[i][j] = (half A)[i][j]
      for (let q = 0; q < a; q++) outputColumn(m, p + <usize>q * point, <usize>a * point, half + <usize>q * 16, vs);
      for (let i = 0; i < m; i++) outputColumn(m, half + <usize>i * vs, 16, done + <usize>(i * m) * 16, 16);
      const b = bias != 0 ? loadLanes4(at(bias, f), fn) : f32x4.splat(0);
      const o = out + (<usize>f << 2);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          storeLanes4(o + <usize>i * rowBytes + <usize>j * colBytes, f32x4.add(b, v128.load(done + <usize>(i * m + j) * 16)), fn);
        }
      }
    }
  }
}

/**
 * dM = A dY A^T for the tiles [t0, t1) and the filters [f0, f1): at
 * Eb + ((t - t0) * tileFloats(m, Np) + xi * Np + f - f0) * 4, zeros past f1 (and for the outputs
 * of a tile outside the image).
 * tmp: TMP_FLOATS floats.
 */
function gradientTransform(m: i32, dy: usize, Ho: i32, Wo: i32, F: i32, TH: i32, TW: i32, f0: i32, f1: i32, Np: i32, t0: i32, t1: i32, Eb: usize, tmp: usize): void {
  const a = m + 2;
  const point = <usize>Np << 2;
  const tileBytes = <usize>tileFloats(m, Np) << 2;
  const rowBytes = <usize>(Wo * F) << 2;
  const colBytes = <usize>F << 2;
  const gathered = tmp; // m x m
  const half = tmp + (<usize>(a * a) << 4); // a x m
  for (let t = t0; t < t1; t++) {
    const n = t / (TH * TW);
    const r = t - n * TH * TW;
    const ty = r / TW;
    const tx = r - ty * TW;
    const oy = m * ty;
    const ox = m * tx;
    const src = at(dy, ((n * Ho + oy) * Wo + ox) * F);
    const dst0 = Eb + <usize>(t - t0) * tileBytes;
    for (let f = f0; f < f0 + Np; f += 4) {
      const fn = min(4, f1 - f);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          const inside = fn > 0 && oy + i < Ho && ox + j < Wo;
          const p = src + <usize>i * rowBytes + <usize>j * colBytes + (<usize>f << 2);
          v128.store(gathered + <usize>(i * m + j) * 16, inside ? loadLanes4(p, fn) : f32x4.splat(0));
        }
      }
      // columns: half[r][j] = (A dY)[r][j]; rows: dM[a r + q] = (half A^T)[r][q]
      for (let j = 0; j < m; j++) gradientColumn(m, gathered + <usize>j * 16, <usize>m << 4, half + <usize>j * 16, <usize>m << 4);
      const out = dst0 + (<usize>(f - f0) << 2);
      for (let i = 0; i < a; i++) gradientColumn(m, half + <usize>(i * m) * 16, 16, out + <usize>(a * i) * point, point);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Passes

/**
 * The output tiles [t0, t1) of a 3x3 stride-1 convolution by F(m x m, 3x3): y (B, Ho, Wo, Cout)
 * from x (B, H, W, Cin), top and left padding pt, pl, transformed kernels Up (winogradPack), bias
 * (Cout floats, or 0). scratch: winogradForwardScratchFloats(m, Cin, Cout) floats of this thread's.
 */
export function winogradForward(
  m: i32, x: usize, H: i32, W: i32, Cin: i32, y: usize, Ho: i32, Wo: i32, Cout: i32,
  pt: i32, pl: i32, Up: usize, bias: usize, t0: i32, t1: i32, scratch: usize,
): void {
  const a = m + 2;
  const TB = winogradBlockTiles(m);
  const TH = (Ho + m - 1) / m;
  const TW = (Wo + m - 1) / m;
  const Cp = pad8(Cin);
  const Fp = pad8(Cout);
  const groups = (Cout + 7) >> 3;
  const groupBytes = <usize>(Cin + 1) << 5;
  const vTile = <usize>tileFloats(m, Cp) << 2;
  const mTile = <usize>tileFloats(m, Fp) << 2;
  const uPoint = <usize>groups * groupBytes;
  const Vb = scratch;
  const Mb = Vb + <usize>TB * vTile;
  const tmp = Mb + <usize>TB * mTile;
  for (let b0 = t0; b0 < t1; b0 += TB) {
    const b1 = min(b0 + TB, t1);
    const nb = b1 - b0;
    inputTransform(m, x, H, W, Cin, TH, TW, pt, pl, b0, b1, Vb, tmp);
    for (let xi = 0; xi < a * a; xi++) {
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
    outputTransform(m, Mb, Fp, Cout, y, Ho, Wo, TH, TW, bias, b0, b1, tmp);
  }
}

/**
 * dW (F, 3, 3, C) for the filters [f0, f1) (f0 a multiple of 4) of a 3x3 stride-1 convolution by
 * F(m x m, 3x3): sums over all the tiles of the batch (B * TH * TW) in blocks.
 * scratch: winogradWeightScratchFloats(m, C, f1 - f0) floats of this thread's memory.
 */
export function winogradWeightGradient(
  m: i32, x: usize, H: i32, W: i32, C: i32, dy: usize, Ho: i32, Wo: i32, F: i32,
  pt: i32, pl: i32, B: i32, dW: usize, f0: i32, f1: i32, scratch: usize,
): void {
  if (f0 >= f1) return;
  const a = m + 2;
  const TB = winogradBlockTiles(m);
  const TH = (Ho + m - 1) / m;
  const TW = (Wo + m - 1) / m;
  const nTiles = B * TH * TW;
  const nf = f1 - f0;
  const Cp = pad8(C);
  const Np = pad8(nf);
  const vTile = <usize>tileFloats(m, Cp) << 2;
  const eTile = <usize>tileFloats(m, Np) << 2;
  const dPoint = <usize>(Np * Cp + 16) << 2;
  const Vb = scratch;
  const Eb = Vb + <usize>TB * vTile;
  const D = Eb + <usize>TB * eTile;
  const tmp = D + <usize>(a * a) * dPoint;
  for (let b0 = 0; b0 < nTiles; b0 += TB) {
    const b1 = min(b0 + TB, nTiles);
    const first = b0 == 0;
    inputTransform(m, x, H, W, C, TH, TW, pt, pl, b0, b1, Vb, tmp);
    gradientTransform(m, dy, Ho, Wo, F, TH, TW, f0, f1, Np, b0, b1, Eb, tmp);
    for (let xi = 0; xi < a * a; xi++) {
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
  // dW[f, :, :, c] = G^T D G, 4 channels at a time: columns into tmp (3 x a), then rows
  const tap = <usize>C << 2;
  const half = tmp;
  const done = tmp + (<usize>(a * a) << 4);
  const vs = <usize>a << 4;
  for (let f = 0; f < nf; f++) {
    const out = at(dW, (f0 + f) * 9 * C);
    for (let c = 0; c < C; c += 4) {
      const cn = min(4, C - c);
      const p = D + (<usize>(f * Cp + c) << 2);
      for (let q = 0; q < a; q++) kernelGradientColumn(m, p + <usize>q * dPoint, <usize>a * dPoint, half + <usize>q * 16, vs);
      for (let i = 0; i < 3; i++) kernelGradientColumn(m, half + <usize>i * vs, 16, done + <usize>(3 * i) * 16, 16);
      const o = out + (<usize>c << 2);
      for (let kk = 0; kk < 9; kk++) storeLanes4(o + <usize>kk * tap, v128.load(done + <usize>kk * 16), cn);
    }
  }
}
