import { FLAT_INDEX, NOISE, STEP_STRUCT } from './common.ts';

/**
 * Inverted dropout forward (src/nn/layers/dropout.ts). Training (pipeline constant TRAINING): the
 * mask of (seed, step, layer) from the counter-based noise, element i = s * n + j kept iff its 24
 * high bits are at least the threshold, survivors scaled by 1 / (1 - rate); y = x * mask, and the
 * mask is kept for the backward pass. Inference: y = x.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${NOISE}
override TRAINING: bool;
struct Dropout { size: u32, layer: u32, threshold: u32, scale: f32 }
@group(0) @binding(1) var<uniform> L: Dropout;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.batch * L.size) { return; }
  if (!TRAINING) { y[i] = x[i]; return; }
  let key = noiseKey(step.seed, step.index, L.layer);
  let m = select(0.0, L.scale, (noiseBits(key, i) >> 8u) >= L.threshold);
  mask[i] = m;
  y[i] = x[i] * m;
}
`;
