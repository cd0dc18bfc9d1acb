// The backward pass of max and average pooling (valid windows, no padding, as src/nn/layers/pool.ts),
// shared because both route dy through the same windows: threads own rows (n, iy) of dx, and each
// dx value is gathered from the windows that hold it, so overlapping windows never make two threads
// add into the same value. Channels four to a SIMD vector, the last C mod 4 one by one.
//
//   max        dx[n, iy, ix, c] = 0 + sum, over the windows holding (iy, ix) in (oy, ox) order, of
//              dy[n, oy, ox, c] where that window's argmax (an int32 tap ky * size + kx, maxpool.as.ts)
//              is this position: the reference's sum in its order, so dx is bit-identical to it
//   average    dx[n, iy, ix, c] = (0 + sum of dy[n, oy, ox, c] over those windows) * (1 / size^2)
//
// Max pooling after a ReLU folded into the layer before it (src/core/layers/fusion.ts) applies the
// ReLU's derivative too: a window's share goes through only where its output y > 0. The window's y
// is relu(z) of its winner, so that is where the ReLU's input z was positive, and every window a
// position wins has the same y: the sum is the unfused one, gated as the ReLU's backward pass
// gates it, bit for bit.
//
// Output o covers inputs o * stride + [0, size), so input i lies in the windows
// ceil((i - size + 1) / stride) <= o <= floor(i / stride), clipped to [0, nOut). Windows that do not
// overlap (stride >= size, the usual case) hold a position once at most, at a tap known from its
// place: such rows are written window by window without searching.
import { at } from './simd.as';

/** First window holding input i. */
// @ts-ignore: decorator
@inline function firstWindow(i: i32, size: i32, stride: i32): i32 {
  return i < size ? 0 : (i - size) / stride + 1;
}

/** Last window holding input i; less than firstWindow when none does (a gap, or past the last window). */
// @ts-ignore: decorator
@inline function lastWindow(i: i32, stride: i32, nOut: i32): i32 {
  return min(nOut - 1, i / stride);
}

/**
 * What window (at `o`, bytes into dy, argmax and y) gives the dx value at `tap`: all of dy
 * (average) or dy where it won (max), and with `gated` only where the window's y > 0.
 */
// @ts-ignore: decorator
@inline function share4(dy: usize, argmax: usize, y: usize, o: usize, tap: i32, gated: bool): v128 {
  const d = v128.load(dy + o);
  if (argmax == 0) return d;
  const won = v128.and(d, i32x4.eq(v128.load(argmax + o), i32x4.splat(tap)));
  return gated ? v128.and(won, f32x4.gt(v128.load(y + o), f32x4.splat(0))) : won;
}

// @ts-ignore: decorator
@inline function share1(dy: usize, argmax: usize, y: usize, o: usize, tap: i32, gated: bool): f32 {
  if (argmax != 0 && load<i32>(argmax + o) != tap) return 0;
  return !gated || load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0;
}

/**
 * Rows [r0, r1) of dx, row r = n * H + iy. argmax: max pooling's saved taps, or 0 for average
 * pooling.
 */
export function poolBackward(
  dy: usize, argmax: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  backwardRows(dy, argmax, 0, dx, H, W, C, Ho, Wo, size, stride, r0, r1, false);
}

/** Max pooling after a folded ReLU: as poolBackward, each window's share gated by its output y > 0. */
export function maxpoolBackwardGated(
  dy: usize, argmax: usize, y: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  backwardRows(dy, argmax, y, dx, H, W, C, Ho, Wo, size, stride, r0, r1, true);
}

// @ts-ignore: decorator
@inline function backwardRows(
  dy: usize, argmax: usize, y: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32, gated: bool,
): void {
  const ldc = <usize>C << 2;
  const scale: f32 = argmax == 0 ? <f32>(1 / <f64>(size * size)) : 1;
  const vScale = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const iy = r - n * H;
    const oy0 = firstWindow(iy, size, stride);
    const oy1 = lastWindow(iy, stride, Ho);
    let dxp = at(dx, r * W * C);
    if (oy0 > oy1) {
      memory.fill(dxp, 0, <usize>W * ldc);
      continue;
    }
    if (stride >= size) {
      // One window row: write it window by window, then the columns no window holds.
      const ky = iy - oy0 * stride;
      const row = <usize>((n * Ho + oy0) * Wo) * ldc;
      let ix = 0;
      for (let ox = 0; ox < Wo; ox++) {
        const q = row + <usize>ox * ldc;
        for (let kx = 0; kx < size; kx++, ix++, dxp += ldc) {
          const tap = ky * size + kx;
          let o: usize = 0;
          for (; o + 16 <= ldc; o += 16) v128.store(dxp + o, f32x4.mul(f32x4.add(zero, share4(dy, argmax, y, q + o, tap, gated)), vScale));
          for (; o < ldc; o += 4) store<f32>(dxp + o, (<f32>0 + share1(dy, argmax, y, q + o, tap, gated)) * scale);
        }
        const next = ox + 1 < Wo ? (ox + 1) * stride : W;
        if (ix < next) {
          memory.fill(dxp, 0, <usize>(next - ix) * ldc);
          dxp += <usize>(next - ix) * ldc;
          ix = next;
        }
      }
      continue;
    }
    for (let ix = 0; ix < W; ix++, dxp += ldc) {
      const ox0 = firstWindow(ix, size, stride);
      const ox1 = lastWindow(ix, stride, Wo);
      if (ox0 > ox1) {
        memory.fill(dxp, 0, ldc);
        continue;
      }
      let o: usize = 0;
      for (; o + 16 <= ldc; o += 16) {
        let sum = zero;
        for (let oy = oy0; oy <= oy1; oy++) {
          const ky = iy - oy * stride;
          for (let ox = ox0; ox <= ox1; ox++) {
            sum = f32x4.add(sum, share4(dy, argmax, y, (<usize>((n * Ho + oy) * Wo + ox) * ldc) + o, ky * size + ix - ox * stride, gated));
          }
        }
        v128.store(dxp + o, f32x4.mul(sum, vScale));
      }
      for (; o < ldc; o += 4) {
        let sum: f32 = 0;
        for (let oy = oy0; oy <= oy1; oy++) {
          const ky = iy - oy * stride;
          for (let ox = ox0; ox <= ox1; ox++) {
            sum += share1(dy, argmax, y, (<usize>((n * Ho + oy) * Wo + ox) * ldc) + o, ky * size + ix - ox * stride, gated);
          }
        }
        store<f32>(dxp + o, sum * scale);
      }
    }
  }
}
