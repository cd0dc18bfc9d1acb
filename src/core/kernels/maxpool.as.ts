// Max pooling's forward pass (src/nn/layers/maxpool.ts; the backward pass is pool.as.ts),
// x (B, H, W, C) -> y (B, Ho, Wo, C), channels four to a SIMD vector (the last C mod 4 one by one):
//
//   y = the largest x of the window, argmax = its tap ky * size + kx, the FIRST maximum in
//   row-major window order (a later tap wins only if strictly greater; NaN never wins, an all-NaN
//   window gives -Infinity and tap 0, as the reference)
//
// argmax is stored as an int32 per output value (in the float32 buffer the plan gives it); threads
// own rows (n, oy) of y.
//
// With a batch norm and a ReLU before it folded in (src/core/layers/fusion.ts), x is the batch
// norm's input and every tap is taken as relu((x - centre) scale + shift), computed exactly as
// batchnorm.as.ts's normalizeRows computes it: the same y and argmax as the three passes apart, and
// the ReLU's output is never written.
import { at, choose, madd } from './simd.as';

/** Rows [r0, r1) of y, row r = n * Ho + oy; argmax = 0: inference, no argmax kept. */
export function maxpoolForward(
  x: usize, y: usize, argmax: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  poolRows(x, y, argmax, H, W, C, Ho, Wo, size, stride, r0, r1, 0, 0, 0, false);
}

/** The same over relu((x - centre) scale + shift): a batch norm's rows with its ReLU (per-channel centre, scale, shift: C floats each). */
export function maxpoolForwardBatchnormRelu(
  x: usize, y: usize, argmax: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
  centre: usize, scale: usize, shift: usize,
): void {
  poolRows(x, y, argmax, H, W, C, Ho, Wo, size, stride, r0, r1, centre, scale, shift, true);
}

/** Four channels of a tap: x, or relu((x - centre) scale + shift) with the channels' constants. */
// @ts-ignore: decorator
@inline function tap4(p: usize, normalize: bool, centre: v128, scale: v128, shift: v128): v128 {
  const v = v128.load(p);
  if (!normalize) return v;
  const z = madd(f32x4.sub(v, centre), scale, shift);
  return v128.and(z, f32x4.gt(z, f32x4.splat(0)));
}

/** One channel of a tap, as tap4 (the scalar form of normalizeRows). */
// @ts-ignore: decorator
@inline function tap1(p: usize, normalize: bool, centre: f32, scale: f32, shift: f32): f32 {
  const v = load<f32>(p);
  if (!normalize) return v;
  const z = (v - centre) * scale + shift;
  return z > 0 ? z : 0;
}

// @ts-ignore: decorator
@inline function poolRows(
  x: usize, y: usize, argmax: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
  centre: usize, scale: usize, shift: usize, normalize: bool,
): void {
  const zero = f32x4.splat(0);
  const ldx = <usize>(W * C) << 2; // bytes from one input row to the next
  const step = <usize>(stride * C) << 2; // from one window to the next along x
  const ldc = <usize>C << 2; // from one input column to the next
  for (let r = r0; r < r1; r++) {
    const n = r / Ho;
    const oy = r - n * Ho;
    let window = at(x, (n * H + oy * stride) * W * C);
    const yr = at(y, r * Wo * C);
    const ar = at(argmax, r * Wo * C);
    for (let ox = 0; ox < Wo; ox++, window += step) {
      const out = <usize>(ox * C) << 2;
      let c = 0;
      if (size == 2) {
        // The usual window, without the tap loops: taps 0, 1, 2, 3 in row-major order.
        for (; c + 4 <= C; c += 4) {
          const first = window + (<usize>c << 2);
          const o = <usize>c << 2;
          const k = normalize ? v128.load(centre + o) : zero, a = normalize ? v128.load(scale + o) : zero, b = normalize ? v128.load(shift + o) : zero;
          const v0 = tap4(first, normalize, k, a, b), v1 = tap4(first + ldc, normalize, k, a, b);
          const v2 = tap4(first + ldx, normalize, k, a, b), v3 = tap4(first + ldx + ldc, normalize, k, a, b);
          let best = f32x4.pmax(f32x4.splat(-Infinity), v0);
          let wins = f32x4.gt(v1, best);
          best = f32x4.pmax(best, v1);
          let best_tap = v128.and(i32x4.splat(1), wins);
          wins = f32x4.gt(v2, best);
          best = f32x4.pmax(best, v2);
          best_tap = choose(i32x4.splat(2), best_tap, wins);
          wins = f32x4.gt(v3, best);
          best = f32x4.pmax(best, v3);
          best_tap = choose(i32x4.splat(3), best_tap, wins);
          v128.store(yr + out + (<usize>c << 2), best);
          if (argmax != 0) v128.store(ar + out + (<usize>c << 2), best_tap);
        }
      }
      for (; c + 4 <= C; c += 4) {
        const first = window + (<usize>c << 2);
        const o = <usize>c << 2;
        const k = normalize ? v128.load(centre + o) : zero, a = normalize ? v128.load(scale + o) : zero, b = normalize ? v128.load(shift + o) : zero;
        let best = f32x4.splat(-Infinity);
        let best_tap = i32x4.splat(0);
        let tap = 0;
        for (let ky = 0; ky < size; ky++) {
          let p = first + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, tap++, p += ldc) {
            const v = tap4(p, normalize, k, a, b);
            const wins = f32x4.gt(v, best);
            best = f32x4.pmax(best, v); // best < v ? v : best
            best_tap = choose(i32x4.splat(tap), best_tap, wins);
          }
        }
        v128.store(yr + out + (<usize>c << 2), best);
        if (argmax != 0) v128.store(ar + out + (<usize>c << 2), best_tap);
      }
      for (; c < C; c++) {
        const first = window + (<usize>c << 2);
        const o = <usize>c << 2;
        const k: f32 = normalize ? load<f32>(centre + o) : 0, a: f32 = normalize ? load<f32>(scale + o) : 0, b: f32 = normalize ? load<f32>(shift + o) : 0;
        let best: f32 = -Infinity;
        let best_tap = 0;
        let tap = 0;
        for (let ky = 0; ky < size; ky++) {
          let p = first + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, tap++, p += ldc) {
            const v = tap1(p, normalize, k, a, b);
            if (v > best) {
              best = v;
              best_tap = tap;
            }
          }
        }
        store<f32>(yr + out + (<usize>c << 2), best);
        if (argmax != 0) store<i32>(ar + out + (<usize>c << 2), best_tap);
      }
    }
  }
}
