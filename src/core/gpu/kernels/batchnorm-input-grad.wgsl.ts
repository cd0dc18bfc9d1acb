import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { BATCHNORM_STRUCT } from './batchnorm-common.ts';

/** Batch norm input gradient: dx = (gamma invstd / M) (M dy - dbeta - xhat dgamma), after batchnorm-sums. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${BATCHNORM_STRUCT}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> xhat: array<f32>;
@group(0) @binding(4) var<storage, read> batch: array<f32>;
@group(0) @binding(5) var<storage, read> params: array<f32>;
@group(0) @binding(6) var<storage, read> grads: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  let M = step.batch * L.P;
  if (i >= M * L.C) { return; }
  let c = i % L.C;
  let m = f32(M);
  let k = (params[L.gammaOff + c] * batch[2u * c + 1u]) / m;
  dx[i] = k * (m * dy[i] - grads[L.betaOff + c] - xhat[i] * grads[L.gammaOff + c]);
}
`;
