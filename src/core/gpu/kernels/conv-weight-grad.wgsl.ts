import { FLAT_INDEX, STEP_STRUCT } from './common.ts';
import { CONV_STRUCT } from './conv-common.ts';

/**
 * Convolution parameter gradients: one thread per weight (f, ky, kx, c), dW = sum over n, oy, ox of
 * dy[n, oy, ox, f] x[n, iy, ix, c]; then one per bias, db[f] = sum of dy[., ., ., f]. Each sum is
 * one thread's, in position order: the same bits on every run.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${CONV_STRUCT}
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = i32(flatIndex(g, nw));
  let K = L.k * L.k * L.C;
  let B = i32(step.batch);
  if (idx < L.F * K) {
    let f = idx / K;
    let r = idx % K;
    let c = r % L.C;
    let kx = (r / L.C) % L.k;
    let ky = r / (L.C * L.k);
    var sum = 0.0;
    for (var n = 0; n < B; n++) {
      for (var oy = 0; oy < L.Ho; oy++) {
        let iy = oy * L.stride - L.padTop + ky;
        if (iy < 0 || iy >= L.H) { continue; }
        for (var ox = 0; ox < L.Wo; ox++) {
          let ix = ox * L.stride - L.padLeft + kx;
          if (ix < 0 || ix >= L.W) { continue; }
          sum = sum + dy[((n * L.Ho + oy) * L.Wo + ox) * L.F + f] * x[((n * L.H + iy) * L.W + ix) * L.C + c];
        }
      }
    }
    grads[L.wOff + u32(idx)] = sum;
  } else if (L.bOff != 0xffffffffu && idx < L.F * K + L.F) {
    let f = idx - L.F * K;
    var sum = 0.0;
    let positions = B * L.Ho * L.Wo;
    for (var p = 0; p < positions; p++) { sum = sum + dy[p * L.F + f]; }
    grads[L.bOff + u32(f)] = sum;
  }
}
`;
