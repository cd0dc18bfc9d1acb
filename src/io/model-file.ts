/**
 * The model file: a JSON document that holds everything needed to predict.
 *
 *   {
 *     "format": "nn-train-model", "version": 1,
 *     "architecture": { "inputSize": 12288, "hidden": [256, 64], "activation": "relu" },
 *     "preprocessing": { "width": 64, "height": 64, "channels": 3, "fit": "fill",
 *                        "scale": 0.00392156862745098, "mean": null, "std": null },
 *     "weights": { "dtype": "float32", "encoding": "base64-le", "count": 3162369, "data": "..." },
 *     "meta": { ... free-form, e.g. epoch and validation loss ... }
 *   }
 *
 * Weights are the flat parameter buffer (layout in architecture.ts) as little-endian float32 bytes
 * in base64: exact (bit-identical after a round trip) and about 1.33 bytes per byte of weights.
 * Decoding only calls JSON.parse (never evaluates code) and reads each field explicitly, so keys
 * such as "__proto__" are inert. Every failure names the field at fault.
 */
import { ACTIVATION_NAMES, type ActivationName } from '../nn/activations.ts';
import { parameterCount, type Architecture } from '../nn/architecture.ts';
import { FIT_NAMES, RESIZE_NAMES, type Preprocessing } from '../data/preprocessing.ts';

export type { Preprocessing } from '../data/preprocessing.ts';

export const MODEL_FORMAT = 'nn-train-model';
export const MODEL_VERSION = 1;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface Model {
  architecture: Architecture;
  preprocessing: Preprocessing;
  params: Float32Array;
  meta: Record<string, JsonValue>;
}

/** A model document is wrong; `field` is the JSON path at fault ("" for the whole document). */
export class ModelFormatError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'ModelFormatError';
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeWeights(params: Float32Array): string {
  let bytes = new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
  if (!littleEndian) {
    bytes = new Uint8Array(params.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < params.length; i++) view.setFloat32(i * 4, params[i]!, true);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function decodeWeights(data: string, count: number): Float32Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) {
    throw new ModelFormatError('weights.data', 'is not valid base64');
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length !== count * 4) {
    throw new ModelFormatError('weights.data', `holds ${bytes.length} bytes, expected ${count * 4} (${count} float32)`);
  }
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function encodeModel(model: Model): string {
  const count = parameterCount(model.architecture);
  if (model.params.length !== count) {
    throw new RangeError(`encodeModel: ${model.params.length} weights for an architecture of ${count}`);
  }
  const { inputSize, hidden, activation } = model.architecture;
  const doc = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    architecture: { inputSize, hidden: [...hidden], activation },
    preprocessing: model.preprocessing,
    weights: { dtype: 'float32', encoding: 'base64-le', count, data: encodeWeights(model.params) },
    meta: model.meta,
  };
  return JSON.stringify(doc) + '\n';
}

// ---- decoding: explicit readers, each naming its field ----

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function own(obj: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ModelFormatError(field, `expected an object, found ${v === undefined ? 'nothing' : describe(v)}`);
  }
  return v as Obj;
}

