/**
 * The checkpoint (`last.json` in the run folder): everything a resumed run needs to continue
 * exactly where it stopped, bit for bit.
 *
 *   format, version          "nn-train-checkpoint", 2 (1 still loads): the magic and version, checked first
 *   config                   the resolved config of the run (validated by the config schema when resumed)
 *   epoch, batch, step       completed epochs, batches done in the current epoch, global batch count
 *   params                   weights (base64 little-endian float32, as in the model file)
 *   stats                    batch norm's running statistics (version 2; none in version 1)
 *   optimizer                gradient optimizer state (step count + moment buffers), or the
 *                            genetic algorithm's state (population, generation)
 *                            (the epoch's shuffle, flips and dropout masks are re-derived from seed, epoch, step)
 *   partial                  sums of the current epoch so far (train loss, images, seconds)
 *   smoothing                the loss smoother's state
 *   history, best, stale     per-epoch metrics, the best epoch, epochs without improvement
 *   dataset                  a fingerprint of the data, so a resume on changed data is refused
 *   normalization            the standardisation statistics of the training split, or null
 */
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { EwaState } from '../optim/ewa.ts';
import { decodeFloats, encodeFloats, ModelFormatError, parseDocument, parseJsonObject } from './json-document.ts';

export const CHECKPOINT_FORMAT = 'nn-train-checkpoint';
export const CHECKPOINT_VERSION = 2;

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  lr: number | null;
  /** The gradient core's kernels and threads that ran the epoch. */
  kernel: string;
  workers: number;
}

/** Optimizer state as plain data: named float buffers plus scalars (step count, generation...). */
export interface SavedState {
  type: string;
  scalars: Record<string, number | (number | null)[]>;
  buffers: Record<string, Float32Array>;
}

export interface Checkpoint {
  config: Config;
  epoch: number;
  batch: number;
  step: number;
  params: Float32Array;
  stats: Float32Array;
  optimizer: SavedState;
  partial: { lossSum: number; images: number; seconds: number };
  smoothing: EwaState;
  history: EpochMetrics[];
  best: { epoch: number; valLoss: number; valAccuracy: number } | null;
  stale: number;
  dataset: { images: number; fingerprint: string };
  normalization: { mean: number[]; std: number[] } | null;
}

/** A float buffer in a checkpoint: { count, data } (base64 little-endian float32). */
const floats = z.object({ count: z.int().min(0), data: z.string() });
const count = z.int().min(0);
/** Per-epoch metrics; null stands for a NaN or Infinity, which JSON cannot hold. */
const numberOrNull = z.number().nullable();

const checkpointSchema = z.object({
  epoch: count,
  batch: count,
  step: count,
  config: z.unknown(),
  params: floats,
  stats: floats.optional(),
  optimizer: z.object({
    type: z.string(),
    scalars: z.record(z.string(), z.union([z.number(), z.array(z.number().nullable())])).default({}),
    buffers: z.record(z.string(), floats).default({}),
  }),
  partial: z.object({ lossSum: z.number(), images: count, seconds: z.number() }),
  smoothing: z.object({ t: count, average: z.number() }),
  history: z.array(
    z.looseObject({
      epoch: count,
      trainLoss: numberOrNull,
      valLoss: numberOrNull,
      valAccuracy: numberOrNull,
      seconds: numberOrNull,
      imagesPerSecond: numberOrNull,
      lr: numberOrNull,
    }),
  ),
  best: z.object({ epoch: count, valLoss: z.number(), valAccuracy: z.number() }).nullable(),
  stale: count,
  dataset: z.object({ images: count, fingerprint: z.string() }),
  normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
});

export function encodeCheckpoint(c: Checkpoint): string {
  const buffer = (b: Float32Array) => ({ count: b.length, data: encodeFloats(b).data });
  const buffers = Object.fromEntries(Object.entries(c.optimizer.buffers).map(([name, b]) => [name, buffer(b)]));
  return (
    JSON.stringify({
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      epoch: c.epoch,
      batch: c.batch,
      step: c.step,
      config: c.config,
      partial: c.partial,
      smoothing: c.smoothing,
      history: c.history,
      best: c.best,
      stale: c.stale,
      dataset: c.dataset,
      normalization: c.normalization,
      optimizer: { type: c.optimizer.type, scalars: c.optimizer.scalars, buffers },
      params: buffer(c.params),
      stats: buffer(c.stats),
    }) + '\n'
  );
}

/**
 * Decodes a checkpoint. The config inside is returned as stored (the caller validates it with the
 * schema, and checks the buffers against its network); every structural defect throws
 * ModelFormatError naming the field.
 */
export function decodeCheckpoint(text: string): Checkpoint {
  const doc = parseJsonObject(text);
  if (doc.format !== CHECKPOINT_FORMAT) throw new ModelFormatError('format', `expected "${CHECKPOINT_FORMAT}": this is not an nn-train checkpoint`);
  if (doc.version !== 1 && doc.version !== 2) throw new ModelFormatError('version', `expected 1 or 2, found ${JSON.stringify(doc.version)}`);
  const c = parseDocument(checkpointSchema, doc);
  const decode = (b: { count: number; data: string }, field: string) => decodeFloats({ dtype: 'float32', encoding: 'base64-le', ...b }, b.count, field, 'values');
  return {
    ...c,
    config: c.config as Config,
    params: decode(c.params, 'params'),
    stats: c.stats ? decode(c.stats, 'stats') : new Float32Array(0),
    optimizer: {
      type: c.optimizer.type,
      scalars: c.optimizer.scalars,
      buffers: Object.fromEntries(Object.entries(c.optimizer.buffers).map(([name, b]) => [name, decode(b, `optimizer.buffers.${name}`)])),
    },
    history: c.history as unknown as EpochMetrics[],
    smoothing: c.smoothing as EwaState,
  };
}
