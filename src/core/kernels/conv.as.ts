// Direct 2-D convolution, channels last (src/nn/layers/conv.ts is the reference), lowered block by
// block to products with the patches of the input ("im2col" in a small per-thread panel):
//
//   x (B, H, W, C)   Wt (F, k, k, C) = (F, K), K = k*k*C   y (B, Ho, Wo, F)
//   patch row of output position p = (n, oy, ox):  P[p, (ky, kx, c)] = x[n, oy*s - pt + ky, ox*s - pl + kx, c]
//                                                  (0 outside the image)
//   forward          y[p, f]   = b[f] + sum_k P[p, k] * Wt[f, k]
//   weight gradient  dW[f, k]  = sum_p dy[p, f] * P[p, k]        db[f] = sum_p dy[p, f]
//   input gradient   dx[q, c]  = sum_{taps t, f} dy[o(q, t), f] * Wt[f, t, c]
//                    over the taps t = (ky, kx) whose output o(q, t) = ((iy + pt - ky)/s, (ix + pl - kx)/s)
//                    is a whole position inside the output.
//
// Every output value is one chain of multiply-adds in one SIMD lane, in an order fixed by the
// geometry alone (patch order for y, position order in blocks of PB for dW and db, class tap order
// for dx), so results do not depend on which thread computes what, or how many threads there are.
//
// Forward and input gradient share one micro-kernel (tile4x8): 4 rows of A (patch or dy-patch
// rows, one float at a time broadcast) times a panel of 8 output channels (one f32x4 pair per k),
// 8 accumulators, the register budget V8 keeps without spilling. The weights are packed per group
// of 8 output channels ([8 initial values][K x 8 weights], zero-padded), once per step, by
// convPackForward / convPackInputGradient. The weight gradient is a sum over positions: 4 filters
// (broadcast dy) times 8 consecutive patch values (lanes along k), rows of the panel padded to a
// multiple of 8 with zeros.
import { madd, at } from './simd.as';

/** Output positions per block (rows of the patch panel); also the chunk of the dW and db sums. */
const PB: i32 = 64;

export function convBlockPositions(): i32 {
  return PB;
}

/** Floats per row of the patch panel: K rounded up to a multiple of 8 (the weight gradient's lanes). */
// @ts-ignore: decorator
@inline function patchStride(K: i32): i32 {
  return (K + 7) & ~7;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** dst[0..n) = src[0..n) (floats). */
// @ts-ignore: decorator
@inline function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

/** dst[0..n) = 0. */
export function zeroFloats(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), z);
  for (; i < n; i++) store<f32>(at(dst, i), 0);
}

/** Stores the first n (0..8) lanes of the pair (v0, v1) at dst. */
// @ts-ignore: decorator
@inline function storeLanes(dst: usize, v0: v128, v1: v128, n: i32): void {
  if (n >= 8) {
    v128.store(dst, v0);
    v128.store(dst, v1, 16);
    return;
  }
  storeLanes4(dst, v0, min(n, 4));
  if (n > 4) storeLanes4(dst + 16, v1, n - 4);
}

export function storeLanes4(dst: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(dst, v);
    return;
  }
  if (n > 0) v128.store32_lane(dst, v, 0);
  if (n > 1) v128.store32_lane(dst, v, 1, 4);
  if (n > 2) v128.store32_lane(dst, v, 2, 8);
}

/** The first n (0..4) floats at src, zeros after. */
export function loadLanes4(src: usize, n: i32): v128 {
  if (n >= 4) return v128.load(src);
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(src));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(src, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(src, 8));
  return v;
}

// ---------------------------------------------------------------------------------------------
// The micro-kernel of the forward pass and the input gradient

/**
 * out[r, 0..cols) = init[0..8) + sum_{k < K} A[r, k] * Wp[k, 0..8) for the rows r < rows (1..4).
 * A rows are lda bytes apart; out rows ldo bytes apart; Wp holds K rows of 8 floats. The 4 rows
 * are always read (the caller's buffer holds them) but only `rows` are stored: every stored value
 * goes through the same operations whatever else its tile holds.
 * One pointer per row, each advanced every step: written as base + offset (or with rows chosen by
 * `rows`), the compiled loop re-derived the four addresses on every step, ~12 integer operations
 * per 8 multiply-adds, and ran at 30 instead of 47 GFLOP/s on one thread.
 */
