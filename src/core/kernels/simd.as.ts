// Small SIMD helpers shared by the kernels (AssemblyScript, compiled to WebAssembly by build.mjs).
//
// Two builds come from the same source: with `--enable relaxed-simd` the multiply-add is fused
// (f32x4.relaxed_madd, one rounding, compiled to vfmadd on x86) and a lane select is one blend,
// without it they are a multiply then an add, and three bitwise operations. ASC_FEATURE_RELAXED_SIMD
// is a compile-time constant, so each build keeps one branch.

/** a * b + c on four float32 lanes. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** a where mask is set, else b: mask lanes all ones or all zeros (a comparison), where the relaxed select is exact. */
// @ts-ignore: decorator
@inline export function choose(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** (v0 + v1) + (v2 + v3): the one horizontal sum every kernel uses, so that sums agree everywhere. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Byte address of float element i of the array at `base`. */
// @ts-ignore: decorator
@inline export function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Copies `rows` rows of n floats (source rows ldSrc floats apart) into rows ldDst floats apart. */
export function packRows(src: usize, ldSrc: i32, rows: i32, n: i32, dst: usize, ldDst: i32): void {
  const bytes = <usize>n << 2;
  for (let r = 0; r < rows; r++) memory.copy(at(dst, r * ldDst), at(src, r * ldSrc), bytes);
}
