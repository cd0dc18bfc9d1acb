import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/**
 * Dense parameter gradients, dW = dZ^T X and db = sum over the batch of dZ: one thread per weight
 * (then one per bias), summing over the batch in sample order. No sum is split between threads, so
 * the result is the same on every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Dense { nIn: u32, nOut: u32, wOff: u32, bOff: u32 }
@group(0) @binding(1) var<uniform> L: Dense;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  let weights = L.nOut * L.nIn;
  if (idx < weights) {
    let o = idx / L.nIn;
    let i = idx % L.nIn;
    var sum = 0.0;
    for (var s = 0u; s < step.batch; s++) { sum = sum + dy[s * L.nOut + o] * x[s * L.nIn + i]; }
    grads[L.wOff + idx] = sum;
  } else if (L.bOff != 0xffffffffu && idx < weights + L.nOut) {
    let o = idx - weights;
    var sum = 0.0;
    for (var s = 0u; s < step.batch; s++) { sum = sum + dy[s * L.nOut + o]; }
    grads[L.bOff + o] = sum;
  }
}
`;
