/**
 * The loop's view of the data: load (or read back from the cache) the labeled images, split them,
 * compute the standardisation statistics on the training split, and describe how to fill batches.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { epochAugmentation, type EpochAugmentation } from '../data/augment.ts';
import { batchSource, channelStats, loadDataset, splitTrainValidation, summarizeDataset, type BatchSource } from '../data/index.ts';
import { shiftedGeometry, type Preprocessing } from '../data/preprocessing.ts';
import type { Engine } from './engine.ts';
import type { EventSink } from './events.ts';

export interface PreparedData {
  preprocessing: Preprocessing;
  /** Indices of the training and validation images, ascending. */
  train: Uint32Array;
  validation: Uint32Array;
  /** What fillBatch reads. */
  source: BatchSource;
  /** The training batches' augmentation (draw it each epoch), or null when the config turns none on. */
  augmentation: EpochAugmentation | null;
  /** Number of images loaded. */
  pixelsCount: number;
  /** SHA-1 of the labels and pixels: a resumed run must see the same data. */
  fingerprint: string;
  normalization: { mean: number[]; std: number[] } | null;
}

export async function prepareData(config: Config, onEvent: EventSink, normalization: PreparedData['normalization'], signal?: AbortSignal): Promise<PreparedData> {
  const { width, height, channels, fit, resize, shift, shiftMode } = config.data;
  // Decoded (and cached) at the input size plus the room random crops move in (pad mode: the input size).
  const geometry = shiftedGeometry(width, height, shiftMode === 'crop' ? shift : 0);
  const started = performance.now();
  const dataset = await loadDataset({
    dir: config.data.train,
    preprocessing: { width: geometry.decodeWidth, height: geometry.decodeHeight, channels, fit, resize },
    limit: config.data.limit,
    ...(config.data.cache !== null ? { cacheDir: config.data.cache } : {}),
    onProgress: (done, total) => onEvent({ event: 'decode', done, total }),
    ...(signal ? { signal } : {}),
  });
  const split = splitTrainValidation(dataset.relativePaths, dataset.labels, { validationFraction: config.data.validation, seed: config.training.seed });
  const summary = summarizeDataset(dataset);
  if (summary.cats === 0 || summary.dogs === 0) {
    // With a small data.limit the sample may hold one class only: say so, it is the field to change.
    const limited = config.data.limit !== null ? ` among the ${dataset.labels.length} images that data.limit = ${config.data.limit} keeps (try a larger limit)` : '';
    throw new UserError(`${config.data.train}: training needs both classes, found ${summary.cats} cats and ${summary.dogs} dogs${limited}`);
  }
  if (split.train.length === 0 || split.validation.length === 0) {
    throw new UserError(
      `${config.data.train}: ${dataset.labels.length} images are too few for data.validation = ${config.data.validation} ` +
        `(${split.train.length} would be left for training, ${split.validation.length} for validation); add images or change data.validation`,
    );
  }
  // The split is stratified, but with a class of one or two images the training side can still
  // miss it: a network trained on one class learns nothing (it answers that class for everything).
  const trainDogs = split.train.reduce((n, i) => n + dataset.labels[i]!, 0);
  if (trainDogs === 0 || trainDogs === split.train.length) {
    throw new UserError(
      `${config.data.train}: with data.validation = ${config.data.validation} the training images hold only ${trainDogs === 0 ? 'cats' : 'dogs'} ` +
        `(${plural(split.train.length, 'image')}; ${plural(summary.cats, 'cat')} and ${plural(summary.dogs, 'dog')} in all); add images or lower data.validation`,
    );
  }
  if (dataset.cacheNote) onEvent({ event: 'warning', message: dataset.cacheNote });
  onEvent({
    event: 'dataset',
    images: dataset.labels.length,
    cats: summary.cats,
    dogs: summary.dogs,
    unlabeled: dataset.unlabeled,
    skipped: dataset.skipped.length,
    skippedFiles: dataset.skipped,
    train: split.train.length,
    validation: split.validation.length,
    fromCache: dataset.fromCache,
    cacheFile: dataset.cacheFile,
    seconds: (performance.now() - started) / 1000,
  });
  const scale = 1 / 255;
  const stats = config.data.standardize ? (normalization ?? channelStats(dataset.pixels, split.train, channels, dataset.inputSize, scale)) : null;
  const preprocessing: Preprocessing = { width, height, channels, fit, resize, ...geometry, scale, mean: stats?.mean ?? null, std: stats?.std ?? null };
  const fingerprint = createHash('sha1').update(dataset.labels).update(dataset.pixels).digest('hex');
  return {
    preprocessing,
    train: split.train,
    validation: split.validation,
    source: batchSource(dataset.pixels, dataset.labels, preprocessing),
    augmentation: epochAugmentation(config.data, split.train.length),
    pixelsCount: dataset.labels.length,
    fingerprint,
    normalization: stats,
  };
}

/**
 * Hands the images to an engine that can keep them in its own memory (the GPU core): batches are
 * then formed there, augmentation included, and only their descriptions cross each step. When they
 * do not fit, a warning says so and batches are formed here and uploaded, as for the CPU.
 */
export function offerImages(engine: Pick<Engine, 'holdImages'>, data: PreparedData, onEvent: EventSink): void {
  if (!engine.holdImages) return;
  const { source } = data;
  const { width, height, channels, decodeWidth, decodeHeight } = source;
  const why = engine.holdImages({ pixels: source.pixels, count: source.labels.length, width, height, channels, decodeWidth, decodeHeight, table: source.table });
  if (why !== null) onEvent({ event: 'warning', message: `${why}: batches are formed on the CPU and uploaded each step` });
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
