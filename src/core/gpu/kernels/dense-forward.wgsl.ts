import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/**
 * Dense forward, Z = X W^T + b: one thread per output (s, o), summing along the input in index
 * order from the bias, as the reference does (src/nn/layers/dense.ts).
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Dense { nIn: u32, nOut: u32, wOff: u32, bOff: u32 }
@group(0) @binding(1) var<uniform> L: Dense;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= step.batch * L.nOut) { return; }
  let s = idx / L.nOut;
  let o = idx % L.nOut;
  var sum = 0.0;
  if (L.bOff != 0xffffffffu) { sum = params[L.bOff + o]; }
  let xRow = s * L.nIn;
  let wRow = L.wOff + o * L.nIn;
  for (var i = 0u; i < L.nIn; i++) { sum = sum + x[xRow + i] * params[wRow + i]; }
  y[idx] = sum;
}
`;
