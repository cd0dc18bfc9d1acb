// EXPERIMENT (issue 13), not part of the kernel module: batch norm, ReLU and max pooling fused into
// one pass each way, to measure against the three layers run one after the other. Built only by
// `npm run bench:layers` (src/bench/layers.ts compiles it next to index.as.ts).
//
// With z = batch norm of x (batchnorm.as.ts, statistics from batchnormBlockStats/TrainStats):
//   forward    p = max over the window of relu(z) = relu(max over the window of z) (ReLU is monotone),
//              argmax = the first tap with the largest z, or -1 when that z <= 0 (ReLU passes no
//              gradient). Bit-identical to normalize, then ReLU, then max pooling.
//   backward   dz is dp at each window's winner (summed over windows that share one), 0 elsewhere;
//              1. per block of pooled rows: SD_b = sum dz, SX_b = sum dz (x - mean), read through
//                 the windows (only winners contribute)
//              2. the batch-norm coefficients from the partials, then for every position of x:
//                 dz gathered from the windows holding it, dx = A ((dz - mean dz) - D (x - mean))
// Nothing of size (B, H, W, C) is written but dx: neither z, nor relu(z), nor their gradients.
import { madd, at } from './simd.as';

// @ts-ignore: decorator
@inline function centre(x: v128, hi: v128, lo: v128): v128 {
  return f32x4.sub(f32x4.sub(x, hi), lo);
}

// @ts-ignore: decorator
@inline function choose(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** Pooled rows [r0, r1), row r = n * Ho + oy; C a multiple of 4 (the experiment's shapes). */
export function bnReluMaxpoolForward(
  x: usize, p: usize, argmax: usize, mean: usize, scale: usize, beta: usize,
  H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  const meanLo = at(mean, C);
  const ldx = <usize>(W * C) << 2;
  const step = <usize>(stride * C) << 2;
  const ldc = <usize>C << 2;
  const zero = f32x4.splat(0);
  const none = i32x4.splat(-1);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho;
    const oy = r - n * Ho;
    let window = at(x, (n * H + oy * stride) * W * C);
    const pr = at(p, r * Wo * C);
    const ar = at(argmax, r * Wo * C);
    for (let ox = 0; ox < Wo; ox++, window += step) {
      const out = <usize>(ox * C) << 2;
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const hi = v128.load(mean + o), lo = v128.load(meanLo + o), sc = v128.load(scale + o), bt = v128.load(beta + o);
        let best = f32x4.splat(-Infinity);
        let bestTap = i32x4.splat(0);
        let tap = 0;
        for (let ky = 0; ky < size; ky++) {
          let q = window + o + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, tap++, q += ldc) {
            const z = madd(centre(v128.load(q), hi, lo), sc, bt);
            const wins = f32x4.gt(z, best);
            best = f32x4.pmax(best, z);
            bestTap = choose(i32x4.splat(tap), bestTap, wins);
          }
        }
        const active = f32x4.gt(best, zero);
        v128.store(pr + out + o, v128.and(best, active));
        if (argmax != 0) v128.store(ar + out + o, choose(bestTap, none, active));
      }
    }
  }
}

/**
 * Backward step 1 for blocks [b0, b1) of R pooled rows (of rows = B * Ho): SD_b and SX_b per
 * channel (partials as in batchnorm.as.ts).
 */
