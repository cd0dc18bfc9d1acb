/** Small networks for the tests. */
import type { ActivationName } from '../../src/nn/activations.ts';
import type { ConvSpec, NetworkSpec } from '../../src/nn/layers/spec.ts';
import { denseStack, planNetwork, type NetworkPlan } from '../../src/nn/plan.ts';

/** A dense stack on a flat input of `inputSize` values (the MLPs of version 1). */
export function mlp(inputSize: number, hidden: number[], activation: ActivationName): NetworkSpec {
  return { input: { height: 1, width: 1, channels: inputSize }, layers: denseStack(hidden, activation) };
}

/** The same on an image: height x width x channels read flat. */
export function imageMlp(height: number, width: number, channels: number, hidden: number[], activation: ActivationName): NetworkSpec {
  return { input: { height, width, channels }, layers: denseStack(hidden, activation) };
}

export function plan(network: NetworkSpec): NetworkPlan {
  return planNetwork(network);
}

/** A convolution layer, every field given (as the config's defaults would fill them). */
export function conv(filters: number, kernel: number, stride: 1 | 2 = 1, padding: 'same' | 'valid' = 'same', bias = true): ConvSpec {
  return { type: 'conv', filters, kernel, stride, padding, bias };
}
