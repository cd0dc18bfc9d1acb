import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** Global average pooling backward: dx[n, p, c] = dy[n, c] / P. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Global { P: u32, C: u32, _p0: u32, _p1: u32 }
@group(0) @binding(1) var<uniform> L: Global;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * L.P * L.C) { return; }
  let c = idx % L.C;
  let n = idx / (L.P * L.C);
  dx[idx] = dy[n * L.C + c] / f32(L.P);
}
`;
