// EXPERIMENT (issue 13), not part of the kernel module: batch norm, ReLU and 2x2 max pooling with
// stride 2 fused into one pass each way, to measure against the three layers run one after the
// other. Built only by `npm run bench:layers` (src/bench/layers.ts compiles it next to index.as.ts).
// C must be a multiple of 4 (the reference CNN's shapes).
//
// With z = batch norm of x = (x - hi) scale + shift (batchnorm.as.ts, statistics from its step 1
// and batchnormTrainStats):
//   forward    p = max over the window of relu(z) = relu(max over the window of z) (ReLU is monotone),
//              argmax = the first tap with the largest z, or -1 when that z <= 0 (ReLU passes no
//              gradient there). Bit-identical to normalize, then ReLU, then max pooling.
//   backward   dz is dp at each window's winner, 0 elsewhere;
//              1. per pooled row: SD = sum dz, SX = sum dz (x - hi), read through the windows
//              2. batchnormBackwardCoefficients on those partials, then for every position of x:
//                 dz from the window holding it, dx = A ((x - hi)(-D) + (dz + E))
// Nothing of size (B, H, W, C) is written but dx: neither z, nor relu(z), nor their gradients.
import { madd, at } from './simd.as';

// @ts-ignore: decorator
@inline function choose(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** Pooled rows [r0, r1), row r = n * Ho + oy. */
export function bnReluMaxpoolForward(
  x: usize, p: usize, argmax: usize, mean: usize, scale: usize, shift: usize, H: i32, W: i32, C: i32, r0: i32, r1: i32,
): void {
  const Ho = H >> 1;
  const Wo = W >> 1;
  const ldx = <usize>(W * C) << 2;
  const ldc = <usize>C << 2;
  const zero = f32x4.splat(0);
  const none = i32x4.splat(-1);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho;
    const oy = r - n * Ho;
    let window = at(x, (n * H + 2 * oy) * W * C);
    const pr = at(p, r * Wo * C);
    const ar = at(argmax, r * Wo * C);
    for (let ox = 0; ox < Wo; ox++, window += 2 * ldc) {
      const out = <usize>ox * ldc;
      for (let o: usize = 0; o < ldc; o += 16) {
        const hi = v128.load(mean + o), sc = v128.load(scale + o), sh = v128.load(shift + o);
        const q = window + o;
        const z0 = madd(f32x4.sub(v128.load(q), hi), sc, sh);
        const z1 = madd(f32x4.sub(v128.load(q + ldc), hi), sc, sh);
        const z2 = madd(f32x4.sub(v128.load(q + ldx), hi), sc, sh);
        const z3 = madd(f32x4.sub(v128.load(q + ldx + ldc), hi), sc, sh);
        let best = f32x4.pmax(f32x4.splat(-Infinity), z0);
        let wins = f32x4.gt(z1, best);
        best = f32x4.pmax(best, z1);
        let tap = v128.and(i32x4.splat(1), wins);
        wins = f32x4.gt(z2, best);
        best = f32x4.pmax(best, z2);
        tap = choose(i32x4.splat(2), tap, wins);
        wins = f32x4.gt(z3, best);
        best = f32x4.pmax(best, z3);
        tap = choose(i32x4.splat(3), tap, wins);
        const active = f32x4.gt(best, zero);
        v128.store(pr + out + o, v128.and(best, active));
        if (argmax != 0) v128.store(ar + out + o, choose(tap, none, active));
      }
    }
  }
}

