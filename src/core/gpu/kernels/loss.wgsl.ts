import { SIGMOID, STEP_STRUCT } from './common.ts';

/**
 * The loss of the batch and dL/dz of each logit (src/nn/losses.ts), on one thread: the batch's sum
 * is added in sample order, the same on every run. LOSS 0: binary cross-entropy from the logit,
 * max(z, 0) - z y + log(1 + exp(-|z|)), dL/dz = (p - y) / B; LOSS 1: mean squared error of p =
 * sigmoid(z), dL/dz = (2 / B) (p - y) p (1 - p). The mean goes to scalars[0].
 */
export default /* wgsl */ `
${STEP_STRUCT}
${SIGMOID}
override LOSS: u32;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> scalars: array<f32>;

@compute @workgroup_size(1)
fn main() {
  let B = step.batch;
  let n = f32(B);
  var sum = 0.0;
  for (var s = 0u; s < B; s++) {
    let zi = z[s];
    let yi = labels[s];
    let p = sigmoid(zi);
    if (LOSS == 0u) {
      sum = sum + (max(zi, 0.0) - zi * yi + log(1.0 + exp(-abs(zi))));
      dz[s] = (p - yi) / n;
    } else {
      let diff = p - yi;
      sum = sum + diff * diff;
      dz[s] = ((2.0 * diff) / n) * p * (1.0 - p);
    }
  }
  scalars[0] = sum / n;
}
`;
