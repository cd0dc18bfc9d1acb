/**
 * The GPU parts of the layer kinds, keyed by the `gpu` names of the layer registry
 * (src/nn/layers/registry.ts): a name without its part, or a part no entry names, does not compile.
 */
import type { GpuPartName } from '../../../nn/layers/registry.ts';
import { activationGpu } from './activation.ts';
import type { GpuLayerPart } from './context.ts';
import { batchnormGpu } from './batchnorm.ts';
import { convGpu } from './conv.ts';
import { denseGpu } from './dense.ts';
import { dropoutGpu } from './dropout.ts';
import { flattenGpu } from './flatten.ts';
import { globalavgpoolGpu } from './globalavgpool.ts';
import { avgpoolGpu, maxpoolGpu } from './pool.ts';

export const GPU_LAYERS: { readonly [N in GpuPartName]: GpuLayerPart } = {
  dense: denseGpu,
  conv: convGpu,
  activation: activationGpu,
  flatten: flattenGpu,
  dropout: dropoutGpu,
  maxpool: maxpoolGpu,
  avgpool: avgpoolGpu,
  globalavgpool: globalavgpoolGpu,
  batchnorm: batchnormGpu,
};
