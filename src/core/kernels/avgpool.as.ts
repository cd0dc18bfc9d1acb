// Average pooling (src/nn/layers/avgpool.ts), x (B, H, W, C) -> y (B, Ho, Wo, C), channels four to
// a SIMD vector (the last C mod 4 one by one). float32 sums in row-major tap order, times the
// float32 1 / size^2 (exact for 2x2 and 4x4; a division would cost as much as the rest):
//
//   forward    y[n, oy, ox, c] = (sum_{ky, kx} x[n, oy*stride + ky, ox*stride + kx, c]) / size^2
//   backward   dx[n, iy, ix, c] = (sum of dy[n, oy, ox, c] over the windows holding (iy, ix)) / size^2
//
// Forward threads own rows (n, oy) of y; backward threads own rows (n, iy) of dx. Windows that do
// not overlap (stride >= size) give each dx value one dy or none; overlapping ones are gathered
// from the windows that hold each position (pool.as.ts), in (oy, ox) order.
import { at } from './simd.as';
import { firstWindow, lastWindow } from './pool.as';

/** Rows [r0, r1) of y, row r = n * Ho + oy. */
export function avgpoolForward(
  x: usize, y: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  const ldx = <usize>(W * C) << 2;
  const step = <usize>(stride * C) << 2;
  const ldc = <usize>C << 2;
  const scale = <f32>(1 / <f64>(size * size));
  const vScale = f32x4.splat(scale);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho;
    const oy = r - n * Ho;
    let window = at(x, (n * H + oy * stride) * W * C);
    const yr = at(y, r * Wo * C);
    for (let ox = 0; ox < Wo; ox++, window += step) {
      const out = yr + (<usize>(ox * C) << 2);
      let c = 0;
      if (size == 2) {
        // The usual window, without the tap loops (the same sum, in the same order).
        for (; c + 4 <= C; c += 4) {
          const first = window + (<usize>c << 2);
          let sum = f32x4.add(f32x4.splat(0), v128.load(first));
          sum = f32x4.add(f32x4.add(f32x4.add(sum, v128.load(first + ldc)), v128.load(first + ldx)), v128.load(first + ldx + ldc));
          v128.store(out + (<usize>c << 2), f32x4.mul(sum, vScale));
        }
      }
      for (; c + 4 <= C; c += 4) {
        const first = window + (<usize>c << 2);
        let sum = f32x4.splat(0);
        for (let ky = 0; ky < size; ky++) {
          let p = first + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, p += ldc) sum = f32x4.add(sum, v128.load(p));
        }
        v128.store(out + (<usize>c << 2), f32x4.mul(sum, vScale));
      }
      for (; c < C; c++) {
        const first = window + (<usize>c << 2);
        let sum: f32 = 0;
        for (let ky = 0; ky < size; ky++) {
          let p = first + <usize>ky * ldx;
          for (let kx = 0; kx < size; kx++, p += ldc) sum += load<f32>(p);
        }
        store<f32>(out + (<usize>c << 2), sum * scale);
      }
    }
  }
}

/** Rows [r0, r1) of dx, row r = n * H + iy. */
export function avgpoolBackward(
  dy: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32,
): void {
  if (stride >= size) disjointBackward(dy, dx, H, W, C, Ho, Wo, size, stride, r0, r1);
  else overlappingBackward(dy, dx, H, W, C, Ho, Wo, size, stride, r0, r1);
}

/** Windows that do not overlap: a row is written window by window, dx = dy / size^2 or 0. */
function disjointBackward(dy: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32): void {
  const ldc = <usize>C << 2;
  const scale = <f32>(1 / <f64>(size * size));
  const vScale = f32x4.splat(scale);
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const iy = r - n * H;
    const oy = iy / stride;
    let dxp = at(dx, r * W * C);
    if (oy >= Ho || iy - oy * stride >= size) {
      memory.fill(dxp, 0, <usize>W * ldc);
      continue;
    }
    const out = at(dy, ((n * Ho + oy) * Wo) * C);
    let ix = 0;
    for (let ox = 0; ox < Wo; ox++) {
      const d = out + <usize>ox * ldc;
      for (let kx = 0; kx < size; kx++, ix++, dxp += ldc) {
        let c = 0;
        for (; c + 4 <= C; c += 4) v128.store(dxp + (<usize>c << 2), f32x4.mul(v128.load(d + (<usize>c << 2)), vScale));
        for (; c < C; c++) store<f32>(dxp + (<usize>c << 2), load<f32>(d + (<usize>c << 2)) * scale);
      }
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
function overlappingBackward(dy: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, r0: i32, r1: i32): void {
  const ldc = <usize>C << 2;
  const scale = <f32>(1 / <f64>(size * size));
  const vScale = f32x4.splat(scale);
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
          let p = at(dy, ((n * Ho + oy) * Wo + ox0) * C + c);
          for (let ox = ox0; ox <= ox1; ox++, p += ldc) sum = f32x4.add(sum, v128.load(p));
        }
        v128.store(dxp + (<usize>c << 2), f32x4.mul(sum, vScale));
      }
      for (; c < C; c++) {
        let sum: f32 = 0;
        for (let oy = oy0; oy <= oy1; oy++) {
          let p = at(dy, ((n * Ho + oy) * Wo + ox0) * C + c);
          for (let ox = ox0; ox <= ox1; ox++, p += ldc) sum += load<f32>(p);
        }
        store<f32>(dxp + (<usize>c << 2), sum * scale);
      }
    }
  }
}
