import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

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

/**
 * The blocks of rows, in WGSL (needs STEP_STRUCT and BATCHNORM_STRUCT): how many there are for the
 * batch (blockCount), and the rows [first, last) and channel c of thread idx of a block kernel
 * (one thread per block and channel, channels fastest).
 */
export const BATCHNORM_BLOCKS = /* wgsl */ `
const R = ${BATCHNORM_BLOCK_ROWS}u;
fn blockCount() -> u32 { return (step.batch * L.P + R - 1u) / R; }
struct RowBlock { c: u32, first: u32, last: u32 }
fn rowBlock(idx: u32) -> RowBlock {
  let first = (idx / L.C) * R;
  return RowBlock(idx % L.C, first, min(step.batch * L.P, first + R));
}
`;

/**
 * A block kernel: one thread per block of rows and channel (the rows [r.first, r.last) of channel
 * r.c), around `body`, which sums over them in row order and writes partials[2 idx] and the next
 * float; `bindings` declares the buffers from binding 2 on (binding 0 is the step, 1 the layer).
 */
export function batchnormBlockKernel(bindings: string, body: string): string {
  return /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${BATCHNORM_STRUCT}
${bindings}
${BATCHNORM_BLOCKS}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = flatIndex(g, nw);
  if (idx >= blockCount() * L.C) { return; }
  let r = rowBlock(idx);
${body}
}
`;
}
