/**
 * The checkpoint (`last.json` in the run folder): everything a resumed run needs to continue
 * exactly where it stopped, bit for bit.
 *
 *   format, version          "nn-train-checkpoint", 1: the magic and version, checked first
 *   config                   the resolved config of the run
 *   epoch, batch, step       completed epochs, batches done in the current epoch, global batch count
 *   params                   weights (base64 little-endian float32, as in the model file)
 *   optimizer                gradient optimizer state (step count + moment buffers), or the
 *                            genetic algorithm's state (population, generation)
 *                            (the epoch's shuffle and flips are re-derived from seed and epoch)
 *   partial                  sums of the current epoch so far (train loss, images, seconds)
 *   smoothing                the loss smoother's state
 *   history, best, stale     per-epoch metrics, the best epoch, epochs without improvement
 *   dataset                  a fingerprint of the data, so a resume on changed data is refused
 */
import type { Config } from '../config/schema.ts';
import { decodeWeights, encodeWeights, ModelFormatError, parseJsonObject } from '../nn/model-file.ts';
import type { EwaState } from '../optim/ewa.ts';

export const CHECKPOINT_FORMAT = 'nn-train-checkpoint';
export const CHECKPOINT_VERSION = 1;

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
  scalars: Record<string, number | number[]>;
  buffers: Record<string, Float32Array>;
}

export interface Checkpoint {
  config: Config;
  epoch: number;
  batch: number;
  step: number;
  params: Float32Array;
  optimizer: SavedState;
  partial: { lossSum: number; images: number; seconds: number };
  smoothing: EwaState;
  history: EpochMetrics[];
  best: { epoch: number; valLoss: number; valAccuracy: number } | null;
  stale: number;
  dataset: { images: number; fingerprint: string };
  normalization: { mean: number[]; std: number[] } | null;
}

export function encodeCheckpoint(c: Checkpoint): string {
  const buffers: Record<string, { count: number; data: string }> = {};
  for (const [name, b] of Object.entries(c.optimizer.buffers)) buffers[name] = { count: b.length, data: encodeWeights(b) };
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
      params: { count: c.params.length, data: encodeWeights(c.params) },
    }) + '\n'
  );
}

function field(doc: Record<string, unknown>, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(doc, key)) throw new ModelFormatError(key, 'is missing');
  return doc[key];
}

function floats(v: unknown, name: string): Float32Array {
  const o = v as { count?: unknown; data?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.count !== 'number' || typeof o.data !== 'string') {
    throw new ModelFormatError(name, 'expected {count, data}');
  }
  return decodeWeights(o.data, o.count);
}

/**
 * Decodes a checkpoint. The config inside is returned as stored (the caller validates it with the
 * schema); every structural defect throws ModelFormatError naming the field.
 */
export function decodeCheckpoint(text: string): Checkpoint {
  const doc = parseJsonObject(text);
  if (doc.format !== CHECKPOINT_FORMAT) throw new ModelFormatError('format', `expected "${CHECKPOINT_FORMAT}": this is not an nn-train checkpoint`);
  if (doc.version !== CHECKPOINT_VERSION) throw new ModelFormatError('version', `expected ${CHECKPOINT_VERSION}, found ${String(doc.version)}`);
  const opt = field(doc, 'optimizer') as { type?: unknown; scalars?: unknown; buffers?: Record<string, unknown> } | null;
  if (typeof opt !== 'object' || opt === null || typeof opt.type !== 'string') throw new ModelFormatError('optimizer', 'expected an object with a type');
  const buffers: Record<string, Float32Array> = {};
  for (const [name, b] of Object.entries(opt.buffers ?? {})) buffers[name] = floats(b, `optimizer.buffers.${name}`);
  const int = (key: string): number => {
    const v = field(doc, key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ModelFormatError(key, 'expected a whole number >= 0');
    return v;
  };
  return {
    config: field(doc, 'config') as Config,
    epoch: int('epoch'),
    batch: int('batch'),
    step: int('step'),
    params: floats(field(doc, 'params'), 'params'),
    optimizer: { type: opt.type, scalars: (opt.scalars ?? {}) as SavedState['scalars'], buffers },
    partial: field(doc, 'partial') as Checkpoint['partial'],
    smoothing: field(doc, 'smoothing') as EwaState,
    history: field(doc, 'history') as EpochMetrics[],
    best: field(doc, 'best') as Checkpoint['best'],
    stale: int('stale'),
    dataset: field(doc, 'dataset') as Checkpoint['dataset'],
    normalization: field(doc, 'normalization') as Checkpoint['normalization'],
  };
}
