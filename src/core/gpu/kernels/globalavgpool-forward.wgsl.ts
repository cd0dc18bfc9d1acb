import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** Global average pooling forward (src/nn/layers/globalavgpool.ts): y[n, c] = (sum over positions in order) / P. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Global { P: u32, C: u32, _p0: u32, _p1: u32 }
@group(0) @binding(1) var<uniform> L: Global;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * L.C) { return; }
  let n = idx / L.C;
  let c = idx % L.C;
  var sum = 0.0;
  for (var p = 0u; p < L.P; p++) { sum = sum + x[(n * L.P + p) * L.C + c]; }
  y[idx] = sum / f32(L.P);
}
`;
