// Average pooling's forward pass (src/nn/layers/avgpool.ts; the backward pass is pool.as.ts),
// x (B, H, W, C) -> y (B, Ho, Wo, C), channels four to a SIMD vector (the last C mod 4 one by one):
//
//   y[n, oy, ox, c] = (sum_{ky, kx} x[n, oy*stride + ky, ox*stride + kx, c]) / size^2
//
// float32 sums in row-major tap order from 0, times the float32 1 / size^2 (exact for 2x2 and 4x4;
// a division would cost as much as the rest); threads own rows (n, oy) of y.
import { at } from './simd.as';

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
