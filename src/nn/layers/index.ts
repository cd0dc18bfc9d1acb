/**
 * The layer kinds: one file each in this folder, registered here by type. A new kind is a file
 * implementing LayerKind (layer.ts), its spec in spec.ts, its entry below and in the config schema,
 * and its WebAssembly side in src/core/layers.
 */
import { activationLayer } from './activation.ts';
import { avgpool } from './avgpool.ts';
import { batchnorm } from './batchnorm.ts';
import { conv } from './conv.ts';
import { dense } from './dense.ts';
import { dropout } from './dropout.ts';
import { flatten } from './flatten.ts';
import { globalavgpool } from './globalavgpool.ts';
import type { LayerKind } from './layer.ts';
import { maxpool } from './maxpool.ts';
import type { LayerSpec, LayerType } from './spec.ts';

export const LAYER_KINDS: { readonly [T in LayerType]: LayerKind<Extract<LayerSpec, { type: T }>> } = {
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

export function layerKind<S extends LayerSpec>(spec: S): LayerKind<S> {
  return LAYER_KINDS[spec.type] as unknown as LayerKind<S>;
}

export * from './layer.ts';
export * from './spec.ts';
export { convGeometry, type ConvGeometry } from './conv.ts';
export { poolGeometry, type PoolGeometry } from './pool.ts';
export { windowAxis } from './window.ts';
export { denseForward, denseBackward } from './dense.ts';
