import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { CONV_STRUCT } from './conv-common.ts';

/**
 * Convolution forward, channels-last (src/nn/layers/conv.ts): one thread per output (n, oy, ox, f),
 * y = b[f] + sum over ky, kx, c of x[n, iy, ix, c] W[f, ky, kx, c], iy = oy stride - padTop + ky
 * (zero outside), summed in the reference's order.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * u32(L.Ho * L.Wo * L.F)) { return; }
  let f = i32(idx % u32(L.F));
  let pos = i32(idx / u32(L.F));
  let ox = pos % L.Wo;
  let oy = (pos / L.Wo) % L.Ho;
  let n = pos / (L.Wo * L.Ho);
  let K = L.k * L.k * L.C;
  var sum = 0.0;
  if (L.bOff != 0xffffffffu) { sum = params[L.bOff + u32(f)]; }
  for (var ky = 0; ky < L.k; ky++) {
    let iy = oy * L.stride - L.padTop + ky;
    if (iy < 0 || iy >= L.H) { continue; }
    for (var kx = 0; kx < L.k; kx++) {
      let ix = ox * L.stride - L.padLeft + kx;
      if (ix < 0 || ix >= L.W) { continue; }
      let xi = ((n * L.H + iy) * L.W + ix) * L.C;
      let wi = i32(L.wOff) + f * K + (ky * L.k + kx) * L.C;
      for (var c = 0; c < L.C; c++) { sum = sum + x[xi + c] * params[wi + c]; }
    }
  }
  y[idx] = sum;
}
`;
