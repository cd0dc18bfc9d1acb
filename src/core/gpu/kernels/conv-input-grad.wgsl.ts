import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { CONV_STRUCT } from './conv-common.ts';

/**
 * Convolution input gradient: one thread per input value (n, iy, ix, c), the sum over the outputs
 * that saw it, dx = sum over ky, kx, f of dy[n, oy, ox, f] W[f, ky, kx, c] with oy stride = iy +
 * padTop - ky (whole, inside the output).
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * u32(L.H * L.W * L.C)) { return; }
  let c = i32(idx % u32(L.C));
  let pos = i32(idx / u32(L.C));
  let ix = pos % L.W;
  let iy = (pos / L.W) % L.H;
  let n = pos / (L.W * L.H);
  let K = L.k * L.k * L.C;
  var sum = 0.0;
  for (var ky = 0; ky < L.k; ky++) {
    let ty = iy + L.padTop - ky;
    if (ty < 0 || ty % L.stride != 0) { continue; }
    let oy = ty / L.stride;
    if (oy >= L.Ho) { continue; }
    for (var kx = 0; kx < L.k; kx++) {
      let tx = ix + L.padLeft - kx;
      if (tx < 0 || tx % L.stride != 0) { continue; }
      let ox = tx / L.stride;
      if (ox >= L.Wo) { continue; }
      let o = ((n * L.Ho + oy) * L.Wo + ox) * L.F;
      let w = i32(L.wOff) + (ky * L.k + kx) * L.C + c;
      for (var f = 0; f < L.F; f++) { sum = sum + dy[o + f] * params[w + f * K]; }
    }
  }
  dx[idx] = sum;
}
`;