export function bnReluMaxpoolBackwardBlocks(
  x: usize, dp: usize, argmax: usize, mean: usize,
  H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, rows: i32, R: i32, b0: i32, b1: i32, partials: usize,
): void {
  const meanLo = at(mean, C);
  const ldx = <usize>(W * C) << 2;
  const ldc = <usize>C << 2;
  const step = <usize>(stride * C) << 2;
  for (let b = b0; b < b1; b++) {
    const first = b * R;
    const last = min(first + R, rows);
    const SD = at(partials, 2 * b * C);
    const SX = at(SD, C);
    for (let c = 0; c < C; c += 4) {
      const o = <usize>c << 2;
      const hi = v128.load(mean + o), lo = v128.load(meanLo + o);
      let sd = f32x4.splat(0), sx = f32x4.splat(0);
      for (let r = first; r < last; r++) {
        const n = r / Ho;
        const oy = r - n * Ho;
        let window = at(x, (n * H + oy * stride) * W * C) + o;
        let q = (<usize>(r * Wo * C) << 2) + o;
        for (let ox = 0; ox < Wo; ox++, window += step, q += ldc) {
          const a = v128.load(argmax + q);
          // The winner's x (any value where no tap won: its weight is 0).
          let xw = f32x4.splat(0);
          let tap = 0;
          for (let ky = 0; ky < size; ky++) {
            let s = window + <usize>ky * ldx;
            for (let kx = 0; kx < size; kx++, tap++, s += ldc) xw = choose(v128.load(s), xw, i32x4.eq(a, i32x4.splat(tap)));
          }
          const g = v128.and(v128.load(dp + q), i32x4.ge_s(a, i32x4.splat(0)));
          sd = f32x4.add(sd, g);
          sx = madd(g, centre(xw, hi, lo), sx);
        }
      }
      v128.store(SD + o, sd);
      v128.store(SX + o, sx);
    }
  }
}

/** Backward step 2, coefficients: as batchnormBackwardCoefficients, for `blocks` blocks and M = B H W values per channel. */
export function bnReluMaxpoolCoefficients(partials: usize, C: i32, M: i32, blocks: i32, gamma: usize, invstd: usize, dgamma: usize, dbeta: usize, coefs: usize): void {
  const ld = 2 * C;
  for (let c = 0; c < C; c++) {
    let sumDy: f64 = 0;
    let sumDyX: f64 = 0;
    for (let b = 0; b < blocks; b++) {
      sumDy += <f64>load<f32>(at(partials, b * ld + c));
      sumDyX += <f64>load<f32>(at(partials, b * ld + C + c));
    }
    const inv = <f64>load<f32>(at(invstd, c));
    const sumDyXhat = sumDyX * inv;
    if (dgamma != 0) {
      store<f32>(at(dgamma, c), <f32>sumDyXhat);
      store<f32>(at(dbeta, c), <f32>sumDy);
    }
    store<f32>(at(coefs, c), <f32>(<f64>load<f32>(at(gamma, c)) * inv));
    store<f32>(at(coefs, C + c), <f32>(sumDy / <f64>M));
    store<f32>(at(coefs, 2 * C + c), <f32>((-inv * sumDyXhat) / <f64>M));
  }
}

/**
 * Backward step 2, rows [r0, r1) of dx (row r = n * H + iy): dz from the window holding each
 * position (windows that do not overlap, stride >= size), then batch norm's dx.
 */
export function bnReluMaxpoolBackwardApply(
  x: usize, dp: usize, argmax: usize, dx: usize, mean: usize, coefs: usize,
  H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  const meanLo = at(mean, C);
  const A = coefs;
  const dzMean = at(coefs, C);
  const negD = at(coefs, 2 * C);
  const ldc = <usize>C << 2;
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const iy = r - n * H;
    const oy = iy / stride;
    const ky = iy - oy * stride;
    const covered = oy < Ho && ky < size;
    const out = <usize>(((n * Ho + min(oy, Ho - 1)) * Wo) * C) << 2;
    let xp = at(x, r * W * C);
    let dxp = at(dx, r * W * C);
    for (let ix = 0; ix < W; ix++, xp += ldc, dxp += ldc) {
      const ox = ix / stride;
      const kx = ix - ox * stride;
      const inWindow = covered && ox < Wo && kx < size;
      const tap = i32x4.splat(inWindow ? ky * size + kx : -2);
      const q = out + <usize>min(ox, Wo - 1) * ldc;
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const dz = v128.and(v128.load(dp + q + o), i32x4.eq(v128.load(argmax + q + o), tap));
        const centred = centre(v128.load(xp + o), v128.load(mean + o), v128.load(meanLo + o));
        const g = f32x4.sub(dz, v128.load(dzMean + o));
        v128.store(dxp + o, f32x4.mul(v128.load(A + o), madd(centred, v128.load(negD + o), g)));
      }
    }
  }
}
