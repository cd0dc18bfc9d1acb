/**
 * Reading a config: JSON text -> overrides -> zod validation. Every failure is a UserError (exit 2)
 * in one line that names the file, the JSON path of each bad field, what was expected and what
 * was found, e.g.
 *   configs/x.json: optimizer.lr: expected a number > 0, found -1; training.epochz: unknown key (did you mean "epochs"?)
 */
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { describeFound, expectedText, isSafeIntegerBound, jsonPath } from './issues.ts';
import { readTextFile } from '../files.ts';
import { checkJsonText, JsonTextError, lineColumn } from './json-text.ts';
import { LAYER_TYPES } from '../nn/layers/index.ts';
import { planNetwork, PlanError } from '../nn/plan.ts';
import { configSchema, DEFAULT_CONFIG, networkSpec, type Config } from './schema.ts';

/** A value set from the command line, applied to the raw JSON before validation. */
export interface Override {
  /** Dotted JSON path, e.g. "optimizer.lr". */
  path: string;
  value: unknown;
  /** The flag it came from, e.g. "--lr", so errors can name it. */
  flag: string;
}

/**
 * Parses JSON text; a syntax error becomes "file: invalid JSON at line L, column C: reason", and a
 * duplicate key is refused the same way (see json-text.ts).
 */
