/**
 * Augmentation of training batches: for every position of an epoch's order, whether to mirror the
 * image, which window of the stored image to take, and how much to shift its brightness and contrast.
 *
 * Everything is drawn at the start of the epoch, on the main thread, from streams seeded by
 * (seed, epoch, purpose) (batches.ts's epochSeed): a position's draws depend neither on the batch
 * size nor on the gradient core's threads, and a run resumed mid-epoch redraws exactly the same.
 * Each kind has its own stream, so turning one on leaves the others' draws (and the flips of runs
 * made before the others existed) unchanged. The arrays are allocated once and refilled each epoch;
 * fillBatch (batches.ts) applies them without allocating.
 *
 *   flip:        mirror with probability 1/2 (epochFlips)
 *   shift s:     (left, top), each uniform in 0..2s, read by shiftMode:
 *                crop: the window at (left, top) of the (width + 2s) x (height + 2s) stored image, shifted
 *                      by up to s pixels each way from the centre;
 *                pad:  the window at (left - s, top - s) of the width x height stored image padded with s
 *                      black pixels all round: the whole image moved by up to s pixels each way, the
 *                      uncovered border black (torchvision's RandomCrop(size, padding=s) before ToTensor)
 *                Both modes draw the same offsets from the same stream.
 *   brightness B: b uniform in [-B, B], added as b * 255 pixel levels
 *   contrast C:  c uniform in [1 - C, 1 + C], the factor about mid-grey
 */
import { epochFlips, epochSeed, STREAM, type BatchAugmentation } from './batches.ts';
import { Rng } from '../random/rng.ts';

/** How data.shift moves the image (see the module comment). */
export const SHIFT_MODES = ['crop', 'pad'] as const;
export type ShiftMode = (typeof SHIFT_MODES)[number];

/** The config fields (data section) that turn augmentation on. */
export interface AugmentationSettings {
  flip: boolean;
  shift: number;
  /** Default 'crop'. */
  shiftMode?: ShiftMode;
  brightness: number;
  contrast: number;
}

export class EpochAugmentation implements BatchAugmentation {
  readonly flips: Uint8Array | null;
  readonly offsets: Uint16Array | null;
  readonly jitter: Float32Array | null;
  readonly padding: number;

  /** Buffers for `count` positions (the training images) of the augmentations `settings` turns on. */
  constructor(
    private readonly settings: AugmentationSettings,
    readonly count: number,
  ) {
    if (!(Number.isInteger(settings.shift) && settings.shift >= 0 && settings.shift <= 32767)) throw new RangeError(`augmentation: shift must be a whole number from 0 to 32767, got ${settings.shift}`);
    if (!(settings.brightness >= 0 && settings.brightness <= 1) || !(settings.contrast >= 0 && settings.contrast <= 1)) {
      throw new RangeError(`augmentation: brightness and contrast must be in [0, 1], got ${settings.brightness} and ${settings.contrast}`);
    }
    this.flips = settings.flip ? new Uint8Array(count) : null;
    this.offsets = settings.shift > 0 ? new Uint16Array(2 * count) : null;
    this.padding = (settings.shiftMode ?? 'crop') === 'pad' ? settings.shift : 0;
    this.jitter = settings.brightness > 0 || settings.contrast > 0 ? new Float32Array(2 * count) : null;
  }

  /** Whether any augmentation is on. */
  get active(): boolean {
    return this.flips !== null || this.offsets !== null || this.jitter !== null;
  }

  /** Fills the buffers with the draws of `epoch` for `seed`; returns this. */
  draw(seed: number, epoch: number): this {
    if (this.flips !== null) epochFlips(this.count, seed, epoch, this.flips);
    if (this.offsets !== null) {
      const rng = new Rng(epochSeed(seed, epoch, STREAM.crop));
      const span = 2 * this.settings.shift + 1;
      for (let i = 0; i < 2 * this.count; i++) this.offsets[i] = rng.int(span);
    }
    if (this.jitter !== null) {
      const rng = new Rng(epochSeed(seed, epoch, STREAM.jitter));
      const { brightness, contrast } = this.settings;
      for (let p = 0; p < this.count; p++) {
        this.jitter[2 * p] = 1 + contrast * (2 * rng.uniform() - 1);
        this.jitter[2 * p + 1] = 255 * brightness * (2 * rng.uniform() - 1);
      }
    }
    return this;
  }
}

/** The augmentation for `count` training positions, or null when `settings` turn nothing on. */
export function epochAugmentation(settings: AugmentationSettings, count: number): EpochAugmentation | null {
  const augmentation = new EpochAugmentation(settings, count);
  return augmentation.active ? augmentation : null;
}
