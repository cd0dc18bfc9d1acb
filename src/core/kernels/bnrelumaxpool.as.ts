// EXPERIMENT (issue 13), not part of the kernel module: batch norm, ReLU and 2x2 max pooling with
// stride 2 fused into one pass each way, to measure against the three layers run one after the
// other. Built only by `npm run bench:layers` (src/bench/layers.ts compiles it next to index.as.ts).
// C must be a multiple of 16 (the reference CNN's shapes).
//
// With z = batch norm of x = (x - hi) scale + shift (batchnorm.as.ts, statistics from its step 1
// and batchnormTrainStats):
//   forward    p = max over the window of relu(z) = relu(max over the window of z) (ReLU is monotone),
//              argmax = the first tap with the largest z, or -1 when that z <= 0 (ReLU passes no
//              gradient there), winner = x - hi at that tap (training). Bit-identical to normalize,
//              then ReLU, then max pooling.
//   backward   dz is dp at each window's winner, 0 elsewhere;
//              1. per pooled row: SD = sum dz, SX = sum dz (x - hi), from dp, argmax and winner
//              2. batchnormBackwardCoefficients on those partials, then window by window: dz of
//                 its four positions, dx = A ((x - hi)(-D) + (dz + E))
// Nothing of size (B, H, W, C) is written but dx: neither z, nor relu(z), nor their gradients.
import { madd, at, choose } from './simd.as';

/** Pooled rows [r0, r1), row r = n * Ho + oy. */
export function bnReluMaxpoolForward(
  x: usize, p: usize, argmax: usize, winner: usize, mean: usize, scale: usize, shift: usize, H: i32, W: i32, C: i32, r0: i32, r1: i32,
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
    const wr = at(winner, r * Wo * C);
    for (let ox = 0; ox < Wo; ox++, window += 2 * ldc) {
      const out = <usize>ox * ldc;
      for (let o: usize = 0; o < ldc; o += 16) {
        const hi = v128.load(mean + o), sc = v128.load(scale + o), sh = v128.load(shift + o);
        const q = window + o;
        const c0 = f32x4.sub(v128.load(q), hi);
        const c1 = f32x4.sub(v128.load(q + ldc), hi);
        const c2 = f32x4.sub(v128.load(q + ldx), hi);
        const c3 = f32x4.sub(v128.load(q + ldx + ldc), hi);
        const z0 = madd(c0, sc, sh), z1 = madd(c1, sc, sh), z2 = madd(c2, sc, sh), z3 = madd(c3, sc, sh);
        let best = f32x4.pmax(f32x4.splat(-Infinity), z0);
        let wins = f32x4.gt(z1, best);
        best = f32x4.pmax(best, z1);
        let tap = v128.and(i32x4.splat(1), wins);
        let centred = choose(c1, c0, wins);
        wins = f32x4.gt(z2, best);
        best = f32x4.pmax(best, z2);
        tap = choose(i32x4.splat(2), tap, wins);
        centred = choose(c2, centred, wins);
        wins = f32x4.gt(z3, best);
        best = f32x4.pmax(best, z3);
        tap = choose(i32x4.splat(3), tap, wins);
        centred = choose(c3, centred, wins);
        const active = f32x4.gt(best, zero);
        v128.store(pr + out + o, v128.and(best, active));
        if (argmax != 0) {
          v128.store(ar + out + o, choose(tap, none, active));
          v128.store(wr + out + o, centred);
        }
      }
    }
  }
}

