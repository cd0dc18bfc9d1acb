import { STEP_STRUCT } from './common.ts';

/**
 * Second pass of clipping by global norm: the partial sums added in workgroup order, norm =
 * sqrt(sum), and the factor maxNorm / norm when the norm is above maxNorm (and finite), else 1
 * (src/optim/regularize.ts clipScale). scalars[1] = norm, scalars[2] = factor: the optimizer
 * kernels scale each gradient by scalars[2] as they read it.
 */
export default /* wgsl */ `
${STEP_STRUCT}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;

@compute @workgroup_size(1)
fn main() {
  let groups = (step.count + 4095u) / 4096u;
  var sum = 0.0;
  for (var w = 0u; w < groups; w++) { sum = sum + partials[w]; }
  let norm = sqrt(sum);
  let finite = norm == norm && norm <= 3.4028234e38;
  scalars[1] = norm;
  scalars[2] = select(1.0, step.clip / norm, finite && norm > step.clip);
}
`;
