import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/**
 * L2 weight decay, g += lambda w (src/optim/regularize.ts), on the weights and kernels only: bit i
 * of `decays` says whether parameter i decays (the plan's decay flags).
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
@group(0) @binding(1) var<storage, read> decays: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.count) { return; }
  if ((decays[i / 32u] & (1u << (i % 32u))) != 0u) { grads[i] = grads[i] + step.decay * params[i]; }
}
`;