/** Backward step 1 for pooled rows [r0, r1), one block each: SD and SX per channel (partials as batchnorm.as.ts). */
export function bnReluMaxpoolBackwardBlocks(x: usize, dp: usize, argmax: usize, mean: usize, H: i32, W: i32, C: i32, r0: i32, r1: i32, partials: usize): void {
  const Ho = H >> 1;
  const Wo = W >> 1;
  const ldx = <usize>(W * C) << 2;
  const ldc = <usize>C << 2;
  const t1 = i32x4.splat(1), t2 = i32x4.splat(2), t3 = i32x4.splat(3);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho;
    const oy = r - n * Ho;
    const window0 = at(x, (n * H + 2 * oy) * W * C);
    const row = <usize>(r * Wo) * ldc;
    const SD = at(partials, 2 * r * C);
    const SX = at(SD, C);
    // Two vectors of channels at a time over the row's windows (16 KB of x at 64x64x32: in L1 for the next pair).
    for (let o: usize = 0; o < ldc; o += 32) {
      const h0 = v128.load(mean + o), h1 = v128.load(mean + o, 16);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), e0 = f32x4.splat(0), e1 = f32x4.splat(0);
      let window = window0 + o;
      let q = row + o;
      for (let ox = 0; ox < Wo; ox++, window += 2 * ldc, q += ldc) {
        const a0 = v128.load(argmax + q), a1 = v128.load(argmax + q, 16);
        // The winner's x (0 where no tap won: its weight is 0 then).
        let w0 = v128.and(v128.load(window), i32x4.eq(a0, i32x4.splat(0)));
        let w1 = v128.and(v128.load(window, 16), i32x4.eq(a1, i32x4.splat(0)));
        w0 = choose(v128.load(window + ldc), w0, i32x4.eq(a0, t1));
        w1 = choose(v128.load(window + ldc, 16), w1, i32x4.eq(a1, t1));
        w0 = choose(v128.load(window + ldx), w0, i32x4.eq(a0, t2));
        w1 = choose(v128.load(window + ldx, 16), w1, i32x4.eq(a1, t2));
        w0 = choose(v128.load(window + ldx + ldc), w0, i32x4.eq(a0, t3));
        w1 = choose(v128.load(window + ldx + ldc, 16), w1, i32x4.eq(a1, t3));
        const g0 = v128.and(v128.load(dp + q), i32x4.ge_s(a0, i32x4.splat(0)));
        const g1 = v128.and(v128.load(dp + q, 16), i32x4.ge_s(a1, i32x4.splat(0)));
        d0 = f32x4.add(d0, g0);
        d1 = f32x4.add(d1, g1);
        e0 = madd(g0, f32x4.sub(w0, h0), e0);
        e1 = madd(g1, f32x4.sub(w1, h1), e1);
      }
      v128.store(SD + o, d0);
      v128.store(SD + o, d1, 16);
      v128.store(SX + o, e0);
      v128.store(SX + o, e1, 16);
    }
  }
}

/** Backward step 2, rows [r0, r1) of dx (row r = n * H + iy): dz from the window holding each position, then batch norm's dx. */
export function bnReluMaxpoolBackwardApply(x: usize, dp: usize, argmax: usize, dx: usize, mean: usize, coefs: usize, H: i32, W: i32, C: i32, r0: i32, r1: i32): void {
  const Ho = H >> 1;
  const Wo = W >> 1;
  const ldc = <usize>C << 2;
  const A = coefs;
  const negD = at(coefs, C);
  const E = at(coefs, 2 * C);
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const iy = r - n * H;
    const out = <usize>((n * Ho + (iy >> 1)) * Wo) * ldc;
    let xp = at(x, r * W * C);
    let dxp = at(dx, r * W * C);
    for (let ix = 0; ix < W; ix++, xp += ldc, dxp += ldc) {
      const tap = i32x4.splat(((iy & 1) << 1) | (ix & 1));
      const q = out + <usize>(ix >> 1) * ldc;
      for (let o: usize = 0; o < ldc; o += 16) {
        const dz = v128.and(v128.load(dp + q + o), i32x4.eq(v128.load(argmax + q + o), tap));
        const centred = f32x4.sub(v128.load(xp + o), v128.load(mean + o));
        const g = f32x4.add(dz, v128.load(E + o));
        v128.store(dxp + o, f32x4.mul(v128.load(A + o), madd(centred, v128.load(negD + o), g)));
      }
    }
  }
}
