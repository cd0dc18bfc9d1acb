import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { BATCHNORM_STRUCT } from './batchnorm-common.ts';

/** Batch norm in inference: y = gamma (x - running mean) / sqrt(running var + epsilon) + beta. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${BATCHNORM_STRUCT}
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.batch * L.P * L.C) { return; }
  let c = i % L.C;
  let scale = params[L.gammaOff + c] / sqrt(stats[L.varOff + c] + L.epsilon);
  y[i] = scale * (x[i] - stats[L.meanOff + c]) + params[L.betaOff + c];
}
`;
