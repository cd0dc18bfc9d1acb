/**
 * The image pipeline: folder -> labeled files -> uint8 pixel vectors (cached) -> split -> mini-batches.
 * See each module for details; this file only gathers the public API.
 */
export { findImages, compareNatural, isImageName, labelFromFileName, labelFromFolderName, IMAGE_EXTENSIONS, LABEL_NAMES } from './find.ts';
export type { FoundImages, ImageFile, Label } from './find.ts';
export { decodeImage, decodeImageBytes, decodeSettingsOf, jpegShrink, readImageFile, readImageFileSync, bytesPerImage, checkDecodeSettings, loadSharp, describeSharpError, ImageDecodeError, DECODER_ID } from './decode.ts';
export type { DecodeSettings } from './decode.ts';
export { decodeImages, decoderProcessCount, AUTO_POOL_MIN_IMAGES } from './decode-stream.ts';
export type { DecodeImagesOptions, DecodeOutcome } from './decode-stream.ts';
export { builtDecoderScript, DecoderPool } from './decode-pool.ts';
export { cacheFileName, cacheKey, defaultCacheDir, readCache, writeCache, stampFiles } from './cache.ts';
export { loadDataset, sampleFiles, summarizeDataset, formatSummary } from './dataset.ts';
export type { Dataset, DatasetSummary, LoadDatasetOptions } from './dataset.ts';
export { splitTrainValidation, hashString } from './split.ts';
export type { Split } from './split.ts';
export { epochOrder, epochFlips, batchCount, pixelTable, channelStats, batchSource, fillBatch, fillInputs } from './batches.ts';
export type { BatchSource, BatchAugmentation } from './batches.ts';
export { EpochAugmentation, epochAugmentation } from './augment.ts';
export type { AugmentationSettings } from './augment.ts';
export { resizeImage, fitImage } from './resize.ts';
export { jpegHeader, jpegSize } from './jpeg-header.ts';
export type { JpegHeader } from './jpeg-header.ts';
