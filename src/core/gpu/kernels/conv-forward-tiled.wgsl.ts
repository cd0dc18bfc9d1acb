import { STEP_STRUCT } from './common.ts';
import { CONV_GATHER, CONV_STRUCT } from './conv-common.ts';

/** Outputs (rows: samples x positions) and filters a workgroup computes, and the depth of one step along K. */
export const CONV_TILE_M = 64;
export const CONV_TILE_F = 64;
const TILE_K = 16;

/**
 * Convolution forward as an implicit matrix product over channels-last data (no im2col buffer):
 * Y[m, f] = b[f] + sum over kk of A[m, kk] W[f, kk], where m = (n, oy, ox) runs over B x Ho x Wo
 * (Y's row m is y's values at m x F), kk = (ky, kx, c) over K = k x k x C (W's layout), and
 * A[m, kk] = x[n, oy stride - padTop + ky, ox stride - padLeft + kx, c], zero outside the image.
 * A workgroup of 16 x 16 threads computes a 64 x 64 tile of Y, each thread 4 x 4 outputs; K is
 * walked 16 at a time, the slices of A (gathered from x) and W staged in workgroup memory. Each
 * output is summed by one thread from b[f] in increasing kk, as conv-forward.wgsl.ts does (the
 * padding's zeros add exact zeros): no atomics, the same order every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TM = ${CONV_TILE_M}u;
const TF = ${CONV_TILE_F}u;
const TK = ${TILE_K}u;
var<workgroup> As: array<f32, ${TILE_K * CONV_TILE_M}>; // [TK][TM]
var<workgroup> Ws: array<f32, ${TILE_K * CONV_TILE_F}>; // [TK][TF]

${CONV_GATHER}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let M = step.batch * u32(L.Ho * L.Wo);
  let F = u32(L.F);
  let K = u32(L.k * L.k * L.C);
  let m0 = (wid.x + wid.y * nw.x) * TM;
  let f0 = wid.z * TF;
  var acc: array<f32, 16>;
  for (var j = 0u; j < 4u; j++) {
    let f = f0 + lid.x * 4u + j;
    var b = 0.0;
    if (L.bOff != 0xffffffffu && f < F) { b = params[L.bOff + f]; }
    for (var i = 0u; i < 4u; i++) { acc[i * 4u + j] = b; }
  }
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // 1,024 values of each slice, 4 per thread: A's along m (neighbouring outputs), W's along kk (contiguous).
    for (var r = 0u; r < 4u; r++) {
      let e = t + r * 256u;
      let ml = e % TM;
      let kl = e / TM;
      var a = 0.0;
      if (m0 + ml < M && k0 + kl < K) { a = gather(m0 + ml, k0 + kl); }
      As[kl * TM + ml] = a;
      let wk = e % TK;
      let wf = e / TK;
      var w = 0.0;
      if (f0 + wf < F && k0 + wk < K) { w = params[L.wOff + (f0 + wf) * K + k0 + wk]; }
      Ws[wk * TF + wf] = w;
    }
    workgroupBarrier();
    for (var kl = 0u; kl < TK; kl++) {
      let a = vec4f(As[kl * TM + lid.y * 4u], As[kl * TM + lid.y * 4u + 1u], As[kl * TM + lid.y * 4u + 2u], As[kl * TM + lid.y * 4u + 3u]);
      let w = vec4f(Ws[kl * TF + lid.x * 4u], Ws[kl * TF + lid.x * 4u + 1u], Ws[kl * TF + lid.x * 4u + 2u], Ws[kl * TF + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = acc[i * 4u + j] + a[i] * w[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let f = f0 + lid.x * 4u + j;
      if (f < F) { y[m * F + f] = acc[i * 4u + j]; }
    }
  }
}
`;
