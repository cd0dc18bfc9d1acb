/**
 * Activation functions, each with its own forward and backward step (the micrograd way).
 * All work element-wise on flat arrays of n values:
 *   forward:  a[i] = f(z[i])
 *   backward: dz[i] = da[i] * f'(z[i])   (f' may be written with a = f(z) where that is cheaper)
 */
export type Floats = Float32Array | Float64Array;

export const ACTIVATION_NAMES = ['relu', 'leaky_relu', 'sigmoid', 'tanh', 'linear'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/** Slope of leaky ReLU for z < 0. */
export const LEAKY_SLOPE = 0.01;

export interface Activation {
  readonly name: ActivationName;
  /** Which initialisation suits it: He for the ReLU family, Xavier/Glorot otherwise. */
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
  name: 'relu',
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
  name: 'leaky_relu',
  init: 'he',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = z[i]! > 0 ? z[i]! : LEAKY_SLOPE * z[i]!;
  },
  backward(z, _a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = z[i]! > 0 ? da[i]! : LEAKY_SLOPE * da[i]!;
  },
};

const sigmoidActivation: Activation = {
  name: 'sigmoid',
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
  name: 'tanh',
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
  name: 'linear',
  init: 'xavier',
  forward(z, a, n) {
    for (let i = 0; i < n; i++) a[i] = z[i]!;
  },
  backward(_z, _a, da, dz, n) {
    for (let i = 0; i < n; i++) dz[i] = da[i]!;
  },
};

export const ACTIVATIONS: Readonly<Record<ActivationName, Activation>> = {
  relu,
  leaky_relu: leakyRelu,
  sigmoid: sigmoidActivation,
  tanh,
  linear,
};
