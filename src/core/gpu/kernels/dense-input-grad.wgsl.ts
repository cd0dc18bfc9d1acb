import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** Dense input gradient, dX = dZ W: one thread per input value (s, i), summing over the units in order. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Dense { nIn: u32, nOut: u32, wOff: u32, bOff: u32 }
@group(0) @binding(1) var<uniform> L: Dense;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * L.nIn) { return; }
  let s = idx / L.nIn;
  let i = idx % L.nIn;
  var sum = 0.0;
  for (var o = 0u; o < L.nOut; o++) { sum = sum + dy[s * L.nOut + o] * params[L.wOff + o * L.nIn + i]; }
  dx[idx] = sum;
}
`;
