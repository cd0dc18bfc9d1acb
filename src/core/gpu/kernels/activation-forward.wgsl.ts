import { ACTIVATION_CONSTANTS } from './activation-ids.ts';
import { FLAT_INDEX, SIGMOID, STEP_STRUCT } from './common.ts';

/** a = f(z) element by element, f chosen by the pipeline constant ACT (src/nn/activations.ts). */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${SIGMOID}
${ACTIVATION_CONSTANTS}
struct Elementwise { size: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(1) var<uniform> L: Elementwise;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read_write> a: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.batch * L.size) { return; }
  let x = z[i];
  var y = x;
  switch (ACT) {
    case ACT_RELU: { y = select(0.0, x, x > 0.0); }
    case ACT_LEAKY_RELU: { y = select(LEAKY_SLOPE * x, x, x > 0.0); }
    case ACT_SIGMOID: { y = sigmoid(x); }
    case ACT_TANH: { y = safeTanh(x); }
    case ACT_GELU: { y = 0.5 * x * (1.0 + safeTanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x))); }
    default: { y = x; }
  }
  a[i] = y;
}
`;
