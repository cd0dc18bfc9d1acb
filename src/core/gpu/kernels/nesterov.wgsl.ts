import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** Nesterov (src/optim/nesterov.ts): v = beta v + g; w = w - lr (g + beta v). Constants: beta, lr. State: v. */
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
  let beta = stepConstant(0u);
  let v = beta * s0[i] + g;
  s0[i] = v;
  params[i] = params[i] - stepConstant(1u) * (g + beta * v);
}
`;
