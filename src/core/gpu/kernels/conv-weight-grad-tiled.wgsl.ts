import { STEP_STRUCT } from './common.ts';
import { CONV_GATHER, CONV_STRUCT } from './conv-common.ts';

/** Filters and weight columns (kk, and the bias) a workgroup computes. */
export const CONV_WGRAD_TILE = 64;
/** Rows of m a workgroup takes at a time (a split's rows are a multiple of it). */
export const CONV_WGRAD_TILE_M = 16;
const TILE_M = CONV_WGRAD_TILE_M;

/**
 * Convolution parameter gradients as an implicit matrix product over channels-last data:
 * dW[f, kk] = sum over m of dY[m, f] A[m, kk] (m = (n, oy, ox), kk = (ky, kx, c); A gathered from x
 * as in conv-forward-tiled.wgsl.ts, zero in the padding), and the bias as one more column of A that
 * is all ones: db[f] = sum over m of dY[m, f]. A workgroup of 16 x 16 threads computes a 64 x 64
 * tile (filters x columns), each thread 4 x 4; m is walked 16 at a time, the slices of dY and A
 * staged in workgroup memory. Each value is one thread's sum in increasing m, conv-weight-grad's
 * order (the padding's zeros add exact zeros): no atomics, the same bits every run.
 *
 * Split (ROWS > 0): the sum over m is too long for one workgroup when the filters and columns make
 * few tiles (a first layer: 32 filters x 28 columns is one tile over B x 64 x 64 rows). Workgroup z
 * then sums rows [z ROWS, (z + 1) ROWS) into partials[z][f][column], and conv-weight-grad-sum adds
 * the splits in order, z = 0, 1, ...: still a fixed order, the same bits every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

/** Rows of m per split (workgroup z), a multiple of TM; 0: all rows, written straight to grads. */
override ROWS: u32 = 0u;
const T = ${CONV_WGRAD_TILE}u;
const TM = ${TILE_M}u;
var<workgroup> Ds: array<f32, ${TILE_M * CONV_WGRAD_TILE}>; // [TM][T]: dY[m, f]
var<workgroup> As: array<f32, ${TILE_M * CONV_WGRAD_TILE}>; // [TM][T]: A[m, kk]

${CONV_GATHER}
/** A's column kk, with one more column of ones at kk = K for the bias. */
fn gatherWithBias(m: u32, kk: u32, K: u32) -> f32 {
  if (kk == K) { return 1.0; }
  return gather(m, kk);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let M = step.batch * u32(L.Ho * L.Wo);
  let F = u32(L.F);
  let K = u32(L.k * L.k * L.C);
  var columns = K;
  if (L.bOff != 0xffffffffu) { columns = K + 1u; }
  let f0 = wid.x * T;
  let c0 = wid.y * T;
  var mFirst = 0u;
  var mEnd = M;
  if (ROWS > 0u) {
    mFirst = min(M, wid.z * ROWS);
    mEnd = min(M, mFirst + ROWS);
  }
  var acc: array<f32, 16>;
  for (var m0 = mFirst; m0 < mEnd; m0 += TM) {
    // 1,024 values of each slice, 4 per thread, along f and kk (neighbouring values).
    for (var r = 0u; r < 4u; r++) {
      let e = t + r * 256u;
      let col = e % T;
      let ml = e / T;
      var d = 0.0;
      var a = 0.0;
      if (m0 + ml < mEnd) {
        if (f0 + col < F) { d = dy[(m0 + ml) * F + f0 + col]; }
        if (c0 + col < columns) { a = gatherWithBias(m0 + ml, c0 + col, K); }
      }
      Ds[ml * T + col] = d;
      As[ml * T + col] = a;
    }
    workgroupBarrier();
    for (var ml = 0u; ml < TM; ml++) {
      let d = vec4f(Ds[ml * T + lid.y * 4u], Ds[ml * T + lid.y * 4u + 1u], Ds[ml * T + lid.y * 4u + 2u], Ds[ml * T + lid.y * 4u + 3u]);
      let a = vec4f(As[ml * T + lid.x * 4u], As[ml * T + lid.x * 4u + 1u], As[ml * T + lid.x * 4u + 2u], As[ml * T + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = acc[i * 4u + j] + d[i] * a[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let f = f0 + lid.y * 4u + i;
    if (f >= F) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = c0 + lid.x * 4u + j;
      if (ROWS > 0u) {
        if (col < columns) { partials[(wid.z * F + f) * columns + col] = acc[i * 4u + j]; }
      } else if (col < K) { grads[L.wOff + f * K + col] = acc[i * 4u + j]; }
      else if (col == K && columns > K) { grads[L.bOff + f] = acc[i * 4u + j]; }
    }
  }
}
`;
