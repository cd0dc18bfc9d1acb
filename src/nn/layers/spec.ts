/**
 * What a network is made of, as plain data: the layer list of a config's `model.layers` and of the
 * model file. Every field is resolved (the config schema fills the defaults), so a spec says
 * exactly what the layer does. The config schema (src/config/schema.ts) checks the same fields
 * with zod and is held to these types.
 */
import { ACTIVATION_NAMES, type ActivationName } from '../activations.ts';
import type { Shape } from '../shape.ts';

/** Activation functions usable as layers: all of activations.ts but linear (a layer doing nothing). */
export type ActivationLayerType = Exclude<ActivationName, 'linear'>;
export const ACTIVATION_LAYER_TYPES = ACTIVATION_NAMES.filter((name): name is ActivationLayerType => name !== 'linear');

/** Fully connected: every output unit sees every input value (any input shape, read flat). */
export interface DenseSpec {
  type: 'dense';
  units: number;
  bias: boolean;
}

/** 2-D convolution, channels-last, square kernel. */
export interface ConvSpec {
  type: 'conv';
  filters: number;
  /** Kernel height = width, 1..7. */
  kernel: number;
  stride: 1 | 2;
  /** same: output = ceil(input / stride), zeros around the border; valid: no padding. */
  padding: 'same' | 'valid';
  bias: boolean;
}

/** Max or average over size x size windows, `stride` apart, inside the input (no padding). */
export interface PoolSpec<T extends 'maxpool' | 'avgpool' = 'maxpool' | 'avgpool'> {
  type: T;
  size: number;
  stride: number;
}

/** Mean over all positions, per channel: H x W x C -> C. */
export interface GlobalAvgPoolSpec {
  type: 'globalavgpool';
}

/**
 * Batch normalization per channel (per unit after a dense layer), with a learnable scale (gamma)
 * and shift (beta), and running averages of the batch statistics for inference.
 */
export interface BatchNormSpec {
  type: 'batchnorm';
  /** Weight of the new batch in the running averages: r <- (1 - momentum) r + momentum * batch. */
  momentum: number;
  /** Added to the variance before the square root. */
  epsilon: number;
}

/** Inverted dropout: zeroes each value with probability `rate` in training, scales the rest by 1 / (1 - rate). */
export interface DropoutSpec {
  type: 'dropout';
  rate: number;
}

/** H x W x C -> H*W*C (a reshape: the values stay where they are). */
export interface FlattenSpec {
  type: 'flatten';
}

export interface ActivationSpec<T extends ActivationLayerType = ActivationLayerType> {
  type: T;
}

export type LayerSpec =
  | DenseSpec
  | ConvSpec
  | PoolSpec<'maxpool'>
  | PoolSpec<'avgpool'>
  | GlobalAvgPoolSpec
  | BatchNormSpec
  | DropoutSpec
  | FlattenSpec
  | { [T in ActivationLayerType]: ActivationSpec<T> }[ActivationLayerType];
export type LayerType = LayerSpec['type'];

/** A whole network: the image shape it reads and its layers, input side first. */
export interface NetworkSpec {
  readonly input: Shape;
  readonly layers: readonly LayerSpec[];
}
