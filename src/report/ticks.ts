/**
 * "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten, the way people label axes by hand
 * (Heckbert's "nice numbers" idea, Graphics Gems, 1990).
 */

export interface Ticks {
  /** The axis range: widened to whole steps (loose), or exactly the data (tight). */
  min: number;
  max: number;
  step: number;
  /** Tick values from min to max inclusive, rounded to the step's decimals (no 0.30000000000000004). */
  values: number[];
}

/** The 1, 2, 5 or 10 times 10^k closest to x (round = true) or the smallest such number >= x. */
function niceNumber(x: number, round: boolean): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent; // in [1, 10)
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return Number((nice * 10 ** exponent).toPrecision(12)); // 2 * 10^-1 -> 0.2, not 0.20000000000000001
}

/** How many decimals print a multiple of `step` exactly (0 for steps of 1 or more). */
export function stepDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * Ticks covering [lo, hi] with about `count` labels. A zero-width range (one point, or a flat
 * line) is widened around its value so that the line sits in the middle of the axis.
 *
 * Loose (default): the axis is widened to whole steps, so it starts and ends on a label (good for
 * values, where the reader wants to see the scale). Tight: the axis is exactly [lo, hi] and only
 * the ticks inside are labelled (good for time and epochs, where white space after the last epoch
 * would only waste room). `integer` keeps the step a whole number (epoch or step counts).
 */
export function niceTicks(lo: number, hi: number, count = 5, options: { integer?: boolean; tight?: boolean } = {}): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: non-finite range [${lo}, ${hi}]`);
  if (lo > hi) [lo, hi] = [hi, lo];
  // Beyond +-1e307 the width hi - lo itself would overflow; no real curve needs such an axis.
  lo = Math.max(lo, -1e307);
  hi = Math.min(hi, 1e307);
  if (hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-12) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const range = options.tight ? hi - lo : niceNumber(hi - lo, false);
  const step = Math.max(niceNumber(range / Math.max(1, count - 1), true), options.integer ? 1 : 0);
  // Each tick is k * step for a whole k; 12 significant digits remove the binary rounding noise.
  const tick = (k: number): number => Number((k * step).toPrecision(12));
  const kFirst = options.tight ? Math.ceil(lo / step - 1e-9) : Math.floor(lo / step + 1e-9);
  const kLast = options.tight ? Math.floor(hi / step + 1e-9) : Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let k = kFirst; k <= kLast; k++) values.push(tick(k));
  if (options.tight) return { min: lo, max: hi, step, values };
  return { min: tick(kFirst), max: tick(kLast), step, values };
}

/**
 * A tick label that `Number()` reads back to the tick value: fixed decimals for ordinary numbers,
 * exponent form for very large or very small ones (1e+6, 2e-7).
 */
export function formatTick(value: number, step: number): string {
  if (value === 0) return '0';
  const decimals = stepDecimals(step);
  if (Math.abs(value) >= 1e6 || decimals > 6) return value.toExponential();
  return value.toFixed(decimals);
}
