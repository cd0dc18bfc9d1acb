// Global average pooling (src/nn/layers/globalavgpool.ts): x (B, P, C) -> y (B, C), P = H * W.
//
//   forward    y[n, c] = (sum_p x[n, p, c]) / P      float32 sum in position order, one division
//   backward   dx[n, p, c] = dy[n, c] / P             (the reference's rounding exactly)
//
// Forward threads own jobs j = (n, group of 16 channels), so a small batch still gives every
// thread work; backward threads own rows (n, p) of dx.
import { at } from './simd.as';

/** Channels per forward job: four SIMD accumulators. */
const GROUP: i32 = 16;

export function globalavgpoolJobs(B: i32, C: i32): i32 {
  return B * ((C + GROUP - 1) / GROUP);
}

/** Forward jobs [j0, j1) of globalavgpoolJobs(B, C). */
export function globalavgpoolForward(x: usize, y: usize, P: i32, C: i32, j0: i32, j1: i32): void {
  const groups = (C + GROUP - 1) / GROUP;
  const ldc = <usize>C << 2;
  const vP = f32x4.splat(<f32>P);
  for (let j = j0; j < j1; j++) {
    const n = j / groups;
    const c0 = (j - n * groups) * GROUP;
    const c1 = min(C, c0 + GROUP);
    const first = at(x, n * P * C);
    const end = first + <usize>P * ldc;
    const out = at(y, n * C);
    let c = c0;
    if (c1 - c0 == GROUP) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let p = first + (<usize>c << 2); p < end; p += ldc) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        s2 = f32x4.add(s2, v128.load(p, 32));
        s3 = f32x4.add(s3, v128.load(p, 48));
      }
      const o = at(out, c);
      v128.store(o, f32x4.div(s0, vP));
      v128.store(o, f32x4.div(s1, vP), 16);
      v128.store(o, f32x4.div(s2, vP), 32);
      v128.store(o, f32x4.div(s3, vP), 48);
      continue;
    }
    for (; c + 4 <= c1; c += 4) {
      let s0 = f32x4.splat(0);
      for (let p = first + (<usize>c << 2); p < end; p += ldc) s0 = f32x4.add(s0, v128.load(p));
      v128.store(at(out, c), f32x4.div(s0, vP));
    }
    for (; c < c1; c++) {
      let s: f32 = 0;
      for (let p = first + (<usize>c << 2); p < end; p += ldc) s += load<f32>(p);
      store<f32>(at(out, c), s / <f32>P);
    }
  }
}

/** Rows [r0, r1) of dx, row r = n * P + p: the first row of each sample computed, the others copied from it. */
export function globalavgpoolBackward(dy: usize, dx: usize, P: i32, C: i32, r0: i32, r1: i32): void {
  const rowBytes = <usize>C << 2;
  const vP = f32x4.splat(<f32>P);
  let r = r0;
  while (r < r1) {
    const n = r / P;
    const last = min(r1, (n + 1) * P);
    const src = at(dy, n * C);
    const first = at(dx, r * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(at(first, c), f32x4.div(v128.load(at(src, c)), vP));
    for (; c < C; c++) store<f32>(at(first, c), load<f32>(at(src, c)) / <f32>P);
    for (let row = r + 1; row < last; row++) memory.copy(at(dx, row * C), first, rowBytes);
    r = last;
  }
}
