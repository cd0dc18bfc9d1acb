/**
 * Activation functions, each with its own forward and backward step (the micrograd way).
 * All work element-wise on flat arrays of n values:
 *   forward:  a[i] = f(z[i])
 *   backward: dz[i] = da[i] * f'(z[i])   (f' may be written with a = f(z) where that is cheaper)
 */
export type Floats = Float32Array | Float64Array;

/** Slope of leaky ReLU for z < 0 (the WebAssembly kernel and the ONNX export are given this value). */
export const LEAKY_SLOPE = 0.01;

export interface Activation {
  /**
   * Which initialisation suits the weights that feed it (init.ts reads it under init "auto"): He for
   * the ReLU family, which passes about half of its inputs' variance on; Xavier/Glorot otherwise.
   */
  readonly init: 'he' | 'xavier';
  forward(z: Floats, a: Floats, n: number): void;
  backward(z: Floats, a: Floats, da: Floats, dz: Floats, n: number): void;
}

/** The logistic function, written so that exp never overflows. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

const relu: Activation = {
  init: 'he',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = z[i]! > 0 ? z[i]! : 0;
  },
  // f'(z) = 1 for z > 0, else 0 (we take 0 at the kink).
  backward(z, _a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = z[i]! > 0 ? da[i]! : 0;
  },
};

const leakyRelu: Activation = {
  init: 'he',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = z[i]! > 0 ? z[i]! : LEAKY_SLOPE * z[i]!;
  },
  backward(z, _a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = z[i]! > 0 ? da[i]! : LEAKY_SLOPE * da[i]!;
  },
};

const sigmoidActivation: Activation = {
  init: 'xavier',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = sigmoid(z[i]!);
  },
  // sigma'(z) = sigma(z) * (1 - sigma(z)) = a (1 - a)
  backward(_z, a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = da[i]! * a[i]! * (1 - a[i]!);
  },
};

const tanh: Activation = {
  init: 'xavier',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = Math.tanh(z[i]!);
  },
  // tanh'(z) = 1 - tanh(z)^2 = 1 - a^2
  backward(_z, a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = da[i]! * (1 - a[i]! * a[i]!);
  },
};

const linear: Activation = {
  init: 'xavier',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = z[i]!;
  },
  backward(_z, _a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = da[i]!;
  },
};

/**
 * Every activation by name: the one list of them. The layer types (layers/spec.ts), the config
 * schema, the gradient core's kernel ids and the ONNX export all follow it (src/nn/layers/README.md).
 */
export const ACTIVATIONS = {
  relu,
  leaky_relu: leakyRelu,
  sigmoid: sigmoidActivation,
  tanh,
  linear,
} as const satisfies Readonly<Record<string, Activation>>;

export type ActivationName = keyof typeof ACTIVATIONS;
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as [ActivationName, ...ActivationName[]];
