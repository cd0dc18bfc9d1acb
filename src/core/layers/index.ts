/**
 * The gradient core's drivers (driver.ts), by the names the layer registry gives them
 * (src/nn/layers/registry.ts, `cpu`). The mapped type makes a driver that no kind names, or a name
 * without its driver, a compile error; each driver is typed for the kinds that name it.
 */
import { LAYERS, type CpuDriverName, type SpecOf, type TypesOfDriver } from '../../nn/layers/registry.ts';
import type { LayerSpec } from '../../nn/layers/spec.ts';
import { activation } from './activation.ts';
import { avgpool } from './avgpool.ts';
import { batchnorm } from './batchnorm.ts';
import { conv } from './conv.ts';
import { dense } from './dense.ts';
import type { CoreLayer } from './driver.ts';
import { dropout } from './dropout.ts';
import { flatten } from './flatten.ts';
import { globalavgpool } from './globalavgpool.ts';
import { maxpool } from './maxpool.ts';

export const CPU_DRIVERS: { readonly [D in CpuDriverName]: CoreLayer<SpecOf<TypesOfDriver<D>>> } = {
  dense,
  conv,
  maxpool,
  avgpool,
  globalavgpool,
  batchnorm,
  dropout,
  flatten,
  activation,
};

/** The driver of a layer's kind. */
export function coreLayer<S extends LayerSpec>(spec: S): CoreLayer<S> {
  return CPU_DRIVERS[LAYERS[spec.type].cpu] as unknown as CoreLayer<S>;
}

export { savedInCore } from './driver.ts';
export type { CoreLayer, LayerAddresses, PreparedLayer, CoreBufferDecl } from './driver.ts';
