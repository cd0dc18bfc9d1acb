import { batchnormBlockKernel } from './batchnorm-common.ts';

/**
 * Batch norm's batch statistics, step 1 (training): one thread per block b of rows and channel c,
 * S_b = sum x and Q_b = sum (x - S_b / n_b)^2 over the block's n_b rows, in row order, into
 * partials[2 (b C + c)] and the next float; batchnorm-stats combines the blocks.
 */
export default batchnormBlockKernel(
  /* wgsl */ `
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;`,
  /* wgsl */ `
  var sum = 0.0;
  for (var i = r.first; i < r.last; i++) { sum = sum + x[i * L.C + r.c]; }
  let mean = sum / f32(r.last - r.first);
  var sq = 0.0;
  for (var i = r.first; i < r.last; i++) { let d = x[i * L.C + r.c] - mean; sq = sq + d * d; }
  partials[2u * idx] = sum;
  partials[2u * idx + 1u] = sq;`,
);
