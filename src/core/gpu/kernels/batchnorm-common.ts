/**
 * What the batch norm kernels share (src/nn/layers/batchnorm.ts): the layer's numbers (channels C,
 * positions P, where gamma and beta sit in the parameters and the running mean and variance in the
 * statistics, momentum and epsilon). M = B * P values per channel.
 */
export const BATCHNORM_STRUCT = /* wgsl */ `
struct BatchNorm { C: u32, P: u32, gammaOff: u32, betaOff: u32, meanOff: u32, varOff: u32, momentum: f32, epsilon: f32 }
@group(0) @binding(1) var<uniform> L: BatchNorm;
`;

/**
 * Rows (of the M = B * P per channel) in a block of the per-channel sums: the sums run first over
 * blocks, one thread per block and channel (neighbouring threads read neighbouring channels), then
 * over the blocks' partials in block order, one thread per channel. A fixed block size: the same
 * bits every run, whatever the batch.
 */
export const BATCHNORM_BLOCK_ROWS = 256;
