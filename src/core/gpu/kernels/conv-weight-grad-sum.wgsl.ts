import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { CONV_STRUCT } from './conv-common.ts';

/**
 * The split convolution parameter gradients (conv-weight-grad-tiled with ROWS > 0) added up: one
 * thread per weight or bias, dW[f, kk] = sum over z = 0 .. SPLITS - 1 of partials[z][f][kk], in that
 * order (the bias is column K). The same bits every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;

override SPLITS: u32 = 1u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  _ = step.batch; // binding 0 of every kernel (context.ts), unused here: kept in the layout
  let i = flatIndex(g, nw);
  let F = u32(L.F);
  let K = u32(L.k * L.k * L.C);
  var columns = K;
  if (L.bOff != 0xffffffffu) { columns = K + 1u; }
  if (i >= F * columns) { return; }
  var sum = 0.0;
  for (var z = 0u; z < SPLITS; z++) { sum = sum + partials[z * F * columns + i]; }
  let f = i / columns;
  let col = i % columns;
  if (col < K) { grads[L.wOff + f * K + col] = sum; } else { grads[L.bOff + f] = sum; }
}
`;
