// Inverted dropout (src/nn/layers/dropout.ts) over the flat batch: element i = s * n + j of x
// (B, n). Whether i survives depends on (key, i) only (noise.as.ts), never on the thread that
// computes it, so any split of [0, B n) draws the same masks:
//
//   train      mask[i] = (noiseBits(key, i) >>> 8) >= dropThreshold(rate) ? scale : 0,
//              scale = fround(1 / (1 - rate));  y = x * mask
//   infer      y = x
//   backward   dx = dy * mask
//
// Four elements per SIMD step; the products are float32 multiplications, as the reference's.
import { at } from './simd.as';
import { dropThreshold, noiseBits, noiseBitsX4 } from './noise.as';

/** Elements [i0, i1) in training mode. */
export function dropoutForward(x: usize, y: usize, mask: usize, key: u32, rate: f64, i0: i32, i1: i32): void {
  const threshold = dropThreshold(rate);
  const scale = <f32>(1 / (1 - rate));
  const vThreshold = i32x4.splat(threshold);
  const vScale = f32x4.splat(scale);
  let index = i32x4(0, 1, 2, 3);
  index = i32x4.add(index, i32x4.splat(i0));
  const four = i32x4.splat(4);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const keep = i32x4.ge_s(i32x4.shr_u(noiseBitsX4(key, index), 8), vThreshold);
    const m = v128.and(vScale, keep);
    v128.store(at(mask, i), m);
    v128.store(at(y, i), f32x4.mul(v128.load(at(x, i)), m));
    index = i32x4.add(index, four);
  }
  for (; i < i1; i++) {
    const m: f32 = <i32>(noiseBits(key, <u32>i) >>> 8) >= threshold ? scale : 0;
    store<f32>(at(mask, i), m);
    store<f32>(at(y, i), load<f32>(at(x, i)) * m);
  }
}

/** Elements [i0, i1) in inference mode: a copy (none when y is x). */
export function dropoutInfer(x: usize, y: usize, i0: i32, i1: i32): void {
  if (x != y) memory.copy(at(y, i0), at(x, i0), <usize>(i1 - i0) << 2);
}

/** dx = dy * mask for elements [i0, i1). */
export function dropoutBackward(dy: usize, mask: usize, dx: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), v128.load(at(mask, i))));
  for (; i < i1; i++) store<f32>(at(dx, i), load<f32>(at(dy, i)) * load<f32>(at(mask, i)));
}
