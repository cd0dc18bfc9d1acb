import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/**
 * RMSprop (src/optim/rmsprop.ts): s = rho s + (1 - rho) g^2; w = w - (lr g) / (sqrt(s) + epsilon).
 * Constants: rho, 1 - rho, epsilon, lr. State: s.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read> scalars: array<f32>;
@group(0) @binding(4) var<storage, read_write> s0: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(gid, nw);
  if (i >= step.count) { return; }
  // The gradient scaled by clipping's factor (1 without clipping), as it is read.
  let g = grads[i] * scalars[2];
  let s = stepConstant(0u) * s0[i] + stepConstant(1u) * (g * g);
  s0[i] = s;
  params[i] = params[i] - (stepConstant(3u) * g) / (sqrt(s) + stepConstant(2u));
}
`;
