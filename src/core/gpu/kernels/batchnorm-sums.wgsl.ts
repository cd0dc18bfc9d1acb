import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { BATCHNORM_STRUCT } from './batchnorm-common.ts';

/** Batch norm backward, per channel (one thread each, value order): dbeta = sum dy, dgamma = sum dy xhat. */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${BATCHNORM_STRUCT}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> xhat: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let c = flatIndex(g, nw);
  if (c >= L.C) { return; }
  let M = step.batch * L.P;
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var i = 0u; i < M; i++) {
    let d = dy[i * L.C + c];
    sumDy = sumDy + d;
    sumDyXhat = sumDyXhat + d * xhat[i * L.C + c];
  }
  grads[L.betaOff + c] = sumDy;
  grads[L.gammaOff + c] = sumDyXhat;
}
`;
