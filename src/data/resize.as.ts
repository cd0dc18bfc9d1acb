// The two passes of the separable resize of src/data/resize.ts, in WebAssembly (AssemblyScript,
// compiled by src/tools/build.mjs to dist/data/resize.wasm). resize.ts computes the taps and lays
// out the buffers in this module's memory; this file only runs the loops.
//
// For each output row y (vertical pass first, so that the long loop runs along a contiguous row):
//   col[i] = sum_k vWeight[y][k] * src[vFirst[y] + k][i]            (i over the source columns used)
//   out[y][x][c] = clamp(floor(sum_k hWeight[x][k] * col[hFirst[x] + k][c] + 0.5), 0, 255)
// in float32, one multiply and one add per term in tap order (no fused multiply-add), so the SIMD
// lanes compute exactly what the scalar formula does, on every machine.

// @ts-ignore: decorator
@inline function byteToFloat4(p: usize): v128 {
  // Four bytes -> four float32 (u8 -> u16 -> i32 -> f32; signed conversion is exact for 0..255 and one x86 instruction).
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p))));
}

/** floor(v + 0.5) clamped to 0..255. */
// @ts-ignore: decorator
@inline function toByte(v: f32): u8 {
  const r = <i32>Mathf.floor(v + 0.5);
  return <u8>(r < 0 ? 0 : r > 255 ? 255 : r);
}

/**
 * src: (rows, srcRowBytes) u8; only bytes [from, to) of each row are read. vFirst/vCount (i32) and
 * vWeights (f32, vStride per row) give each output row's source rows; hFirst/hCount (i32, in pixels)
 * and hWeights (f32, hStride per column) each output column's source pixels, counted from `from`.
 * col: scratch of (to - from) + 4 f32 (the padding lets the RGB pass read one vector past the end).
 * Every col element read was written first in the same row: the first vertical tap stores. out: outRows rows of outColumns * channels bytes, outRowBytes apart.
 */
export function resizePasses(
  src: usize, srcRowBytes: i32, from: i32, to: i32, channels: i32,
  vFirst: usize, vCount: usize, vWeights: usize, vStride: i32, outRows: i32,
  hFirst: usize, hCount: usize, hWeights: usize, hStride: i32, outColumns: i32,
  col: usize, out: usize, outRowBytes: i32,
): void {
  const n = to - from;
  const n4 = n & ~3;
  const n16 = n & ~15;
  const half = f32x4.splat(0.5);
  const zero = i32x4.splat(0);
  const top = i32x4.splat(255);
  for (let y = 0; y < outRows; y++) {
    // Vertical pass into col.
    const first = load<i32>(vFirst + (<usize>y << 2));
    const count = load<i32>(vCount + (<usize>y << 2));
    const weights = vWeights + (<usize>(y * vStride) << 2);
    for (let k = 0; k < count; k++) {
      // The first tap stores w * x (= 0 + w * x exactly: both are non-negative), the others add.
      const w = load<f32>(weights + (<usize>k << 2));
      const wv = f32x4.splat(w);
      const row = src + <usize>((first + k) * srcRowBytes + from);
      const add = k > 0;
      let i = 0;
      for (; i < n16; i += 16) {
        // Sixteen bytes -> four vectors of four floats.
        const a = col + (<usize>i << 2);
        const b = v128.load(row + <usize>i);
        const lo = i16x8.extend_low_i8x16_u(b);
        const hi = i16x8.extend_high_i8x16_u(b);
        const t0 = f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(lo)));
        const t1 = f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(lo)));
        const t2 = f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(hi)));
        const t3 = f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(hi)));
        if (add) {
          v128.store(a, f32x4.add(v128.load(a), t0));
          v128.store(a + 16, f32x4.add(v128.load(a + 16), t1));
          v128.store(a + 32, f32x4.add(v128.load(a + 32), t2));
          v128.store(a + 48, f32x4.add(v128.load(a + 48), t3));
        } else {
          v128.store(a, t0);
          v128.store(a + 16, t1);
          v128.store(a + 32, t2);
          v128.store(a + 48, t3);
        }
      }
      for (; i < n4; i += 4) {
        const a = col + (<usize>i << 2);
        const t = f32x4.mul(wv, byteToFloat4(row + <usize>i));
        v128.store(a, add ? f32x4.add(v128.load(a), t) : t);
      }
      for (; i < n; i++) {
        const a = col + (<usize>i << 2);
        const t = w * <f32>load<u8>(row + <usize>i);
        store<f32>(a, add ? load<f32>(a) + t : t);
      }
    }
    // Horizontal pass from col into the output row. For RGB the three channels of a tap are one
    // vector (the fourth lane reads the next pixel, or the padding after col, and is ignored).
    const dst = out + <usize>(y * outRowBytes);
    for (let x = 0; x < outColumns; x++) {
      const start = load<i32>(hFirst + (<usize>x << 2));
      const taps = load<i32>(hCount + (<usize>x << 2));
      const hw = hWeights + (<usize>(x * hStride) << 2);
      if (channels == 3) {
        let sum = f32x4.splat(0);
        let p = col + (<usize>(start * 3) << 2);
        for (let k = 0; k < taps; k++) {
          sum = f32x4.add(sum, f32x4.mul(v128.load32_splat(hw + (<usize>k << 2)), v128.load(p)));
          p += 12;
        }
        // toByte on the lanes: floor(v + 0.5), clamped to 0..255.
        const level = i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.add(sum, half))), zero), top);
        const o = dst + <usize>(x * 3);
        store<u8>(o, <u8>i32x4.extract_lane(level, 0));
        store<u8>(o + 1, <u8>i32x4.extract_lane(level, 1));
        store<u8>(o + 2, <u8>i32x4.extract_lane(level, 2));
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let sum: f32 = 0;
        let p = col + (<usize>(start * channels + c) << 2);
        for (let k = 0; k < taps; k++) {
          sum += load<f32>(hw + (<usize>k << 2)) * load<f32>(p);
          p += <usize>channels << 2;
        }
        store<u8>(dst + <usize>(x * channels + c), toByte(sum));
      }
    }
  }
}
