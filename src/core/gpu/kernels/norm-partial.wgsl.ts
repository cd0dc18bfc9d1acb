import { STEP_STRUCT } from './common.ts';

/** Parameters per workgroup of the squared-norm pass: 256 threads x 16 each. */
export const NORM_CHUNK = 4096;

/**
 * First pass of the global gradient norm for clipping: workgroup w sums g^2 over its chunk of 4,096
 * gradients into partials[w]. Each thread adds its 16 values in index order, then the 256 sums are
 * halved pairwise in workgroup memory: a fixed order (no atomics), the same bits on every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let w = wg.x + wg.y * nw.x;
  let base = w * ${NORM_CHUNK}u;
  var acc = 0.0;
  for (var k = 0u; k < 16u; k++) {
    let i = base + k * 256u + t;
    if (i < step.count) { let v = grads[i]; acc = acc + v * v; }
  }
  sums[t] = acc;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (t < half) { sums[t] = sums[t] + sums[t + half]; }
    workgroupBarrier();
  }
  if (t == 0u) { partials[w] = sums[0]; }
}
`;
