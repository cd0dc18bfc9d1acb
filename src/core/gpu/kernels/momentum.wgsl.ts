import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/**
 * Momentum, both forms (src/optim/momentum.ts): v = beta v + g_scale g; w = w - lr_hat v.
 * Constants: beta, g_scale (1 - beta for the averaging form, 1 for the classic one), lr_hat (lr, or
 * lr / (1 - beta^t) with bias correction). State: v.
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
  let v = stepConstant(0u) * s0[i] + stepConstant(1u) * g;
  s0[i] = v;
  params[i] = params[i] - stepConstant(2u) * v;
}
`;
