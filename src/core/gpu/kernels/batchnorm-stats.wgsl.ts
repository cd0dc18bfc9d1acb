import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { BATCHNORM_BLOCKS, BATCHNORM_STRUCT } from './batchnorm-common.ts';

/**
 * Batch norm's batch statistics, step 2 (training): one thread per channel combines the blocks of
 * batchnorm-blocks in block order, mean = (1/M) sum_b S_b and
 * var = (1/M) sum_b [Q_b + n_b (S_b / n_b - mean)^2] (Chan's combination of block variances);
 * (mean, 1 / sqrt(var + epsilon)) kept in `batch` for the normalisation and the backward pass; the
 * running mean and the running (unbiased) variance updated with the momentum.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${BATCHNORM_STRUCT}
@group(0) @binding(2) var<storage, read> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> batch: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
${BATCHNORM_BLOCKS}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let c = flatIndex(g, nw);
  if (c >= L.C) { return; }
  let M = step.batch * L.P;
  let m = f32(M);
  let blocks = blockCount();
  var sum = 0.0;
  for (var b = 0u; b < blocks; b++) { sum = sum + partials[2u * (b * L.C + c)]; }
  let mean = sum / m;
  var sq = 0.0;
  for (var b = 0u; b < blocks; b++) {
    let n = f32(min(R, M - b * R));
    let d = partials[2u * (b * L.C + c)] / n - mean;
    sq = sq + partials[2u * (b * L.C + c) + 1u] + n * d * d;
  }
  let variance = sq / m;
  batch[2u * c] = mean;
  batch[2u * c + 1u] = 1.0 / sqrt(variance + L.epsilon);
  var unbiased = variance;
  if (M > 1u) { unbiased = variance * m / (m - 1.0); }
  stats[L.meanOff + c] = (1.0 - L.momentum) * stats[L.meanOff + c] + L.momentum * mean;
  stats[L.varOff + c] = (1.0 - L.momentum) * stats[L.varOff + c] + L.momentum * unbiased;
}
`;
