/**
 * The model file: a JSON document that holds everything needed to predict.
 *
 *   {
 *     "format": "nn-train-model", "version": 2,
 *     "network": { "input": { "height": 64, "width": 64, "channels": 3 },
 *                  "layers": [ { "type": "conv", "filters": 32, ... }, ..., { "type": "dense", "units": 1, "bias": true } ] },
 *     "preprocessing": { "width": 64, "height": 64, "channels": 3, "fit": "fill",
 *                        "scale": 0.00392156862745098, "mean": null, "std": null },
 *     "weights":    { "dtype": "float32", "encoding": "base64-le", "count": 3162369, "data": "..." },
 *     "statistics": { "dtype": "float32", "encoding": "base64-le", "count": 960, "data": "..." },
 *     "meta": { ... free-form, e.g. epoch and validation loss ... }
 *   }
 *
 * weights is the flat parameter vector and statistics the flat statistics vector (batch norm's
 * running means and variances), both cut by the plan of the layer list (src/nn/plan.ts).
 * Version 1 files (a dense stack: "architecture": { "inputSize", "hidden", "activation" }, no
 * statistics) still load: their weights have the same layout. Every failure names the field.
 * readModelFile and writeModelFile read and write it on disk (atomically, see src/files.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ACTIVATION_NAMES } from '../nn/activations.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { denseStack, planNetwork, PlanError } from '../nn/plan.ts';
import { FIT_NAMES, RESIZE_NAMES, type Preprocessing } from '../data/preprocessing.ts';
import { describeFound } from '../config/issues.ts';
import { UserError } from '../errors.ts';
import { readTextFile, writeFileAtomic } from '../files.ts';
import { layerSchema } from '../config/schema.ts';
import { decodeFloats, encodeFloats, floatBufferSchema, ModelFormatError, parseDocument, parseJsonObject, type JsonValue } from './json-document.ts';

export type { Preprocessing } from '../data/preprocessing.ts';
export { ModelFormatError, parseJsonObject, type JsonValue } from './json-document.ts';

export const MODEL_FORMAT = 'nn-train-model';
export const MODEL_VERSION = 2;

export interface Model {
  network: NetworkSpec;
  preprocessing: Preprocessing;
  params: Float32Array;
  stats: Float32Array;
  meta: Record<string, JsonValue>;
}

const finite = z.number().refine(Number.isFinite, { error: (issue) => `expected a finite number, found ${describeFound(issue.input)}` });
const positive = finite.refine((v) => v > 0, { error: (issue) => `expected a positive number, found ${describeFound(issue.input)}` });
const positiveInt = (max: number) => z.int().min(1).max(max);

const preprocessingSchema = z
  .object({
    width: positiveInt(16384),
    height: positiveInt(16384),
    channels: z.union([z.literal(1), z.literal(3)]),
    fit: z.enum(FIT_NAMES),
    scale: positive,
    mean: z.array(finite).nullable().optional(),
    std: z.array(positive).nullable().optional(),
    // data.resize and data.shift (optional: older files have none; see imageGeometry and resizeOf).
    resize: z.enum(RESIZE_NAMES).optional(),
    decodeWidth: positiveInt(16384).optional(),
    decodeHeight: positiveInt(16384).optional(),
    cropLeft: z.int().min(0).optional(),
    cropTop: z.int().min(0).optional(),
  })
  .superRefine((p, ctx) => {
    // The input window must lie inside the decoded image.
    for (const [decoded, size, crop, cropKey, sizeKey] of [
      [p.decodeWidth ?? p.width, p.width, p.cropLeft ?? 0, 'cropLeft', 'decodeWidth'],
      [p.decodeHeight ?? p.height, p.height, p.cropTop ?? 0, 'cropTop', 'decodeHeight'],
    ] as const) {
      if (decoded < size) return ctx.addIssue({ code: 'custom', path: [sizeKey], message: `is ${decoded}, smaller than the input's ${size}` });
      if (crop + size > decoded) {
        return ctx.addIssue({ code: 'custom', path: [cropKey], message: `expected a whole number from 0 to ${decoded - size} (a ${size}-pixel window in ${decoded}), found ${crop}` });
      }
    }
    const mean = p.mean ?? null;
    const std = p.std ?? null;
    if ((mean === null) !== (std === null)) return ctx.addIssue({ code: 'custom', path: ['std'], message: 'mean and std must both be given or both be null' });
    for (const [name, values] of [['mean', mean], ['std', std]] as const) {
      if (values !== null && values.length !== p.channels) {
        ctx.addIssue({ code: 'custom', path: [name], message: `expected null or an array of ${p.channels} numbers, found ${values.length}` });
      }
    }
    // The network's inputs are float32 (v * scale - mean) / std for pixel values v in 0..255: each
    // must be finite, or every prediction would be NaN or a constant.
    for (let c = 0; c < p.channels; c++) {
      for (const v of [0, 255]) {
        const x = (v * p.scale - (mean?.[c] ?? 0)) / (std?.[c] ?? 1);
        if (!Number.isFinite(Math.fround(x))) {
          const culprit = !Number.isFinite(Math.fround(255 * p.scale)) || mean === null ? 'scale' : !Number.isFinite(Math.fround(mean[c]!)) ? `mean[${c}]` : `std[${c}]`;
          const detail = std === null ? '' : `, mean ${mean![c]}, std ${std[c]}`;
          return ctx.addIssue({ code: 'custom', path: [culprit], message: `makes the input of pixel value ${v} ${x}, beyond float32 (scale ${p.scale}${detail})` });
        }
      }
    }
  })
  .transform((p): Preprocessing => {
    const { width, height, channels, fit, scale, resize, decodeWidth, decodeHeight, cropLeft, cropTop } = p;
    const window = { resize, decodeWidth, decodeHeight, cropLeft, cropTop };
    const given = Object.fromEntries(Object.entries(window).filter(([, v]) => v !== undefined));
    return { width, height, channels, fit, scale, mean: p.mean ?? null, std: p.std ?? null, ...given };
  });

const shapeSchema = z.object({ height: positiveInt(16384), width: positiveInt(16384), channels: positiveInt(65536) });
const metaSchema = z.record(z.string(), z.unknown()).optional();

const version2Schema = z.object({
  network: z.object({ input: shapeSchema, layers: z.array(layerSchema).min(1) }),
  preprocessing: preprocessingSchema,
  weights: floatBufferSchema,
  statistics: floatBufferSchema,
  meta: metaSchema,
});

const version1Schema = z.object({
  architecture: z.object({
    inputSize: positiveInt(1 << 28),
    hidden: z.array(positiveInt(1 << 20)),
    activation: z.enum(ACTIVATION_NAMES),
  }),
  preprocessing: preprocessingSchema,
  weights: floatBufferSchema,
  meta: metaSchema,
});

export function encodeModel(model: Model): string {
  const plan = planNetwork(model.network);
  if (model.params.length !== plan.paramCount || model.stats.length !== plan.statCount) {
    throw new RangeError(`encodeModel: ${model.params.length} weights and ${model.stats.length} statistics for a network of ${plan.paramCount} and ${plan.statCount}`);
  }
  const doc = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    network: { input: model.network.input, layers: model.network.layers },
    preprocessing: model.preprocessing,
    weights: encodeFloats(model.params),
    statistics: encodeFloats(model.stats),
    meta: model.meta,
  };
  return JSON.stringify(doc) + '\n';
}

/** Parses a model document; throws ModelFormatError naming the field on any defect. */
export function decodeModel(text: string): Model {
  const doc = parseJsonObject(text);
  const format = doc.format;
  if (format === 'nn-train-checkpoint') {
    throw new ModelFormatError('format', 'this is a training checkpoint (last.json), not a model: give the model.json of the same run folder');
  }
  if (format !== MODEL_FORMAT) {
    throw new ModelFormatError('format', `expected "${MODEL_FORMAT}", found ${format === undefined ? 'nothing' : JSON.stringify(format)}: this is not an nn-train model file`);
  }
  const version = doc.version;
  if (version !== 1 && version !== 2) {
    const newer = typeof version === 'number' && version > MODEL_VERSION;
    throw new ModelFormatError('version', `expected 1 or 2, found ${version === undefined ? 'nothing' : JSON.stringify(version)}${newer ? ' (written by a newer nn-train)' : ''}`);
  }
  let network: NetworkSpec;
  let weights;
  let statistics = null;
  let preprocessing: Preprocessing;
  let meta;
  if (version === 1) {
    const v1 = parseDocument(version1Schema, doc);
    ({ preprocessing, weights, meta } = v1);
    const { inputSize, hidden, activation } = v1.architecture;
    const { width, height, channels } = preprocessing;
    if (width * height * channels !== inputSize) {
      throw new ModelFormatError('architecture.inputSize', `is ${inputSize} but preprocessing gives ${width}x${height}x${channels} = ${width * height * channels}`);
    }
    network = { input: { height, width, channels }, layers: denseStack(hidden, activation) };
  } else {
    const v2 = parseDocument(version2Schema, doc);
    ({ network, preprocessing, weights, statistics, meta } = v2);
    const { input } = network;
    if (input.height !== preprocessing.height || input.width !== preprocessing.width || input.channels !== preprocessing.channels) {
      throw new ModelFormatError(
        'network.input',
        `is ${input.height}x${input.width}x${input.channels} but preprocessing gives ${preprocessing.height}x${preprocessing.width}x${preprocessing.channels}`,
      );
    }
  }
  let plan;
  try {
    plan = planNetwork(network);
  } catch (err) {
    if (err instanceof PlanError) throw new ModelFormatError(`network.layers[${err.layer}]`, err.reason);
    throw err;
  }
  const params = decodeFloats(weights, plan.paramCount, 'weights', 'weights');
  const stats = statistics === null ? new Float32Array(0) : decodeFloats(statistics, plan.statCount, 'statistics', 'statistics');
  return { network, preprocessing, params, stats, meta: (meta ?? {}) as Record<string, JsonValue> };
}

/** Loads a model file; every defect becomes one line naming the file and the field. */
export function readModelFile(path: string): Model {
  const text = readTextFile(path, 'the model file');
  try {
    return decodeModel(text);
  } catch (err) {
    if (err instanceof ModelFormatError) throw new UserError(`${path}: bad model file: ${err.message}`);
    throw err;
  }
}

/**
 * readModelFile for a path given on a command line: a run folder given instead of its model gets a
 * pointer to the model file inside.
 */
export function readModelFileOrRunFolder(path: string): Model {
  try {
    return readModelFile(path);
  } catch (err) {
    const inside = join(path, 'model.json');
    if (err instanceof UserError && existsSync(inside)) throw new UserError(`${err.message} (the run's model is ${inside})`, err.exitCode);
    throw err;
  }
}

export function writeModelFile(path: string, model: Model): void {
  writeFileAtomic(path, encodeModel(model));
}
