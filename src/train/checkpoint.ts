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
import { decodeWeights, encodeWeights, ModelFormatError, parseJsonObject } from '../io/model-file.ts';
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
  try {
    return decodeWeights(o.data, o.count);
  } catch (err) {
    // decodeWeights names its own field ("weights.data"); here the buffer has a name of its own.
    if (err instanceof ModelFormatError) throw new ModelFormatError(`${name}.data`, err.reason);
    throw err;
  }
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
    optimizer: { type: opt.type, scalars: shaped<SavedState['scalars']>(opt.scalars ?? {}, 'optimizer.scalars', {}), buffers },
    partial: shaped<Checkpoint['partial']>(field(doc, 'partial'), 'partial', { lossSum: 'number', images: 'count', seconds: 'number' }),
    smoothing: shaped<EwaState>(field(doc, 'smoothing'), 'smoothing', { t: 'count', average: 'number' }),
    history: list(field(doc, 'history'), 'history').map((m, i) => shaped<EpochMetrics>(m, `history.${i}`, METRIC_FIELDS)),
    best: field(doc, 'best') === null ? null : shaped<NonNullable<Checkpoint['best']>>(doc.best, 'best', { epoch: 'count', valLoss: 'number', valAccuracy: 'number' }),
    stale: int('stale'),
    dataset: shaped<Checkpoint['dataset']>(field(doc, 'dataset'), 'dataset', { images: 'count', fingerprint: 'string' }),
    normalization: field(doc, 'normalization') === null ? null : shaped<NonNullable<Checkpoint['normalization']>>(doc.normalization, 'normalization', { mean: 'numbers', std: 'numbers' }),
  };
}

/*
 * The rest of the checkpoint is checked as strictly as the weights: a hand-edited or foreign
 * last.json must fail here with the field's name, not later in the loop as a TypeError or as
 * garbage carried into metrics.jsonl.
 */
type FieldKind = 'number' | 'count' | 'string' | 'numbers' | 'number-or-null';

/** Per-epoch metrics; null stands for a NaN or Infinity, which JSON cannot hold. */
const METRIC_FIELDS: Record<string, FieldKind> = {
  epoch: 'count',
  trainLoss: 'number-or-null',
  valLoss: 'number-or-null',
  valAccuracy: 'number-or-null',
  seconds: 'number-or-null',
  imagesPerSecond: 'number-or-null',
  lr: 'number-or-null',
};

function list(v: unknown, name: string): unknown[] {
  if (!Array.isArray(v)) throw new ModelFormatError(name, 'expected a list');
  return v;
}

/** Checks that `v` is an object whose listed fields have the given kinds; other fields pass as they are. */
function shaped<T = Record<string, unknown>>(v: unknown, name: string, fields: Record<string, FieldKind>): T {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelFormatError(name, 'expected an object');
  const o = v as Record<string, unknown>;
  for (const [key, kind] of Object.entries(fields)) {
    const x = o[key];
    const ok =
      kind === 'number' ? typeof x === 'number'
      : kind === 'count' ? Number.isInteger(x) && (x as number) >= 0
      : kind === 'string' ? typeof x === 'string'
      : kind === 'number-or-null' ? typeof x === 'number' || x === null
      : Array.isArray(x) && x.every((e) => typeof e === 'number');
    if (!ok) {
      const expected = { number: 'a number', count: 'a whole number >= 0', string: 'a string', numbers: 'a list of numbers', 'number-or-null': 'a number or null' }[kind];
      throw new ModelFormatError(`${name}.${key}`, `expected ${expected}, found ${x === undefined ? 'nothing' : JSON.stringify(x)?.slice(0, 40)}`);
    }
  }
  return o as T;
}