export function tile4x8(a: usize, lda: usize, rows: i32, K: i32, init: usize, Wp: usize, out: usize, ldo: usize, cols: i32): void {
  let a0 = a;
  let a1 = a + lda;
  let a2 = a + 2 * lda;
  let a3 = a + 3 * lda;
  let c00 = v128.load(init), c01 = v128.load(init, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  const end = Wp + (<usize>K << 5);
  for (let w = Wp; w < end; w += 32) {
    const w0 = v128.load(w);
    const w1 = v128.load(w, 16);
    const x0 = v128.load32_splat(a0);
    c00 = madd(x0, w0, c00);
    c01 = madd(x0, w1, c01);
    const x1 = v128.load32_splat(a1);
    c10 = madd(x1, w0, c10);
    c11 = madd(x1, w1, c11);
    const x2 = v128.load32_splat(a2);
    c20 = madd(x2, w0, c20);
    c21 = madd(x2, w1, c21);
    const x3 = v128.load32_splat(a3);
    c30 = madd(x3, w0, c30);
    c31 = madd(x3, w1, c31);
    a0 += 4;
    a1 += 4;
    a2 += 4;
    a3 += 4;
  }
  storeLanes(out, c00, c01, cols);
  if (rows > 1) storeLanes(out + ldo, c10, c11, cols);
  if (rows > 2) storeLanes(out + 2 * ldo, c20, c21, cols);
  if (rows > 3) storeLanes(out + 3 * ldo, c30, c31, cols);
}

// ---------------------------------------------------------------------------------------------
// Forward

/**
 * Packs the filters of groups [g0, g1) (8 filters each) for the forward pass: group g at
 * Wp + g * (K + 1) * 32 bytes holds the biases b[8g .. 8g+8) (zeros without bias, `bias` = 0),
 * then Wt[8g + j, k] at row k, lane j (zeros past F).
 */
export function convPackForward(Wt: usize, bias: usize, F: i32, K: i32, Wp: usize, g0: i32, g1: i32): void {
  for (let g = g0; g < g1; g++) {
    const dst = Wp + <usize>g * (<usize>(K + 1) << 5);
    for (let j = 0; j < 8; j++) {
      const f = 8 * g + j;
      store<f32>(at(dst, j), f < F && bias != 0 ? load<f32>(at(bias, f)) : 0);
      for (let kk = 0; kk < K; kk++) store<f32>(at(dst, 8 + kk * 8 + j), f < F ? load<f32>(at(Wt, f * K + kk)) : 0);
    }
  }
}

/**
 * Writes the patch rows of the output positions [p0, p1) (p = (n * Ho + oy) * Wo + ox) into
 * `panel`, rows Kp floats apart, zeros for the taps outside the image and past K.
 */
function im2col(x: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, k: i32, s: i32, pt: i32, pl: i32, p0: i32, p1: i32, panel: usize, Kp: i32): void {
  const K = k * k * C;
  const kC = k * C;
  let n = p0 / (Ho * Wo);
  let r = p0 - n * Ho * Wo;
  let oy = r / Wo;
  let ox = r - oy * Wo;
  const rowBytes = <usize>(W * C) << 2;
  for (let p = p0; p < p1; p++) {
    const row = at(panel, (p - p0) * Kp);
    const ix0 = ox * s - pl;
    const iy0 = oy * s - pt;
    if (ix0 >= 0 && ix0 + k <= W && iy0 >= 0 && iy0 + k <= H) {
      // inside the image: k runs of k*C floats, W*C floats apart in x
      let src = at(x, ((n * H + iy0) * W + ix0) * C);
      for (let ky = 0; ky < k; ky++) {
        copyFloats(at(row, ky * kC), src, kC);
        src += rowBytes;
      }
    } else {
      const kxa = max(0, -ix0);
      const kxb = min(k, W - ix0);
      for (let ky = 0; ky < k; ky++) {
        const iy = iy0 + ky;
        const dst = at(row, ky * kC);
        if (iy < 0 || iy >= H || kxa >= kxb) {
          zeroFloats(dst, kC);
          continue;
        }
        if (kxa > 0) zeroFloats(dst, kxa * C);
        copyFloats(at(dst, kxa * C), at(x, ((n * H + iy) * W + ix0 + kxa) * C), (kxb - kxa) * C);
        if (kxb < k) zeroFloats(at(dst, kxb * C), (k - kxb) * C);
      }
    }
    for (let i = K; i < Kp; i++) store<f32>(at(row, i), 0);
    if (++ox == Wo) {
      ox = 0;
      if (++oy == Ho) {
        oy = 0;
        n++;
      }
    }
  }
}

/**
 * y for the output positions [p0, p1) of the batch (p = (n * Ho + oy) * Wo + ox), every filter.
 * Wp: convPackForward's pack. panel: PB * patchStride(K) floats of this thread's scratch.
 */
export function convForward(
  x: usize, H: i32, W: i32, C: i32, y: usize, Ho: i32, Wo: i32, F: i32,
  k: i32, s: i32, pt: i32, pl: i32, Wp: usize, p0: i32, p1: i32, panel: usize,
): void {
  const K = k * k * C;
  const Kp = patchStride(K);
  const lda = <usize>Kp << 2;
  const ldo = <usize>F << 2;
  const groups = (F + 7) >> 3;
  const groupBytes = <usize>(K + 1) << 5;
  for (let b0 = p0; b0 < p1; b0 += PB) {
    const b1 = min(b0 + PB, p1);
    im2col(x, H, W, C, Ho, Wo, k, s, pt, pl, b0, b1, panel, Kp);
    for (let g = 0; g < groups; g++) {
      const pack = Wp + <usize>g * groupBytes;
      const cols = min(8, F - 8 * g);
      for (let p = b0; p < b1; p += 4) {
        tile4x8(at(panel, (p - b0) * Kp), lda, min(4, b1 - p), K, pack, pack + 32, at(y, p * F + 8 * g), ldo, cols);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Weight gradient

/**
 * dW[f, :] for the filters [f0, f1), summed over the output positions [p0, p1) (p = (n * Ho + oy)
 * * Wo + ox) in blocks of PB positions from p0: each block's sums (one chain per value, positions
 * in order) are added to the totals of the blocks before it. dW rows are K floats apart.
 * panel: PB * patchStride(K) floats of this thread's scratch.
 */
export function convWeightGradient(
  x: usize, H: i32, W: i32, C: i32, dy: usize, Ho: i32, Wo: i32, F: i32,
  k: i32, s: i32, pt: i32, pl: i32, p0: i32, p1: i32, dW: usize, f0: i32, f1: i32, panel: usize,
): void {
  if (f0 >= f1) return;
  const K = k * k * C;
  if (p0 >= p1) {
    zeroFloats(at(dW, f0 * K), (f1 - f0) * K); // a sum over no positions
    return;
  }
  const Kp = patchStride(K);
  const ldp = <usize>Kp << 2;
  const ldy = <usize>F << 2;
  for (let b0 = p0; b0 < p1; b0 += PB) {
    const b1 = min(b0 + PB, p1);
    const first = b0 == p0;
    im2col(x, H, W, C, Ho, Wo, k, s, pt, pl, b0, b1, panel, Kp);
    const dy0 = at(dy, b0 * F);
    for (let kb = 0; kb < Kp; kb += 8) {
      const kn = min(8, K - kb);
      for (let f = f0; f < f1; f += 4) {
        sumTile4x8(dy0 + (<usize>f << 2), ldy, min(4, f1 - f), at(panel, kb), ldp, b1 - b0, at(dW, f * K + kb), <usize>K << 2, kn, first);
      }
    }
  }
}

/**
 * dst[i] = sum_{j < count} src[j * stride + i] for i in [i0, i1), j in order: the weight gradient
 * from the partial sums of fixed position ranges.
 */
export function convSumPartials(src: usize, stride: i32, count: i32, dst: usize, i0: i32, i1: i32): void {
  const step = <usize>stride << 2;
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    let p = at(src, i);
    let t = v128.load(p);
    for (let j = 1; j < count; j++) {
      p += step;
      t = f32x4.add(t, v128.load(p));
    }
    v128.store(at(dst, i), t);
  }
  for (; i < i1; i++) {
    let p = at(src, i);
    let t = load<f32>(p);
    for (let j = 1; j < count; j++) {
      p += step;
      t += load<f32>(p);
    }
    store<f32>(at(dst, i), t);
  }
}

/**
 * The micro-kernel of the weight gradients: for the rows j < en (1..4) of a tile,
 *   out[j, 0..kn) (=, or += unless first) sum_{i < count} E[i, j] * X[i, 0..8)
 * with E rows lde bytes apart (E[i, j] at e + i * lde + 4j), X rows ldx bytes apart (8 floats
 * each), out rows ldo bytes apart. One chain per value, i in order.
 */
export function sumTile4x8(e: usize, lde: usize, en: i32, X: usize, ldx: usize, count: i32, out: usize, ldo: usize, kn: i32, first: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let pe = e;
  let px = X;
  const end = e + <usize>count * lde;
  if (en == 4) {
    for (; pe < end; pe += lde) {
      const x0 = v128.load(px);
      const x1 = v128.load(px, 16);
      const e0 = v128.load32_splat(pe);
      c00 = madd(e0, x0, c00);
      c01 = madd(e0, x1, c01);
      const e1 = v128.load32_splat(pe, 4);
      c10 = madd(e1, x0, c10);
      c11 = madd(e1, x1, c11);
      const e2 = v128.load32_splat(pe, 8);
      c20 = madd(e2, x0, c20);
      c21 = madd(e2, x1, c21);
      const e3 = v128.load32_splat(pe, 12);
      c30 = madd(e3, x0, c30);
      c31 = madd(e3, x1, c31);
      px += ldx;
    }
  } else {
    // fewer than 4 rows: the same chains for the rows that exist (E may end after them)
    for (; pe < end; pe += lde) {
      const x0 = v128.load(px);
      const x1 = v128.load(px, 16);
      const e0 = v128.load32_splat(pe);
      c00 = madd(e0, x0, c00);
      c01 = madd(e0, x1, c01);
      if (en > 1) {
        const e1 = v128.load32_splat(pe, 4);
        c10 = madd(e1, x0, c10);
        c11 = madd(e1, x1, c11);
      }
      if (en > 2) {
        const e2 = v128.load32_splat(pe, 8);
        c20 = madd(e2, x0, c20);
        c21 = madd(e2, x1, c21);
      }
      px += ldx;
    }
  }
  accumulateRow(out, c00, c01, kn, first);
  if (en > 1) accumulateRow(out + ldo, c10, c11, kn, first);
  if (en > 2) accumulateRow(out + 2 * ldo, c20, c21, kn, first);
  if (en > 3) accumulateRow(out + 3 * ldo, c30, c31, kn, first);
}

/**
 * db[f] = sum_p dy[p, f] for the filters [f0, f1), over nPos positions in blocks of PB: the same
 * chunked order as the weight gradient.
 */
export function convBiasGradient(dy: usize, F: i32, nPos: i32, db: usize, f0: i32, f1: i32): void {
  for (let b0 = 0; b0 < nPos; b0 += PB) {
    const b1 = min(b0 + PB, nPos);
    for (let f = f0; f < f1; f += 4) {
      const fn = min(4, f1 - f);
      let t = f32x4.splat(0);
      for (let p = b0; p < b1; p++) t = f32x4.add(t, loadLanes4(at(dy, p * F + f), fn));
      const dst = at(db, f);
      storeLanes4(dst, b0 == 0 ? t : f32x4.add(loadLanes4(dst, fn), t), fn);
    }
  }
}

/** dst[0..n) = (v0, v1) (first block) or dst[0..n) += (v0, v1). */
// @ts-ignore: decorator
@inline function accumulateRow(dst: usize, v0: v128, v1: v128, n: i32, first: bool): void {
  if (n >= 8) {
    if (first) {
      v128.store(dst, v0);
      v128.store(dst, v1, 16);
    } else {
      v128.store(dst, f32x4.add(v128.load(dst), v0));
      v128.store(dst, f32x4.add(v128.load(dst, 16), v1), 16);
    }
    return;
  }
  const n0 = min(n, 4);
  storeLanes4(dst, first ? v0 : f32x4.add(loadLanes4(dst, n0), v0), n0);
  if (n > 4) storeLanes4(dst + 16, first ? v1 : f32x4.add(loadLanes4(dst + 16, n - 4), v1), n - 4);
}

// ---------------------------------------------------------------------------------------------
// Input gradient
//
// Input position q = (n, iy, ix) receives from tap (ky, kx) when iy + pt - ky and ix + pl - kx are
// multiples of s: the taps with ky = (iy + pt) mod s (mod s) and kx = (ix + pl) mod s (mod s). The
// positions fall into s x s classes (ry, rx) with the same taps; within a class, taps go in
// descending ky, then descending kx, so that their outputs (oy, ox) ascend. For s = 1 there is one
// class and the dy-patch of q is the patch of a stride-1 convolution of dy padded by k-1-pt, k-1-pl.

/** Taps t in [0, k) with t = r (mod s). */
// @ts-ignore: decorator
@inline function classTaps(k: i32, s: i32, r: i32): i32 {
  return r < k ? (k - 1 - r) / s + 1 : 0;
}

/** Offset (in rows of 8 floats) of class (ry, rx) in a channel group's pack. */
function classOffset(k: i32, s: i32, F: i32, ry: i32, rx: i32): i32 {
  let rows = 0;
  for (let a = 0; a < s; a++) {
    for (let b = 0; b < s; b++) {
      if (a == ry && b == rx) return rows;
      rows += classTaps(k, s, a) * classTaps(k, s, b) * F;
    }
  }
  return rows;
}

/**
 * Packs the weights for the input gradient, channel groups [g0, g1) (8 channels each): group g at
 * Wq + g * (k*k*F + 1) * 32 bytes holds 8 zeros (the initial values), then class after class, tap
 * after tap (descending ky, kx), filter after filter: Wt[f, ky, kx, 8g + j] in lane j.
 */
export function convPackInputGradient(Wt: usize, F: i32, C: i32, k: i32, s: i32, Wq: usize, g0: i32, g1: i32): void {
  const K = k * k * C;
  for (let g = g0; g < g1; g++) {
    const base = Wq + <usize>g * (<usize>(k * k * F + 1) << 5);
    zeroFloats(base, 8);
    let row = at(base, 8);
    for (let ry = 0; ry < s; ry++) {
      for (let rx = 0; rx < s; rx++) {
        for (let ky = ry + s * (classTaps(k, s, ry) - 1); ky >= ry; ky -= s) {
          for (let kx = rx + s * (classTaps(k, s, rx) - 1); kx >= rx; kx -= s) {
            for (let f = 0; f < F; f++) {
              const src = at(Wt, f * K + (ky * k + kx) * C);
              for (let j = 0; j < 8; j++) store<f32>(at(row, j), 8 * g + j < C ? load<f32>(at(src, 8 * g + j)) : 0);
              row = at(row, 8);
            }
          }
        }
      }
    }
  }
}

/**
 * dx for the input rows [r0, r1) of the batch (row r = n * H + iy), every channel. Wq:
 * convPackInputGradient's pack; panel: this thread's, rows for max(PB, W) positions rounded up to
 * 4 (tile4x8 reads 4 rows), k * k * F floats each.
 */
export function convInputGradient(
  dy: usize, Ho: i32, Wo: i32, F: i32, dx: usize, H: i32, W: i32, C: i32,
  k: i32, s: i32, pt: i32, pl: i32, Wq: usize, r0: i32, r1: i32, panel: usize,
): void {
  const groups = (C + 7) >> 3;
  const groupBytes = <usize>(k * k * F + 1) << 5;
  const ldo = <usize>(s * C) << 2;
  if (s == 1) {
    // One class: the dy-patches of a stride-1 convolution over dy, in blocks of whole rows.
    const K = k * k * F;
    const lda = <usize>K << 2;
    const R = max(1, PB / W);
    for (let rb = r0; rb < r1; rb += R) {
      const p0 = rb * W;
      const p1 = min(rb + R, r1) * W;
      im2col(dy, Ho, Wo, F, H, W, k, 1, k - 1 - pt, k - 1 - pl, p0, p1, panel, K);
      for (let g = 0; g < groups; g++) {
        const pack = Wq + <usize>g * groupBytes;
        const cols = min(8, C - 8 * g);
        for (let p = p0; p < p1; p += 4) {
          tile4x8(at(panel, (p - p0) * K), lda, min(4, p1 - p), K, pack, pack + 32, at(dx, p * C + 8 * g), <usize>C << 2, cols);
        }
      }
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const iy = r - n * H;
    const ry = (iy + pt) % s;
    const nky = classTaps(k, s, ry);
    for (let rx = 0; rx < s; rx++) {
      const nkx = classTaps(k, s, rx);
      const K = nky * nkx * F;
      const ix0 = (((rx - pl) % s) + s) % s; // first ix with (ix + pl) mod s = rx
      if (ix0 >= W) continue;
      const count = (W - 1 - ix0) / s + 1;
      // dy-patch rows of the class's positions ix0, ix0 + s, ...
      for (let i = 0; i < count; i++) {
        const ix = ix0 + i * s;
        let dst = at(panel, i * K);
        for (let ky = ry + s * (nky - 1); ky >= ry; ky -= s) {
          const oy = (iy + pt - ky) / s;
          for (let kx = rx + s * (nkx - 1); kx >= rx; kx -= s) {
            const ox = (ix + pl - kx) / s;
            if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo || iy + pt - ky < 0 || ix + pl - kx < 0) zeroFloats(dst, F);
            else copyFloats(dst, at(dy, ((n * Ho + oy) * Wo + ox) * F), F);
            dst = at(dst, F);
          }
        }
      }
      const lda = <usize>K << 2;
      const offset = classOffset(k, s, F, ry, rx);
      for (let g = 0; g < groups; g++) {
        const pack = Wq + <usize>g * groupBytes;
        const cols = min(8, C - 8 * g);
        for (let i = 0; i < count; i += 4) {
          const out = at(dx, (r * W + ix0 + i * s) * C + 8 * g);
          tile4x8(at(panel, i * K), lda, min(4, count - i), K, pack, at(pack + 32, offset * 8), out, ldo, cols);
        }
      }
    }
  }
}
