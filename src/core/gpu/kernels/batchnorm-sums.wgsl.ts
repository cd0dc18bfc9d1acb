import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { BATCHNORM_BLOCKS, BATCHNORM_STRUCT } from './batchnorm-common.ts';

/**
 * Batch norm backward, step 2, per channel (one thread each): dbeta = sum dy and dgamma = sum dy
 * xhat, the blocks of batchnorm-sums-blocks added in block order.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${BATCHNORM_STRUCT}
@group(0) @binding(2) var<storage, read> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;
${BATCHNORM_BLOCKS}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let c = flatIndex(g, nw);
  if (c >= L.C) { return; }
  let blocks = blockCount();
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var b = 0u; b < blocks; b++) {
    sumDy = sumDy + partials[2u * (b * L.C + c)];
    sumDyXhat = sumDyXhat + partials[2u * (b * L.C + c) + 1u];
  }
  grads[L.betaOff + c] = sumDy;
  grads[L.gammaOff + c] = sumDyXhat;
}
`;