function positiveInt(v: unknown, field: string, max = 1 << 28): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ModelFormatError(field, `expected a whole number from 1 to ${max}, found ${v === undefined ? 'nothing' : describe(v)}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
    throw new ModelFormatError(field, `expected one of ${options.join(', ')}, found ${v === undefined ? 'nothing' : describe(v)}`);
  }
  return v as T;
}

function finiteNumber(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ModelFormatError(field, `expected a finite number, found ${v === undefined ? 'nothing' : describe(v)}`);
  }
  return v;
}

function channelStats(v: unknown, field: string, channels: number, positive: boolean): number[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || v.length !== channels) {
    throw new ModelFormatError(field, `expected null or an array of ${channels} numbers, found ${describe(v)}`);
  }
  return v.map((x, i) => {
    const n = finiteNumber(x, `${field}[${i}]`);
    if (positive && !(n > 0)) throw new ModelFormatError(`${field}[${i}]`, `expected a positive number, found ${n}`);
    return n;
  });
}

export function decodeArchitecture(v: unknown, field = 'architecture'): Architecture {
  const a = object(v, field);
  const inputSize = positiveInt(own(a, 'inputSize'), `${field}.inputSize`);
  const hiddenRaw = own(a, 'hidden');
  if (!Array.isArray(hiddenRaw)) {
    throw new ModelFormatError(`${field}.hidden`, `expected an array of layer sizes, found ${hiddenRaw === undefined ? 'nothing' : describe(hiddenRaw)}`);
  }
  const hidden = hiddenRaw.map((h, i) => positiveInt(h, `${field}.hidden[${i}]`, 1 << 20));
  const activation: ActivationName = oneOf(own(a, 'activation'), `${field}.activation`, ACTIVATION_NAMES);
  return { inputSize, hidden, activation };
}

export function decodePreprocessing(v: unknown, field = 'preprocessing'): Preprocessing {
  const p = object(v, field);
  const width = positiveInt(own(p, 'width'), `${field}.width`, 16384);
  const height = positiveInt(own(p, 'height'), `${field}.height`, 16384);
  const channelsRaw = own(p, 'channels');
  if (channelsRaw !== 1 && channelsRaw !== 3) {
    throw new ModelFormatError(`${field}.channels`, `expected 1 or 3, found ${channelsRaw === undefined ? 'nothing' : describe(channelsRaw)}`);
  }
  const channels = channelsRaw;
  const fit = oneOf(own(p, 'fit'), `${field}.fit`, FIT_NAMES);
  const scale = finiteNumber(own(p, 'scale'), `${field}.scale`);
  if (!(scale > 0)) throw new ModelFormatError(`${field}.scale`, `expected a positive number, found ${scale}`);
  const mean = channelStats(own(p, 'mean'), `${field}.mean`, channels, false);
  const std = channelStats(own(p, 'std'), `${field}.std`, channels, true);
  if ((mean === null) !== (std === null)) {
    throw new ModelFormatError(`${field}.std`, 'mean and std must both be given or both be null');
  }
  // The network's inputs are float32 (v * scale - mean) / std for pixel values v in 0..255: each must
  // be finite, or every prediction would be NaN or a constant.
  for (let c = 0; c < channels; c++) {
    for (const v of [0, 255]) {
      const x = (v * scale - (mean?.[c] ?? 0)) / (std?.[c] ?? 1);
      if (!Number.isFinite(Math.fround(x))) {
        const culprit = !Number.isFinite(Math.fround(255 * scale)) || mean === null ? 'scale' : !Number.isFinite(Math.fround(mean[c]!)) ? `mean[${c}]` : `std[${c}]`;
        throw new ModelFormatError(`${field}.${culprit}`, `makes the input of pixel value ${v} ${x}, beyond float32 (scale ${scale}${std === null ? '' : `, mean ${mean![c]}, std ${std[c]}`})`);
      }
    }
  }
  return { width, height, channels, fit, scale, mean, std, ...decodeWindow(p, field, width, height) };
}

/**
 * The optional preprocessing fields of data.resize and data.shift: how the image was resized, the
 * decoded size and the window of it the network sees (the centre). Files written before they existed
 * have none (src/data/preprocessing.ts gives their meaning); each one present is checked.
 */
function decodeWindow(p: Obj, field: string, width: number, height: number): Pick<Preprocessing, 'resize' | 'decodeWidth' | 'decodeHeight' | 'cropLeft' | 'cropTop'> {
  const out: Pick<Preprocessing, 'resize' | 'decodeWidth' | 'decodeHeight' | 'cropLeft' | 'cropTop'> = {};
  if (own(p, 'resize') !== undefined) out.resize = oneOf(own(p, 'resize'), `${field}.resize`, RESIZE_NAMES);
  if (own(p, 'decodeWidth') !== undefined) out.decodeWidth = positiveInt(own(p, 'decodeWidth'), `${field}.decodeWidth`, 16384);
  if (own(p, 'decodeHeight') !== undefined) out.decodeHeight = positiveInt(own(p, 'decodeHeight'), `${field}.decodeHeight`, 16384);
  for (const [key, size, decoded] of [['decodeWidth', width, out.decodeWidth], ['decodeHeight', height, out.decodeHeight]] as const) {
    if (decoded !== undefined && decoded < size) throw new ModelFormatError(`${field}.${key}`, `is ${decoded}, smaller than the input's ${size}`);
  }
  for (const [key, size, decoded] of [['cropLeft', width, out.decodeWidth ?? width], ['cropTop', height, out.decodeHeight ?? height]] as const) {
    const v = own(p, key);
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v + size > decoded) {
      throw new ModelFormatError(`${field}.${key}`, `expected a whole number from 0 to ${decoded - size} (a ${size}-pixel window in ${decoded}), found ${describe(v)}`);
    }
    out[key] = v;
  }
  return out;
}