export function parseJsonText(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // tolerate a UTF-8 BOM
  if (body.trim() === '') throw new UserError(`${file}: the config file is empty`);
  // NUL or undecodable bytes: an image, an archive or UTF-16 text, not a JSON config.
  if (/[\u0000\ufffd]/.test(body.slice(0, 1024))) {
    throw new UserError(`${file}: not a JSON text file (it holds binary data, or text that is not UTF-8)`);
  }
  try {
    checkJsonText(body);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    const { line, column } = lineColumn(body, err.offset);
    throw new UserError(`${file}: invalid JSON at line ${line}, column ${column}: ${err.reason}`);
  }
  return JSON.parse(body);
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** Names people type for a field, mapped to the field. */
const ALIASES: Record<string, string> = {
  learningrate: 'lr',
  learning_rate: 'lr',
  rate: 'lr',
  batch: 'batchSize',
  batch_size: 'batchSize',
  momentum: 'beta',
  decay: 'rho',
  eps: 'epsilon',
  epoch: 'epochs',
  // layer types as other frameworks spell them
  conv2d: 'conv',
  convolution: 'conv',
  linear: 'dense',
  fc: 'dense',
  fully_connected: 'dense',
  maxpool2d: 'maxpool',
  max_pool: 'maxpool',
  maxpooling2d: 'maxpool',
  avgpool2d: 'avgpool',
  avg_pool: 'avgpool',
  averagepooling2d: 'avgpool',
  batchnorm2d: 'batchnorm',
  batch_norm: 'batchnorm',
  batchnormalization: 'batchnorm',
  bn: 'batchnorm',
  gap: 'globalavgpool',
  global_avg_pool: 'globalavgpool',
  globalaveragepooling2d: 'globalavgpool',
  adaptiveavgpool2d: 'globalavgpool',
  leakyrelu: 'leaky_relu',
};

function suggestion(key: string, known: string[]): string {
  const alias = ALIASES[key.toLowerCase()];
  if (alias && known.includes(alias)) return ` (did you mean "${alias}"?)`;
  let best = '';
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** The keys an object in the schema accepts at `path` (for the optimizer: those of its type). */
function knownKeys(path: PropertyKey[], raw: unknown): string[] {
  let schema: any = configSchema;
  let value: any = raw;
  for (const key of path) {
    schema = unwrapSchema(schema);
    if (schema._zod.def.type === 'union') {
      const type = value?.type;
      schema = schema._zod.def.options.find((o: any) => o._zod.def.shape.type._zod.def.values[0] === type) ?? schema._zod.def.options[0];
    }
    schema = schema._zod.def.type === 'array' ? schema._zod.def.element : schema._zod.def.shape?.[key as string];
    value = value?.[key as string];
    if (!schema) return [];
  }
  schema = unwrapSchema(schema);
  if (schema._zod.def.type === 'union') {
    const type = value?.type;
    schema = schema._zod.def.options.find((o: any) => o._zod.def.shape.type._zod.def.values[0] === type);
  }
  return schema?._zod.def.shape ? Object.keys(schema._zod.def.shape) : [];
}

function unwrapSchema(s: any): any {
  while (['default', 'prefault', 'nullable', 'optional'].includes(s._zod.def.type)) s = s._zod.def.innerType;
  return s;
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown, overrides: Override[]): string[] {
  const path = jsonPath(issue.path);
  const from = overrides.find((o) => o.path === path);
  const where = from ? `${from.flag} (${path})` : path || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path, raw);
    return issue.keys.map((k) => {
      const full = `${path ? path + '.' : ''}${k}`;
      // e.g. --lr on a genetic config, which has no learning rate: name the flag, not only the field.
      const flag = overrides.find((o) => o.path === full);
      return `${flag ? `${flag.flag} (${full})` : full}: unknown key${suggestion(k, known)}; expected one of ${known.join(', ')}`;
    });
  }
  if (issue.code === 'custom') return [`${where}: ${issue.message}`];
  let found = (issue as any).input;
  if (issue.code === 'invalid_union' && (issue as any).discriminator) {
    found = (found as Record<string, unknown> | undefined)?.[(issue as any).discriminator];
  }
  if (issue.code === 'invalid_type' && found === undefined) return [`${where}: required, expected ${expectedText(issue)}`];
  if (issue.code === 'invalid_union' && (issue as any).discriminator === 'type' && /(^|\.)layers\[\d+\]\.type$/.test(path)) {
    return [`${where}: ${layerTypeProblem(found)}`];
  }
  return [`${where}: expected ${expectedText(issue)}, found ${describeFound(found)}`];
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur: Record<string, unknown> = obj;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/** Validates a parsed config (plus overrides); `source` names it in errors (a file path). */
export function validateConfig(raw: unknown, source: string, overrides: Override[] = []): Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${source}: expected a JSON object at the top level, found ${describeFound(raw)}`);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  // An override of an optimizer field on a file without an optimizer applies to the default one.
  if (merged.optimizer === undefined && overrides.some((o) => o.path.startsWith('optimizer.'))) {
    merged.optimizer = structuredClone(DEFAULT_CONFIG.optimizer);
  }
  for (const o of overrides) setPath(merged, o.path, o.value);
  checkModelForm(merged.model, source);
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (result.success) {
    checkNetwork(result.data, source);
    return result.data;
  }
  const issues = result.error.issues;
  const samePath = (a: z.core.$ZodIssue, b: z.core.$ZodIssue) => a !== b && a.path.join('.') === b.path.join('.');
  const kept = issues.filter((issue) => !(isSafeIntegerBound(issue) && issues.some((other) => samePath(issue, other))));
  const problems = kept.flatMap((issue) => formatIssue(issue, merged, overrides));
  throw new UserError(`${source}: ${problems.join('; ')}`);
}

/** A config is a few hundred bytes; a larger file is not one (and /dev/zero never ends). */
const CONFIG_MAX_BYTES = 1 << 20;

/** Reads, parses and validates a config file. */
export function loadConfigFile(path: string, overrides: Override[] = []): Config {
  const text = readTextFile(path, 'the config file', CONFIG_MAX_BYTES);
  return validateConfig(parseJsonText(text, path), path, overrides);
}

/**
 * model.layers, or the dense stack of model.hidden + model.activation: never both. Given layers,
 * hidden and activation are set to null (the resolved config then shows one form only).
 */
function checkModelForm(model: unknown, source: string): void {
  if (typeof model !== 'object' || model === null || Array.isArray(model)) return; // zod names it
  const m = model as Record<string, unknown>;
  if (m.layers === undefined || m.layers === null) return;
  const extra = ['hidden', 'activation'].filter((k) => m[k] !== undefined && m[k] !== null);
  if (extra.length > 0) {
    throw new UserError(`${source}: model.${extra[0]}: give either model.layers or model.hidden and model.activation (a dense stack), not both`);
  }
  m.hidden = null;
  m.activation = null;
}

/**
 * The network must make sense for the image: every layer's shapes must fit (a pooling that leaves
 * less than 1x1, a kernel larger than its input, the output layer) before any work is done.
 */
function checkNetwork(config: Config, source: string): void {
  if (config.model.layers === null && (config.model.hidden === null || config.model.activation === null)) {
    throw new UserError(`${source}: model.${config.model.hidden === null ? 'hidden' : 'activation'}: null needs model.layers; give the hidden layer sizes and activation, or model.layers`);
  }
  if (config.optimizer.type === 'genetic' && config.model.layers !== null) {
    const i = config.model.layers.findIndex((l) => l.type === 'batchnorm' || l.type === 'dropout');
    if (i >= 0) {
      const why = config.model.layers[i]!.type === 'batchnorm' ? 'its running statistics come from training passes, which the genetic algorithm never makes' : 'it acts only in gradient training passes';
      throw new UserError(`${source}: model.layers[${i}]: the genetic algorithm cannot train a ${config.model.layers[i]!.type} layer (${why}); remove it, or use a gradient optimizer`);
    }
  }
  try {
    planNetwork(networkSpec(config));
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    const where = config.model.layers !== null ? `model.layers[${err.layer}]` : 'model.hidden';
    const image = `${config.data.height}x${config.data.width}x${config.data.channels}`;
    throw new UserError(`${source}: ${where}: ${err.reason} (the input image is ${image})`);
  }
}

/** An unknown layer type, with the nearest known one. */
function layerTypeProblem(found: unknown): string {
  const known: string[] = LAYER_TYPES;
  if (typeof found !== 'string') return `required, expected one of ${known.map((k) => JSON.stringify(k)).join(', ')}, found ${describeFound(found)}`;
  return `unknown layer type ${JSON.stringify(found)}${suggestion(found, known)}; expected one of ${known.map((k) => JSON.stringify(k)).join(', ')}`;
}
