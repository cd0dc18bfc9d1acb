/**
 * The gradient core's side of each layer kind (driver.ts), by type. The mapped type makes a new
 * layer kind without a driver a compile error.
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

export const CORE_LAYERS: { readonly [T in LayerType]: CoreLayer<Extract<LayerSpec, { type: T }>> } = {
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

/** The driver of a layer's kind. */
export function coreLayer<S extends LayerSpec>(spec: S): CoreLayer<S> {
  return CORE_LAYERS[spec.type] as unknown as CoreLayer<S>;
}

export { savedInCore } from './driver.ts';
export type { CoreLayer, LayerAddresses, PreparedLayer, CoreBufferDecl } from './driver.ts';
