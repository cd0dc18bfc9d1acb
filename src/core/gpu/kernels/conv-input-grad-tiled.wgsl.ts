import { STEP_STRUCT } from './common.ts';
import { CONV_STRUCT } from './conv-common.ts';

/** Input values (rows: samples x positions) and channels a workgroup computes. */
export const CONV_IGRAD_TILE_M = 64;
export const CONV_IGRAD_TILE_C = 64;
const TILE_K = 16;

/**
 * Convolution input gradient as an implicit matrix product over channels-last data:
 * dX[p, c] = sum over q of G[p, q] W[f, ky, kx, c], where p = (n, iy, ix) runs over B x H x W (dx's
 * row p is its values at p x C), q = (ky, kx, f) over k x k x F, and G[p, q] = dy[n, oy, ox, f] with
 * oy stride = iy + padTop - ky, ox stride = ix + padLeft - kx (whole, inside the output), else 0.
 * A workgroup of 16 x 16 threads computes a 64 x 64 tile, each thread 4 x 4; q is walked 16 at a
 * time, the slices of G (gathered from dy) and W staged in workgroup memory. Each value is one
 * thread's sum in increasing q, conv-input-grad's order (the skipped taps add exact zeros): no
 * atomics, the same bits every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

const TM = ${CONV_IGRAD_TILE_M}u;
const TC = ${CONV_IGRAD_TILE_C}u;
const TK = ${TILE_K}u;
var<workgroup> Gs: array<f32, ${TILE_K * CONV_IGRAD_TILE_M}>; // [TK][TM]
var<workgroup> Ws: array<f32, ${TILE_K * CONV_IGRAD_TILE_C}>; // [TK][TC]

/** G[p, q]: the output gradient that input row p received through tap q, or 0 where none did. */
fn gather(p: u32, q: u32) -> f32 {
  let f = i32(q % u32(L.F));
  let tap = i32(q / u32(L.F));
  let kx = tap % L.k;
  let ky = tap / L.k;
  let pos = i32(p);
  let ix = pos % L.W;
  let iy = (pos / L.W) % L.H;
  let n = pos / (L.W * L.H);
  let ty = iy + L.padTop - ky;
  let tx = ix + L.padLeft - kx;
  if (ty < 0 || tx < 0 || ty % L.stride != 0 || tx % L.stride != 0) { return 0.0; }
  let oy = ty / L.stride;
  let ox = tx / L.stride;
  if (oy >= L.Ho || ox >= L.Wo) { return 0.0; }
  return dy[((n * L.Ho + oy) * L.Wo + ox) * L.F + f];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let P = step.batch * u32(L.H * L.W);
  let C = u32(L.C);
  let K = u32(L.k * L.k * L.C);
  let Q = u32(L.k * L.k * L.F);
  let p0 = (wid.x + wid.y * nw.x) * TM;
  let c0 = wid.z * TC;
  var acc: array<f32, 16>;
  for (var q0 = 0u; q0 < Q; q0 += TK) {
    // 1,024 values of each slice, 4 per thread: G's along p, W's along c (contiguous).
    for (var r = 0u; r < 4u; r++) {
      let e = t + r * 256u;
      let pl = e % TM;
      let gl = e / TM;
      var g = 0.0;
      if (p0 + pl < P && q0 + gl < Q) { g = gather(p0 + pl, q0 + gl); }
      Gs[gl * TM + pl] = g;
      let cl = e % TC;
      let wl = e / TC;
      var w = 0.0;
      let q = q0 + wl;
      if (c0 + cl < C && q < Q) {
        let f = q % u32(L.F);
        let tap = q / u32(L.F);
        w = params[L.wOff + f * K + tap * C + c0 + cl];
      }
      Ws[wl * TC + cl] = w;
    }
    workgroupBarrier();
    for (var kl = 0u; kl < TK; kl++) {
      let g = vec4f(Gs[kl * TM + lid.y * 4u], Gs[kl * TM + lid.y * 4u + 1u], Gs[kl * TM + lid.y * 4u + 2u], Gs[kl * TM + lid.y * 4u + 3u]);
      let w = vec4f(Ws[kl * TC + lid.x * 4u], Ws[kl * TC + lid.x * 4u + 1u], Ws[kl * TC + lid.x * 4u + 2u], Ws[kl * TC + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = acc[i * 4u + j] + g[i] * w[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let p = p0 + lid.y * 4u + i;
    if (p >= P) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = c0 + lid.x * 4u + j;
      if (c < C) { dx[p * C + c] = acc[i * 4u + j]; }
    }
  }
}
`;
