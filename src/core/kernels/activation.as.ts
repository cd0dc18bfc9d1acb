// Activation functions on a block of a batch matrix: rows [0, B), columns [c0, c1), rows ld floats
// apart (a thread applies them to the columns it computed). Same formulas, in double and rounded
// once to float32, as src/nn/activations.ts:
//   forward   a = f(z)
//   backward  dz = da * f'(z)   (written with a = f(z) where that is cheaper)
// `slope` is leaky ReLU's for z < 0 (LEAKY_SLOPE of activations.ts, passed in by the driver).
//
// The ids: exported as globals named activation_<name> after the names of src/nn/activations.ts;
// the driver (src/core/layers/activation.ts) reads them from the module, so they are written only
// here, and it refuses an activation that has none. A new activation: an id below and its case in
// both switches (test/core-layer-activations.test.ts runs every activation against the reference).
import { at } from './simd.as';

export const activation_relu: i32 = 0;
export const activation_leaky_relu: i32 = 1;
export const activation_sigmoid: i32 = 2;
export const activation_tanh: i32 = 3;
export const activation_linear: i32 = 4;
export const activation_gelu: i32 = 5;

/** GELU's tanh form, as GELU_SCALE and GELU_CUBIC of activations.ts: sqrt(2 / pi), and the weight of the cubic term. */
const GELU_SCALE: f64 = 0.7978845608028654;
const GELU_CUBIC: f64 = 0.044715;

/** The logistic function in the form that never overflows exp. */
function sigmoid(z: f64): f64 {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function activationForward(kind: i32, slope: f64, Z: usize, A: usize, ld: i32, B: i32, c0: i32, c1: i32): void {
  for (let s = 0; s < B; s++) {
    const z = at(Z, s * ld);
    const a = at(A, s * ld);
    switch (kind) {
      case activation_relu: {
        // z > 0 ? z : 0, four at a time (a NaN gives 0, as in the reference).
        let c = c0;
        const zero = f32x4.splat(0);
        for (; c + 4 <= c1; c += 4) {
          const v = v128.load(at(z, c));
          v128.store(at(a, c), v128.and(v, f32x4.gt(v, zero)));
        }
        for (; c < c1; c++) {
          const v = load<f32>(at(z, c));
          store<f32>(at(a, c), v > 0 ? v : 0);
        }
        break;
      }
      case activation_leaky_relu:
        for (let c = c0; c < c1; c++) {
          const v = load<f32>(at(z, c));
          store<f32>(at(a, c), v > 0 ? v : <f32>(slope * <f64>v));
        }
        break;
      case activation_sigmoid:
        for (let c = c0; c < c1; c++) store<f32>(at(a, c), <f32>sigmoid(<f64>load<f32>(at(z, c))));
        break;
      case activation_tanh:
        for (let c = c0; c < c1; c++) store<f32>(at(a, c), <f32>Math.tanh(<f64>load<f32>(at(z, c))));
        break;
      case activation_linear:
        memory.copy(at(a, c0), at(z, c0), <usize>(c1 - c0) << 2);
        break;
      case activation_gelu:
        // 0.5 z (1 + tanh(s (z + c z^3)))
        for (let c = c0; c < c1; c++) {
          const x = <f64>load<f32>(at(z, c));
          store<f32>(at(a, c), <f32>(0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x)))));
        }
        break;
      default:
        unreachable(); // an id the module does not export: the driver passes only exported ones
    }
  }
}

export function activationBackward(kind: i32, slope: f64, Z: usize, A: usize, dA: usize, dZ: usize, ld: i32, B: i32, c0: i32, c1: i32): void {
  for (let s = 0; s < B; s++) {
    const z = at(Z, s * ld);
    const a = at(A, s * ld);
    const da = at(dA, s * ld);
    const dz = at(dZ, s * ld);
    switch (kind) {
      case activation_relu: {
        // f'(z) = 1 for z > 0, else 0.
        let c = c0;
        const zero = f32x4.splat(0);
        for (; c + 4 <= c1; c += 4) {
          v128.store(at(dz, c), v128.and(v128.load(at(da, c)), f32x4.gt(v128.load(at(z, c)), zero)));
        }
        for (; c < c1; c++) store<f32>(at(dz, c), load<f32>(at(z, c)) > 0 ? load<f32>(at(da, c)) : 0);
        break;
      }
      case activation_leaky_relu:
        for (let c = c0; c < c1; c++) {
          const d = load<f32>(at(da, c));
          store<f32>(at(dz, c), load<f32>(at(z, c)) > 0 ? d : <f32>(slope * <f64>d));
        }
        break;
      case activation_sigmoid:
        // sigma' = a (1 - a)
        for (let c = c0; c < c1; c++) {
          const av = <f64>load<f32>(at(a, c));
          store<f32>(at(dz, c), <f32>(<f64>load<f32>(at(da, c)) * av * (1 - av)));
        }
        break;
      case activation_tanh:
        // tanh' = 1 - a^2
        for (let c = c0; c < c1; c++) {
          const av = <f64>load<f32>(at(a, c));
          store<f32>(at(dz, c), <f32>(<f64>load<f32>(at(da, c)) * (1 - av * av)));
        }
        break;
      case activation_linear:
        memory.copy(at(dz, c0), at(da, c0), <usize>(c1 - c0) << 2);
        break;
      case activation_gelu:
        // gelu' = 0.5 (1 + t) + 0.5 z (1 - t^2) s (1 + 3 c z^2),  t = tanh(s (z + c z^3))
        for (let c = c0; c < c1; c++) {
          const x = <f64>load<f32>(at(z, c));
          const t = Math.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
          const derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_SCALE * (1 + 3 * GELU_CUBIC * x * x);
          store<f32>(at(dz, c), <f32>(<f64>load<f32>(at(da, c)) * derivative));
        }
        break;
      default:
        unreachable(); // an id the module does not export: the driver passes only exported ones
    }
  }
}
