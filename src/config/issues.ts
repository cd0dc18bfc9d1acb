/**
 * How a zod issue reads in one line, for every JSON document nn-train checks (the config, the
 * model file, the checkpoint): the field's JSON path as people write it, what was expected and
 * what was found.
 */
import type { z } from 'zod';

/** "found" in an error: a short, quoted, one-line rendering of a JSON value. */
export function describeFound(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  return String(v);
}

/** What a failed check expected, e.g. "a number >= 1", "one of \"same\", \"valid\"". */
export function expectedText(issue: z.core.$ZodIssue): string {
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
export function isSafeIntegerBound(issue: z.core.$ZodIssue): boolean {
  const i = issue as any;
  return (issue.code === 'too_big' && i.maximum === Number.MAX_SAFE_INTEGER) || (issue.code === 'too_small' && i.minimum === Number.MIN_SAFE_INTEGER);
}

/** A JSON path as people write it: model.layers[3].filters. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/** "path: expected X, found Y" for an issue (the caller adds the document's name). */
export function issueLine(issue: z.core.$ZodIssue): string {
  const where = jsonPath(issue.path) || '(top level)';
  const found = (issue as { input?: unknown }).input;
  if (issue.code === 'custom') return `${where}: ${issue.message}`;
  if (issue.code === 'unrecognized_keys') return `${where === '(top level)' ? '' : where + '.'}${issue.keys[0]}: unknown key`;
  if (issue.code === 'invalid_type' && found === undefined) return `${where}: required, expected ${expectedText(issue)}`;
  return `${where}: expected ${expectedText(issue)}, found ${describeFound(found)}`;
}
