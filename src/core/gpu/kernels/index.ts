/** Every WGSL kernel of the GPU core by name: one file each, <name>.wgsl.ts. */
import activationBackward from './activation-backward.wgsl.ts';
import activationForward from './activation-forward.wgsl.ts';
import adam from './adam.wgsl.ts';
import avgpoolBackward from './avgpool-backward.wgsl.ts';
import batchnormBlocks from './batchnorm-blocks.wgsl.ts';
import batchnormInfer from './batchnorm-infer.wgsl.ts';
import batchnormInputGrad from './batchnorm-input-grad.wgsl.ts';
import batchnormNormalize from './batchnorm-normalize.wgsl.ts';
import batchnormStats from './batchnorm-stats.wgsl.ts';
import batchnormSums from './batchnorm-sums.wgsl.ts';
import batchnormSumsBlocks from './batchnorm-sums-blocks.wgsl.ts';
import avgpoolForward from './avgpool-forward.wgsl.ts';
import globalavgpoolBackward from './globalavgpool-backward.wgsl.ts';
import globalavgpoolForward from './globalavgpool-forward.wgsl.ts';
import maxpoolBackward from './maxpool-backward.wgsl.ts';
import maxpoolForward from './maxpool-forward.wgsl.ts';
import convForward from './conv-forward.wgsl.ts';
import convForwardTiled from './conv-forward-tiled.wgsl.ts';
import convInputGrad from './conv-input-grad.wgsl.ts';
import convInputGradTiled from './conv-input-grad-tiled.wgsl.ts';
import convWeightGrad from './conv-weight-grad.wgsl.ts';
import convWeightGradSum from './conv-weight-grad-sum.wgsl.ts';
import convWeightGradTiled from './conv-weight-grad-tiled.wgsl.ts';
import denseForward from './dense-forward.wgsl.ts';
import denseInputGrad from './dense-input-grad.wgsl.ts';
import denseWeightGrad from './dense-weight-grad.wgsl.ts';
import dropoutBackward from './dropout-backward.wgsl.ts';
import dropoutForward from './dropout-forward.wgsl.ts';
import gatherBatch from './gather-batch.wgsl.ts';
import loss from './loss.wgsl.ts';
import momentum from './momentum.wgsl.ts';
import nesterov from './nesterov.wgsl.ts';
import normFinal from './norm-final.wgsl.ts';
import normPartial from './norm-partial.wgsl.ts';
import rmsprop from './rmsprop.wgsl.ts';
import sgd from './sgd.wgsl.ts';
import weightDecay from './weight-decay.wgsl.ts';

export const WGSL = {
  'gather-batch': gatherBatch,
  'dense-forward': denseForward,
  'dense-weight-grad': denseWeightGrad,
  'dense-input-grad': denseInputGrad,
  'conv-forward': convForward,
  'conv-forward-tiled': convForwardTiled,
  'conv-weight-grad': convWeightGrad,
  'conv-weight-grad-tiled': convWeightGradTiled,
  'conv-weight-grad-sum': convWeightGradSum,
  'conv-input-grad': convInputGrad,
  'conv-input-grad-tiled': convInputGradTiled,
  'activation-forward': activationForward,
  'activation-backward': activationBackward,
  'batchnorm-blocks': batchnormBlocks,
  'batchnorm-stats': batchnormStats,
  'batchnorm-normalize': batchnormNormalize,
  'batchnorm-infer': batchnormInfer,
  'batchnorm-sums-blocks': batchnormSumsBlocks,
  'batchnorm-sums': batchnormSums,
  'batchnorm-input-grad': batchnormInputGrad,
  'maxpool-forward': maxpoolForward,
  'maxpool-backward': maxpoolBackward,
  'avgpool-forward': avgpoolForward,
  'avgpool-backward': avgpoolBackward,
  'globalavgpool-forward': globalavgpoolForward,
  'globalavgpool-backward': globalavgpoolBackward,
  'dropout-forward': dropoutForward,
  'dropout-backward': dropoutBackward,
  loss,
  'weight-decay': weightDecay,
  'norm-partial': normPartial,
  'norm-final': normFinal,
  sgd,
  momentum,
  nesterov,
  rmsprop,
  adam,
} as const;

export type KernelName = keyof typeof WGSL;
