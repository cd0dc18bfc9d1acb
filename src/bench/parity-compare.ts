/**
 * The verdict of the parity bench (parity.ts): nn-train against PyTorch, read against the rounding
 * noise floor of a run started from weights one unit in the last place away (nudged).
 */

import { UserError } from '../errors.ts';
import type { FloatBuffer } from '../optim/optimizer.ts';

/** A slice of a flat buffer: a weight tensor or a batch-norm statistic. */
export interface Slice {
  layer: number;
  name: string;
  offset: number;
  length: number;
}

/** Largest relative difference of a step's loss. */
export const LOSS_TOLERANCE = 1e-3;
/** Largest difference of a weight (or statistic) after the last step, relative to its tensor's RMS... */
export const WEIGHT_TOLERANCE = 1e-3;
/** ...or this many times the difference rounding alone makes (see nudged), if larger. */
export const NOISE_FACTOR = 10;

/** One side's results of a run: the loss of every step, the final weights and statistics (flat layouts). */
export interface Side {
  losses: number[];
  params: FloatBuffer;
  stats: FloatBuffer;
}

/** The comparison of one run, a row of the table. */
export interface Row {
  name: string;
  /** nn-train against PyTorch: the largest relative loss difference of a step, and that step (1-based). */
  lossDiff: number;
  lossStep: number;
  /** The same between nn-train and nn-train from the nudged weights: the rounding noise. */
  lossNoise: number;
  /** The largest ratio, over the steps, of the loss difference to the noise envelope (see compareRun). */
  lossOverNoise: number;
  /** The first step (1-based) whose loss differs by more than LOSS_TOLERANCE: against PyTorch, and nudged (null: none). */
  firstApart: number | null;
  firstApartNoise: number | null;
  /** The running maximum of the relative loss difference at steps GROWTH_STEPS: against PyTorch, and nudged. */
  growth: number[];
  growthNoise: number[];
  /** After the last step: the largest weight difference over its tensor's RMS, and the tensor. */
  weightDiff: number;
  weightWhere: string;
  weightNoise: number;
  /** The same for batch norm's running statistics. */
  statDiff: number;
  statNoise: number;
  pass: boolean;
}

/**
 * The initial weights moved by one unit in the last place of their own precision: the lowest
 * mantissa bit of every nonzero weight flipped. Trained like the others, it shows how far rounding
 * alone carries a run in `steps` steps: the noise floor the comparison with PyTorch is read against.
 */
export function nudged<F extends FloatBuffer>(init: F): F {
  const out = init.slice() as F;
  // The 32-bit word that holds an element's lowest mantissa bit: the element itself for float32,
  // the first (low, little-endian) half of a float64.
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength / 4);
  const stride = out.BYTES_PER_ELEMENT / 4;
  for (let i = 0; i < out.length; i++) if (out[i] !== 0) words[i * stride]! ^= 1;
  return out;
}

/** The steps at which the growth of the differences is shown (those within the run). */
export const GROWTH_STEPS = [1, 2, 3, 5, 10, 20, 50, 100, 200];

/** The largest |a - b| / rms(b) over the slices, and the slice where it is. */
function worstSlice(a: FloatBuffer, b: FloatBuffer, slices: readonly Slice[]): { diff: number; where: string } {
  let worst = { diff: 0, where: '-' };
  for (const s of slices) {
    let sq = 0;
    let max = 0;
    for (let i = s.offset; i < s.offset + s.length; i++) {
      sq += b[i]! * b[i]!;
      max = Math.max(max, Math.abs(a[i]! - b[i]!));
    }
    const rms = Math.sqrt(sq / s.length);
    const diff = max / (rms > 0 ? rms : 1);
    if (!(diff <= worst.diff)) worst = { diff, where: `layer ${s.layer} ${s.name}` };
  }
  return worst;
}

/** Per step, the relative loss difference |a - b| / |b| of two sides. */
function lossDifferences(a: Side, b: Side): number[] {
  if (a.losses.length !== b.losses.length) throw new UserError(`the sides took ${a.losses.length} and ${b.losses.length} steps`);
  return a.losses.map((l, s) => Math.abs(l - b.losses[s]!) / Math.abs(b.losses[s]!));
}

/**
 * The comparison of one run (step 5 of parity.ts). nn-train against PyTorch, read against the rounding noise:
 * nn-train against itself from the nudged weights, whose loss difference up to step s (the running
 * maximum: the noise envelope) says how far rounding alone has carried the run by then.
 * The run passes when
 *   - every step's loss difference is within max(LOSS_TOLERANCE, NOISE_FACTOR * envelope(s)):
 *     1e-3 while the run is predictable, and no worse than rounding would explain once it is not;
 *   - the final weights and statistics differ by at most max(WEIGHT_TOLERANCE, NOISE_FACTOR * the
 *     nudged run's difference), relative to each tensor's RMS.
 */
export function compareRun(name: string, nn: Side, torch: Side, noise: Side, manifest: { params: readonly Slice[]; stats: readonly Slice[] }): Row {
  const diffs = lossDifferences(nn, torch);
  const noises = lossDifferences(nn, noise);
  let lossDiff = 0;
  let lossStep = 0;
  let envelope = 0;
  let lossOverNoise = 0;
  let lossPass = true;
  diffs.forEach((diff, s) => {
    envelope = Math.max(envelope, noises[s]!);
    if (!(diff <= lossDiff)) (lossDiff = diff), (lossStep = s + 1);
    lossOverNoise = Math.max(lossOverNoise, diff / Math.max(envelope, Number.MIN_VALUE));
    if (!(diff <= Math.max(LOSS_TOLERANCE, NOISE_FACTOR * envelope))) lossPass = false;
  });
  const firstAbove = (d: number[]): number | null => {
    const i = d.findIndex((x) => !(x <= LOSS_TOLERANCE));
    return i < 0 ? null : i + 1;
  };
  const runningMax = (d: number[]): number[] => GROWTH_STEPS.filter((s) => s <= d.length).map((s) => Math.max(...d.slice(0, s)));
  const weights = worstSlice(nn.params, torch.params, manifest.params);
  const stats = worstSlice(nn.stats, torch.stats, manifest.stats);
  const weightNoise = worstSlice(nn.params, noise.params, manifest.params).diff;
  const statNoise = worstSlice(nn.stats, noise.stats, manifest.stats).diff;
  const pass =
    lossPass &&
    weights.diff <= Math.max(WEIGHT_TOLERANCE, NOISE_FACTOR * weightNoise) &&
    stats.diff <= Math.max(WEIGHT_TOLERANCE, NOISE_FACTOR * statNoise);
  return {
    name,
    lossDiff,
    lossStep,
    lossNoise: envelope,
    lossOverNoise,
    firstApart: firstAbove(diffs),
    firstApartNoise: firstAbove(noises),
    growth: runningMax(diffs),
    growthNoise: runningMax(noises),
    weightDiff: weights.diff,
    weightWhere: weights.where,
    weightNoise,
    statDiff: stats.diff,
    statNoise,
    pass,
  };
}
