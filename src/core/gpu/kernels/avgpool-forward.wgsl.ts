import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { POOL_STRUCT } from './pool-common.ts';

/** Average pooling forward (src/nn/layers/avgpool.ts): the window's sum in row-major order, times 1 / size^2. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${POOL_STRUCT}
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * u32(L.Ho * L.Wo * L.C)) { return; }
  let c = i32(idx % u32(L.C));
  let pos = i32(idx / u32(L.C));
  let ox = pos % L.Wo;
  let oy = (pos / L.Wo) % L.Ho;
  let n = pos / (L.Wo * L.Ho);
  var sum = 0.0;
  for (var ky = 0; ky < L.size; ky++) {
    for (var kx = 0; kx < L.size; kx++) { sum = sum + x[((n * L.H + oy * L.stride + ky) * L.W + ox * L.stride + kx) * L.C + c]; }
  }
  y[idx] = sum * (1.0 / f32(L.size * L.size));
}
`;
