import { ACTIVATION_NAMES, GELU_CUBIC, GELU_SCALE, LEAKY_SLOPE, type ActivationName } from '../../../nn/activations.ts';

/** An activation's id in the kernels: its index in ACTIVATION_NAMES (the pipeline constant ACT). */
export function activationId(name: ActivationName): number {
  return ACTIVATION_NAMES.indexOf(name);
}

/** The ids and constants as WGSL, so the kernels follow src/nn/activations.ts. */
export const ACTIVATION_CONSTANTS = /* wgsl */ `
override ACT: u32;
${ACTIVATION_NAMES.map((name, i) => `const ACT_${name.toUpperCase()} = ${i}u;`).join('\n')}
const LEAKY_SLOPE = ${LEAKY_SLOPE};
const GELU_SCALE = ${GELU_SCALE};
const GELU_CUBIC = ${GELU_CUBIC};
// tanh of |u| > 20 is +-1 in float32; the clamp keeps a driver's exp-based tanh from overflowing.
fn safeTanh(u: f32) -> f32 { return tanh(clamp(u, -20.0, 20.0)); }
`;
