import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { POOL_STRUCT } from './pool-common.ts';

/**
 * Max pooling backward: one thread per input value, the sum of dy over the windows (in output
 * order) whose winner it was; no thread writes another's value, so no atomics.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${POOL_STRUCT}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> argmax: array<u32>;
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
  var sum = 0.0;
  for (var oy = max(0, (iy - L.size + L.stride) / L.stride); oy < L.Ho && oy * L.stride <= iy; oy++) {
    let ky = iy - oy * L.stride;
    if (ky >= L.size) { continue; }
    for (var ox = max(0, (ix - L.size + L.stride) / L.stride); ox < L.Wo && ox * L.stride <= ix; ox++) {
      let kx = ix - ox * L.stride;
      if (kx >= L.size) { continue; }
      let o = ((n * L.Ho + oy) * L.Wo + ox) * L.C + c;
      if (argmax[o] == u32(ky * L.size + kx)) { sum = sum + dy[o]; }
    }
  }
  dx[idx] = sum;
}
`;
