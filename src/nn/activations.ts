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

/** GELU's tanh form: sqrt(2 / pi), and the weight of the cubic term. */
export const GELU_SCALE = Math.sqrt(2 / Math.PI);
export const GELU_CUBIC = 0.044715;

/**
 * GELU, x * Phi(x) in its tanh form (Hendrycks and Gimpel):
 *   gelu(z) = 0.5 z (1 + tanh(u)),   u = s (z + c z^3),   s = sqrt(2 / pi), c = 0.044715
 *   gelu'(z) = 0.5 (1 + tanh(u)) + 0.5 z (1 - tanh(u)^2) s (1 + 3 c z^2)
 */
const gelu: Activation = {
  // He: like ReLU, GELU lets the positive side through and all but stops the negative side, so it
  // keeps about half of its input's second moment (0.43 of it for a unit normal input, ReLU 0.5);
  // He's variance 2 / fanIn makes up for that half, where Xavier's would shrink the signal.
  init: 'he',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) {
      const x = z[i]!;
      a[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
    }
  },
  backward(z, _a, da, dz, n) {
    for (let i = 0; i < n; i++) {
      const x = z[i]!;
      const t = Math.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
      dz[i] = da[i]! * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_SCALE * (1 + 3 * GELU_CUBIC * x * x));
    }
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
  gelu,
  linear,
} as const satisfies Readonly<Record<string, Activation>>;

export type ActivationName = keyof typeof ACTIVATIONS;
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as [ActivationName, ...ActivationName[]];