/** Backward step 1 for pooled rows [r0, r1), one block each: SD and SX per channel (partials as batchnorm.as.ts). */
export function bnReluMaxpoolBackwardBlocks(dp: usize, argmax: usize, winner: usize, W: i32, C: i32, r0: i32, r1: i32, partials: usize): void {
  const Wo = W >> 1;
  const ldc = <usize>C << 2;
  const zero = i32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const row = <usize>(r * Wo) * ldc;
    const end = row + <usize>Wo * ldc;
    const SD = at(partials, 2 * r * C);
    const SX = at(SD, C);
    // 16 channels at a time down the row's windows.
    for (let o: usize = 0; o < ldc; o += 64) {
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      let e0 = f32x4.splat(0), e1 = f32x4.splat(0), e2 = f32x4.splat(0), e3 = f32x4.splat(0);
      for (let q = row + o; q < end; q += ldc) {
        const g0 = v128.and(v128.load(dp + q), i32x4.ge_s(v128.load(argmax + q), zero));
        const g1 = v128.and(v128.load(dp + q, 16), i32x4.ge_s(v128.load(argmax + q, 16), zero));
        const g2 = v128.and(v128.load(dp + q, 32), i32x4.ge_s(v128.load(argmax + q, 32), zero));
        const g3 = v128.and(v128.load(dp + q, 48), i32x4.ge_s(v128.load(argmax + q, 48), zero));
        d0 = f32x4.add(d0, g0);
        d1 = f32x4.add(d1, g1);
        d2 = f32x4.add(d2, g2);
        d3 = f32x4.add(d3, g3);
        e0 = madd(g0, v128.load(winner + q), e0);
        e1 = madd(g1, v128.load(winner + q, 16), e1);
        e2 = madd(g2, v128.load(winner + q, 32), e2);
        e3 = madd(g3, v128.load(winner + q, 48), e3);
      }
      v128.store(SD + o, d0);
      v128.store(SD + o, d1, 16);
      v128.store(SD + o, d2, 32);
      v128.store(SD + o, d3, 48);
      v128.store(SX + o, e0);
      v128.store(SX + o, e1, 16);
      v128.store(SX + o, e2, 32);
      v128.store(SX + o, e3, 48);
    }
  }
}

/**
 * Backward step 2, pooled rows [r0, r1) (row r = n * Ho + oy: rows 2 oy and 2 oy + 1 of dx): dz from
 * each window's winner, then batch norm's dx for the window's four positions.
 */
export function bnReluMaxpoolBackwardApply(x: usize, dp: usize, argmax: usize, dx: usize, mean: usize, coefs: usize, H: i32, W: i32, C: i32, r0: i32, r1: i32): void {
  const Ho = H >> 1;
  const Wo = W >> 1;
  const ldc = <usize>C << 2;
  const ldx = <usize>(W * C) << 2;
  const A = coefs;
  const negD = at(coefs, C);
  const E = at(coefs, 2 * C);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho;
    const oy = r - n * Ho;
    const top = <usize>((n * H + 2 * oy) * W * C) << 2;
    for (let ox = 0; ox < Wo; ox++) {
      const q = <usize>(r * Wo + ox) * ldc;
      const w = top + <usize>(2 * ox) * ldc;
      for (let o: usize = 0; o < ldc; o += 16) {
        const d = v128.load(dp + q + o);
        const a = v128.load(argmax + q + o);
        const hi = v128.load(mean + o), nd = v128.load(negD + o), e = v128.load(E + o), s = v128.load(A + o);
        const p0 = w + o, p1 = p0 + ldc, p2 = p0 + ldx, p3 = p2 + ldc;
        v128.store(dx + p0, f32x4.mul(s, madd(f32x4.sub(v128.load(x + p0), hi), nd, f32x4.add(v128.and(d, i32x4.eq(a, i32x4.splat(0))), e))));
        v128.store(dx + p1, f32x4.mul(s, madd(f32x4.sub(v128.load(x + p1), hi), nd, f32x4.add(v128.and(d, i32x4.eq(a, i32x4.splat(1))), e))));
        v128.store(dx + p2, f32x4.mul(s, madd(f32x4.sub(v128.load(x + p2), hi), nd, f32x4.add(v128.and(d, i32x4.eq(a, i32x4.splat(2))), e))));
        v128.store(dx + p3, f32x4.mul(s, madd(f32x4.sub(v128.load(x + p3), hi), nd, f32x4.add(v128.and(d, i32x4.eq(a, i32x4.splat(3))), e))));
      }
    }
  }
}
