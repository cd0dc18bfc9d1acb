/**
 * The shape of a fully connected network and where each layer's numbers live in the flat
 * parameter buffer.
 *
 * Layers: sizes = [inputSize, ...hidden, 1]. Hidden layers use `activation`; the single output
 * neuron is always a sigmoid, read as the probability of "dog".
 *
 * Parameter layout (params and grads share it), layer after layer:
 *   W_l  (nOut x nIn, row-major: W_l[o*nIn + i] is the weight from input i to neuron o)
 *   b_l  (nOut)
 * so layer l's weights start at wOffset and its biases at bOffset = wOffset + nOut*nIn.
 */
import type { ActivationName } from './activations.ts';

export interface Architecture {
  /** Length of one input vector (width * height * channels for images). */
  readonly inputSize: number;
  /** Sizes of the hidden layers, input side first; may be empty (logistic regression). */
  readonly hidden: readonly number[];
  /** Activation of every hidden layer. */
  readonly activation: ActivationName;
}

export interface LayerShape {
  readonly nIn: number;
  readonly nOut: number;
  readonly wOffset: number;
  readonly bOffset: number;
  /** The hidden activation, or 'sigmoid' for the output layer (applied to the logit by the loss). */
  readonly activation: ActivationName;
  readonly isOutput: boolean;
}

export function layerShapes(arch: Architecture): LayerShape[] {
  const sizes = [arch.inputSize, ...arch.hidden, 1];
  const layers: LayerShape[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nIn = sizes[l]!;
    const nOut = sizes[l + 1]!;
    const isOutput = l + 2 === sizes.length;
    layers.push({
      nIn,
      nOut,
      wOffset: offset,
      bOffset: offset + nIn * nOut,
      activation: isOutput ? 'sigmoid' : arch.activation,
      isOutput,
    });
    offset += nIn * nOut + nOut;
  }
  return layers;
}

export function parameterCount(arch: Architecture): number {
  const layers = layerShapes(arch);
  const last = layers[layers.length - 1]!;
  return last.bOffset + last.nOut;
}
