// Max pooling (src/nn/layers/maxpool.ts), x (B, H, W, C) -> y (B, Ho, Wo, C), channels four to a
// SIMD vector (the last C mod 4 one by one).
//
//   forward    y = the largest x of the window, argmax = its tap ky * size + kx, the FIRST maximum
//              in row-major window order (a later tap wins only if strictly greater; NaN never wins,
//              an all-NaN window gives -Infinity and tap 0, as the reference)
//   backward   dx[n, iy, ix, c] = sum, over the windows holding (iy, ix) in (oy, ox) order, of
//              dy[n, oy, ox, c] where that window's argmax is this position (0 where none is)
//
// argmax is stored as an int32 per output value (in the float32 buffer the plan gives it). Forward
// threads own rows (n, oy) of y; backward threads own rows (n, iy) of dx. When windows do not
// overlap (stride >= size, the usual case), a dx value is 0 + dy of its window or 0; when they do,
// it is gathered from the windows that hold it (pool.as.ts), adding in the reference's order from
// 0. Either way dx is bit-identical to the reference's.
import { at } from './simd.as';
import { firstWindow, lastWindow } from './pool.as';

/** a where mask is set, else b (mask lanes all ones or all zeros, where the relaxed select is exact). */
// @ts-ignore: decorator
@inline function choose(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** Rows [r0, r1) of y, row r = n * Ho + oy; argmax = 0: inference, no argmax kept. */
export function maxpoolForward(
  x: usize, y: usize, argmax: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
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
          const v0 = v128.load(first), v1 = v128.load(first + ldc), v2 = v128.load(first + ldx), v3 = v128.load(first + ldx + ldc);
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
        let best = f32x4.splat(-Infinity);
        let best_tap = i32x4.splat(0);
        let tap = 0;
        for (let ky = 0; ky < size; ky++) {
          let p = first + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, tap++, p += ldc) {
            const v = v128.load(p);
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
        let best: f32 = -Infinity;
        let best_tap = 0;
        let tap = 0;
        for (let ky = 0; ky < size; ky++) {
          let p = first + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, tap++, p += ldc) {
            const v = load<f32>(p);
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

/** Rows [r0, r1) of dx, row r = n * H + iy. */
export function maxpoolBackward(
  dy: usize, argmax: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  if (stride >= size) disjointBackward(dy, argmax, dx, H, W, C, Ho, Wo, size, stride, r0, r1);
  else overlappingBackward(dy, argmax, dx, H, W, C, Ho, Wo, size, stride, r0, r1);
}

/**
 * Windows that do not overlap: each dx value is in one window at most, at a tap known from its
 * position, so a row is written window by window without searching (0 + dy, as the general sum).
 */
function disjointBackward(
  dy: usize, argmax: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  const ldc = <usize>C << 2;
  const zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const iy = r - n * H;
    const oy = iy / stride;
    const ky = iy - oy * stride;
    let dxp = at(dx, r * W * C);
    if (oy >= Ho || ky >= size) {
      memory.fill(dxp, 0, <usize>W * ldc);
      continue;
    }
    const out = at(0, ((n * Ho + oy) * Wo) * C);
    let ix = 0;
    for (let ox = 0; ox < Wo; ox++) {
      const d = dy + out + <usize>ox * ldc;
      const a = argmax + out + <usize>ox * ldc;
      for (let kx = 0; kx < size; kx++, ix++, dxp += ldc) {
        const tap = ky * size + kx;
        const vTap = i32x4.splat(tap);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const o = <usize>c << 2;
          v128.store(dxp + o, f32x4.add(zero, v128.and(v128.load(d + o), i32x4.eq(v128.load(a + o), vTap))));
        }
        for (; c < C; c++) {
          const o = <usize>c << 2;
          store<f32>(dxp + o, load<i32>(a + o) == tap ? <f32>0 + load<f32>(d + o) : 0);
        }
      }
      // Columns no window holds: the gap before the next window, or the rest of the row.
      const next = ox + 1 < Wo ? (ox + 1) * stride : W;
      if (ix < next) {
        memory.fill(dxp, 0, <usize>(next - ix) * ldc);
        dxp += <usize>(next - ix) * ldc;
        ix = next;
      }
    }
  }
}

/** Overlapping windows (stride < size): each dx value gathered from the windows that hold it. */
function overlappingBackward(
  dy: usize, argmax: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  const ldc = <usize>C << 2;
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
    for (let ix = 0; ix < W; ix++, dxp += ldc) {
      const ox0 = firstWindow(ix, size, stride);
      const ox1 = lastWindow(ix, stride, Wo);
      if (ox0 > ox1) {
        memory.fill(dxp, 0, ldc);
        continue;
      }
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        let sum = f32x4.splat(0);
        for (let oy = oy0; oy <= oy1; oy++) {
          const ky = iy - oy * stride;
          const row = ((n * Ho + oy) * Wo) * C + c;
          for (let ox = ox0; ox <= ox1; ox++) {
            const o = <usize>(row + ox * C) << 2;
            const won = i32x4.eq(v128.load(argmax + o), i32x4.splat(ky * size + ix - ox * stride));
            sum = f32x4.add(sum, v128.and(v128.load(dy + o), won));
          }
        }
        v128.store(dxp + (<usize>c << 2), sum);
      }
      for (; c < C; c++) {
        let sum: f32 = 0;
        for (let oy = oy0; oy <= oy1; oy++) {
          const ky = iy - oy * stride;
          const row = ((n * Ho + oy) * Wo) * C + c;
          for (let ox = ox0; ox <= ox1; ox++) {
            const o = <usize>(row + ox * C) << 2;
            if (load<i32>(argmax + o) == ky * size + ix - ox * stride) sum += load<f32>(dy + o);
          }
        }
        store<f32>(dxp + (<usize>c << 2), sum);
      }
    }
  }
}
