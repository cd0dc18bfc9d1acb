import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { POOL_STRUCT } from './pool-common.ts';

/** Average pooling backward: one thread per input value, the sum over the windows holding it of dy / size^2. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${POOL_STRUCT}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * u32(L.H * L.W * L.C)) { return; }
  let c = i32(idx % u32(L.C));
  let pos = i32(idx / u32(L.C));
  let ix = pos % L.W;
  let iy = (pos / L.W) % L.H;
  let n = pos / (L.W * L.H);
  let scale = 1.0 / f32(L.size * L.size);
  var sum = 0.0;
  for (var oy = max(0, (iy - L.size + L.stride) / L.stride); oy < L.Ho && oy * L.stride <= iy; oy++) {
    if (iy - oy * L.stride >= L.size) { continue; }
    for (var ox = max(0, (ix - L.size + L.stride) / L.stride); ox < L.Wo && ox * L.stride <= ix; ox++) {
      if (ix - ox * L.stride >= L.size) { continue; }
      sum = sum + dy[((n * L.Ho + oy) * L.Wo + ox) * L.C + c] * scale;
    }
  }
  dx[idx] = sum;
}
`;
