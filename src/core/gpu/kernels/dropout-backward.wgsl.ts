import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** Dropout backward: dx = dy * mask (the training forward pass's mask). */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Dropout { size: u32, layer: u32, threshold: u32, scale: f32 }
@group(0) @binding(1) var<uniform> L: Dropout;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.batch * L.size) { return; }
  dx[i] = dy[i] * mask[i];
}
`;
