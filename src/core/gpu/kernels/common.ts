/**
 * WGSL shared by the kernels: the per-step uniform every kernel binds at @binding(0), and how a
 * thread finds its element when a dispatch is cut into rows of at most 65,535 workgroups.
 */

/** The step's numbers, written once per step (gpu-network.ts writeStep): keep in step with STEP_FLOATS. */
export const STEP_STRUCT = /* wgsl */ `
struct Step {
  batch: u32,
  count: u32,
  seed: u32,
  index: u32,
  k: array<vec4f, 2>,
  decay: f32,
  clip: f32,
  _pad2: f32,
  _pad3: f32,
}
@group(0) @binding(0) var<uniform> step: Step;
fn stepConstant(i: u32) -> f32 { return step.k[i / 4u][i % 4u]; }
`;

/** Bytes of the Step struct. */
export const STEP_BYTES = 64;

/** The element of this thread in a 1-D range dispatched as (x, y) workgroups of 64 (dispatch1d). */
export const FLAT_INDEX = /* wgsl */ `
fn flatIndex(g: vec3u, nw: vec3u) -> u32 { return g.x + g.y * nw.x * 64u; }
`;

/** The logistic function, without overflow: exp of a non-positive number only. */
export const SIGMOID = /* wgsl */ `
fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) { return 1.0 / (1.0 + exp(-z)); }
  let e = exp(z);
  return e / (1.0 + e);
}
`;

/**
 * The counter-based noise of src/random/noise.ts, in 32-bit integer arithmetic (u32 products wrap
 * as Math.imul's do): the same bits as the CPU core's for the same (seed, step, layer, index).
 */
export const NOISE = /* wgsl */ `
fn mix32(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}
fn noiseKey(seed: u32, stepIndex: u32, layer: u32) -> u32 { return mix32(mix32(mix32(seed) + stepIndex) + layer); }
fn noiseBits(key: u32, index: u32) -> u32 { return mix32(key ^ mix32(index)); }
`;

/** "No bias" in a layer's uniform. */
export const NONE = 0xffffffff;

/**
 * An optimizer's update, one thread per weight: what every optimizer kernel shares (the weights,
 * the gradients, the scalars whose [2] is clipping's factor, `states` state buffers s0, s1, ...),
 * around `body`, the optimizer's own formula for weight i, which reads `g` (the gradient scaled by
 * clipping's factor, 1 without clipping, as it is read) and its step constants.
 */
export function optimizerKernel(states: number, body: string): string {
  const stateBindings = Array.from({ length: states }, (_, k) => `@group(0) @binding(${4 + k}) var<storage, read_write> s${k}: array<f32>;`).join('\n');
  return /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read> scalars: array<f32>;
${stateBindings}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(gid, nw);
  if (i >= step.count) { return; }
  let g = grads[i] * scalars[2];
${body}
}
`;
}
