/**
 * How an image becomes the network's input: the settings that training records in the model file
 * and that nn-eval repeats for every image it scores.
 */
export const FIT_NAMES = ['fill', 'cover', 'contain'] as const;
export type FitName = (typeof FIT_NAMES)[number];

/** How an image becomes the input vector: resize, then x = pixel * scale, then (x - mean[c]) / std[c]. */
export interface Preprocessing {
  width: number;
  height: number;
  channels: 1 | 3;
  fit: FitName;
  scale: number;
  /** Per-channel mean and standard deviation of the scaled training pixels, or null for none. */
  mean: number[] | null;
  std: number[] | null;
}