/**
 * Parses a JSON document (a model or a checkpoint) whose top level must be an object. JSON.parse
 * never evaluates code, and callers read fields with own() only.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  // A byte-order mark (editors on Windows add one) is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new ModelFormatError('', 'the file is empty');
  // NUL or undecodable bytes near the start: an image, an archive or UTF-16, not a JSON text file.
  if (/[\u0000\ufffd]/.test(text.slice(0, 1024))) {
    throw new ModelFormatError('', 'not a JSON text file (it holds binary data, or text that is not UTF-8)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError('', describeJsonError((e as Error).message, text));
  }
  return object(raw, '(document)');
}

/**
 * One line for a JSON.parse failure. V8 quotes a piece of the text in some messages, which may hold
 * newlines or terminal control characters: those are escaped. "Truncated" is said only when the parser
 * ran into the end of the text.
 */
function describeJsonError(message: string, text: string): string {
  const at = /at position (\d+)/.exec(message);
  const atEnd = /Unexpected end of JSON input/.test(message) || (at !== null && Number(at[1]) >= text.trimEnd().length - 1);
  const oneLine = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `not valid JSON (${oneLine.length > 160 ? oneLine.slice(0, 160) + '...' : oneLine})${atEnd ? '; the file may be truncated' : ''}`;
}

/** Parses a model document; throws ModelFormatError naming the field on any defect. */
export function decodeModel(text: string): Model {
  const doc = parseJsonObject(text);
  const format = own(doc, 'format');
  if (format === 'nn-train-checkpoint') {
    throw new ModelFormatError('format', 'this is a training checkpoint (last.json), not a model: give the model.json of the same run folder');
  }
  if (format !== MODEL_FORMAT) {
    throw new ModelFormatError('format', `expected "${MODEL_FORMAT}", found ${format === undefined ? 'nothing' : describe(format)}: this is not an nn-train model file`);
  }
  const version = own(doc, 'version');
  if (version !== MODEL_VERSION) {
    const newer = typeof version === 'number' && version > MODEL_VERSION;
    throw new ModelFormatError(
      'version',
      `expected ${MODEL_VERSION}, found ${version === undefined ? 'nothing' : describe(version)}${newer ? ' (written by a newer nn-train)' : ''}`,
    );
  }
  const architecture = decodeArchitecture(own(doc, 'architecture'));
  const preprocessing = decodePreprocessing(own(doc, 'preprocessing'));
  const inputFromImage = preprocessing.width * preprocessing.height * preprocessing.channels;
  if (inputFromImage !== architecture.inputSize) {
    throw new ModelFormatError(
      'architecture.inputSize',
      `is ${architecture.inputSize} but preprocessing gives ${preprocessing.width}x${preprocessing.height}x${preprocessing.channels} = ${inputFromImage}`,
    );
  }
  const w = object(own(doc, 'weights'), 'weights');
  oneOf(own(w, 'dtype'), 'weights.dtype', ['float32'] as const);
  oneOf(own(w, 'encoding'), 'weights.encoding', ['base64-le'] as const);
  const expected = parameterCount(architecture);
  const count = own(w, 'count');
  if (count !== expected) {
    throw new ModelFormatError('weights.count', `the architecture needs ${expected} weights, the file says ${describe(count)}`);
  }
  const data = own(w, 'data');
  if (typeof data !== 'string') throw new ModelFormatError('weights.data', `expected a base64 string, found ${describe(data)}`);
  const params = decodeWeights(data, expected);
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i]!)) throw new ModelFormatError('weights.data', `weight ${i} is ${params[i]}, not a finite number`);
  }
  const metaRaw = own(doc, 'meta');
  const meta = metaRaw === undefined ? {} : (object(metaRaw, 'meta') as Record<string, JsonValue>);
  return { architecture, preprocessing, params, meta };
}
