import { batchnormBlockKernel } from './batchnorm-common.ts';

/**
 * Batch norm backward, step 1: one thread per block b of rows and channel c, in row order,
 * sum dy and sum dy xhat over the block into partials[2 (b C + c)] and the next float;
 * batchnorm-sums adds the blocks.
 */
export default batchnormBlockKernel(
  /* wgsl */ `
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> xhat: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;`,
  /* wgsl */ `
  var sumDy = 0.0;
  var sumDyXhat = 0.0;
  for (var i = r.first; i < r.last; i++) {
    let d = dy[i * L.C + r.c];
    sumDy = sumDy + d;
    sumDyXhat = sumDyXhat + d * xhat[i * L.C + r.c];
  }
  partials[2u * idx] = sumDy;
  partials[2u * idx + 1u] = sumDyXhat;`,
);
