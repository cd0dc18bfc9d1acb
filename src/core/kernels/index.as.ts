// The WebAssembly kernels of the gradient core: the entry file that build.mjs compiles, twice
// (relaxed-SIMD FMA and plain SIMD). Memory is imported (env.memory, shared between threads) and
// every buffer is passed as a byte address; the kernels allocate nothing.
export { denseForward } from './forward.as';
export { weightGradient, inputGradient, weightPanelWidth, inputPanelWidth, listEntryBytes, packPanels, panelCount, panelStride } from './combine.as';
export { applyUpdate, sumSquares } from './update.as';
export * from './activation.as'; // the kernels and the activation_<name> ids
export {
  convBlockPositions, convPackForward, convForward, convWeightGradient, convSumPartials, convBiasGradient, convPackInputGradient, convInputGradient,
} from './conv.as';
export { winogradBlockTiles, winogradPack, winogradForward, winogradWeightGradient } from './conv-winograd.as';
export { batchnormBlockStats, batchnormTrainStats, batchnormInferScale, batchnormNormalize, batchnormNormalizeRelu, batchnormBackwardBlocks, batchnormBackwardBlocksRelu, batchnormBackwardCoefficients, batchnormBackwardApply, batchnormBackwardApplyRelu } from './batchnorm.as';
export { maxpoolForward, maxpoolForwardBatchnormRelu } from './maxpool.as';
export { avgpoolForward } from './avgpool.as';
export { poolBackward, maxpoolBackwardGated } from './pool.as';
export { globalavgpoolJobs, globalavgpoolForward, globalavgpoolBackward } from './globalavgpool.as';
export { dropoutForward, dropoutInfer, dropoutBackward } from './dropout.as';

/** First byte after the module's static data: the core lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base;
}
