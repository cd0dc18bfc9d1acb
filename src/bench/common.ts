/** What the benchmarks share: medians and whole-number options. */
import { UserError } from '../errors.ts';

/** The median of a list of measurements (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** A "--name N" option: a whole number >= 1, or `fallback` when absent. */
export function positiveOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= 1)) throw new UserError(`--${name}: expected a whole number >= 1, found ${JSON.stringify(text)}`);
  return n;
}
