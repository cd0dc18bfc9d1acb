import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/**
 * Adam (src/optim/adam.ts): m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
 * w = w - (lr (m / c1)) / (sqrt(v / c2) + epsilon). Constants: beta1, 1 - beta1, beta2, 1 - beta2,
 * c1 = 1 - beta1^t, c2 = 1 - beta2^t, epsilon, lr. State: m, v.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read> scalars: array<f32>;
@group(0) @binding(4) var<storage, read_write> s0: array<f32>;
@group(0) @binding(5) var<storage, read_write> s1: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(gid, nw);
  if (i >= step.count) { return; }
  // The gradient scaled by clipping's factor (1 without clipping), as it is read.
  let g = grads[i] * scalars[2];
  let m = stepConstant(0u) * s0[i] + stepConstant(1u) * g;
  let v = stepConstant(2u) * s1[i] + stepConstant(3u) * (g * g);
  s0[i] = m;
  s1[i] = v;
  params[i] = params[i] - (stepConstant(7u) * (m / stepConstant(4u))) / (sqrt(v / stepConstant(5u)) + stepConstant(6u));
}
`;
