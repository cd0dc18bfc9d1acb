import { ACTIVATION_CONSTANTS } from './activation-ids.ts';
import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** dz = da * f'(z) element by element (f' written with a = f(z) where the reference does so). */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
${ACTIVATION_CONSTANTS}
struct Elementwise { size: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(1) var<uniform> L: Elementwise;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> da: array<f32>;
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.batch * L.size) { return; }
  let x = z[i];
  let y = a[i];
  let d = da[i];
  var r = d;
  switch (ACT) {
    case ACT_RELU: { r = select(0.0, d, x > 0.0); }
    case ACT_LEAKY_RELU: { r = select(LEAKY_SLOPE * d, d, x > 0.0); }
    case ACT_SIGMOID: { r = d * y * (1.0 - y); }
    case ACT_TANH: { r = d * (1.0 - y * y); }
    case ACT_GELU: {
      let t = safeTanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
      r = d * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * x * x));
    }
    default: { r = d; }
  }
  dz[i] = r;
}
`;
