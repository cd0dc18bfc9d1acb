/**
 * Reading a config: JSON text -> overrides -> zod validation. Every failure is a UserError (exit 2)
 * in one line that names the file, the JSON path of each bad field, what was expected and what
 * was found, e.g.
 *   configs/x.json: optimizer.lr: expected a number > 0, found -1; training.epochz: unknown key (did you mean "epochs"?)
 */
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { readTextFile } from '../io/files.ts';
import { checkJsonText, JsonTextError, lineColumn } from './json-text.ts';
import { configSchema, DEFAULT_CONFIG, type Config } from './schema.ts';

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

function describeFound(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  return String(v);
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
  layers: 'hidden',
  epoch: 'epochs',
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
    schema = schema._zod.def.shape?.[key as string];
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

function expectedText(issue: z.core.$ZodIssue): string {
  const i = issue as any;
  switch (issue.code) {
    case 'invalid_type':
      return i.expected === 'int' ? 'a whole number' : `${/^[aeiou]/.test(i.expected) ? 'an' : 'a'} ${i.expected}`;
    case 'too_small':
      if (i.origin === 'array') return `at least ${i.minimum} entries`;
      if (i.origin === 'string') return 'a non-empty string';
      return `a number ${i.inclusive ? '>=' : '>'} ${i.minimum}`;
    case 'too_big':
      if (i.origin === 'array') return `at most ${i.maximum} entries`;
      return `a number ${i.inclusive ? '<=' : '<'} ${i.maximum}`;
    case 'invalid_value':
      return `one of ${i.values.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if (i.discriminator) return `"${i.discriminator}" to be one of ${i.options.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
      return unionAlternatives(i.errors as z.core.$ZodIssue[][]) ?? 'one of the accepted forms';
    case 'invalid_format':
      return `a ${i.format}`;
    default:
      return issue.message;
  }
}

/**
 * What a plain union (channels: 1 | 3; batchSize: a number or "full") accepts, from the first issue
 * each alternative raised: "1 or 3", "a number >= 1 or \"full\"". Null when an alternative failed
 * deeper inside (then the alternatives are objects and a list would not help).
 */
function unionAlternatives(alternatives: z.core.$ZodIssue[][] | undefined): string | null {
  if (!alternatives?.length) return null;
  const texts: string[] = [];
  for (const issues of alternatives) {
    const first = issues[0];
    if (!first || first.path.length > 0) return null;
    const text = first.code === 'invalid_value' ? first.values.map((v) => JSON.stringify(v)).join(' or ') : expectedText(first);
    if (!texts.includes(text)) texts.push(text);
  }
  return texts.join(' or ');
}

/** JavaScript's own bound on whole numbers, which zod checks besides the schema's: noise next to the schema's bound. */
function isSafeIntegerBound(issue: z.core.$ZodIssue): boolean {
  const i = issue as any;
  return (issue.code === 'too_big' && i.maximum === Number.MAX_SAFE_INTEGER) || (issue.code === 'too_small' && i.minimum === Number.MIN_SAFE_INTEGER);
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown, overrides: Override[]): string[] {
  const path = issue.path.map(String).join('.');
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
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (result.success) {
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
