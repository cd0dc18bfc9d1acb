/**
 * The gradient core's side of each layer kind (driver.ts), by type. Kinds without a driver here
 * run on the TypeScript reference path (kernel 'js').
 */
import type { LayerSpec, LayerType } from '../../nn/layers/spec.ts';
import { activationLayer } from './activation.ts';
import { avgpool } from './avgpool.ts';
import { batchnorm } from './batchnorm.ts';
import { conv } from './conv.ts';
import { dense } from './dense.ts';
import type { CoreLayer } from './driver.ts';
import { dropout } from './dropout.ts';
import { flatten } from './flatten.ts';
import { globalavgpool } from './globalavgpool.ts';
import { maxpool } from './maxpool.ts';

export const CORE_LAYERS: { readonly [T in LayerType]?: CoreLayer<Extract<LayerSpec, { type: T }>> } = {
  dense,
  conv,
  maxpool,
  avgpool,
  globalavgpool,
  batchnorm,
  dropout,
  flatten,
  relu: activationLayer('relu'),
  leaky_relu: activationLayer('leaky_relu'),
  sigmoid: activationLayer('sigmoid'),
  tanh: activationLayer('tanh'),
};

/** The driver of a layer's kind (the caller checked that there is one). */
export function coreLayer<S extends LayerSpec>(spec: S): CoreLayer<S> {
  const driver = CORE_LAYERS[spec.type];
  if (!driver) throw new Error(`gradient core: no WebAssembly driver for layer type ${spec.type}`);
  return driver as unknown as CoreLayer<S>;
}

/** Whether every layer of the list has a driver. */
export function coreSupports(layers: readonly LayerSpec[]): boolean {
  return layers.every((l) => CORE_LAYERS[l.type] !== undefined);
}

export type { CoreLayer, LayerAddresses, ThreadShare, CoreBufferDecl } from './driver.ts';
