/**
 * Test-time augmentation: each image is predicted in several views and its probability is the mean
 * of the views' probabilities, p = (1/V) sum_v p_v (the mean of probabilities, not of logits: on
 * configs/cnn.json's validation it gave the lower log loss).
 *
 *   flip:   the centre window and its mirror image (2 views);
 *   shifts: the centre window moved by -h, 0 and +h pixels across and down (3 x 3 windows), each
 *           also mirrored (18 views). h is half the margin the stored image has around the window
 *           (data.shift's room: 4 for configs/cnn.json's shift of 8), so every window stays inside
 *           the image; an image stored without a margin gets only the flip's 2 views.
 *
 * The views are the augmentations training saw (src/data/augment.ts: mirroring, windows moved
 * inside the stored image), at their middle strength.
 */
import type { BatchAugmentation, WindowView } from './batches.ts';
import type { ImageGeometry } from './preprocessing.ts';

export const TTA_MODES = ['flip', 'shifts'] as const;
export type TtaMode = (typeof TTA_MODES)[number];

/** The centre window as it is: prediction without test-time augmentation. */
export const CENTRE_VIEW: WindowView = { dx: 0, dy: 0, mirror: false };

/** The views of `mode` for images of this geometry (null: the centre window alone). */
export function ttaViews(mode: TtaMode | null, g: ImageGeometry): WindowView[] {
  if (mode === null) return [CENTRE_VIEW];
  const steps = (margin: number) => {
    const h = Math.floor(margin / 2);
    return mode === 'shifts' && h > 0 ? [-h, 0, h] : [0];
  };
  const across = steps(Math.min(g.cropLeft, g.decodeWidth - g.width - g.cropLeft));
  const down = steps(Math.min(g.cropTop, g.decodeHeight - g.height - g.cropTop));
  const views: WindowView[] = [];
  for (const dy of down) for (const dx of across) for (const mirror of [false, true]) views.push({ dx, dy, mirror });
  return views;
}

/**
 * The most views `mode` gives (ttaViews: 18 for shifts when the model has room to shift, else 2):
 * what nn-eval plans its cores by before the model is read.
 */
export function maxTtaViews(mode: TtaMode | null): number {
  return mode === null ? 1 : mode === 'flip' ? 2 : 18;
}

/** "shifts: 18 views", for people. */
export function describeTta(mode: TtaMode | null, g: ImageGeometry): string {
  return mode === null ? 'none' : `${mode} (${ttaViews(mode, g).length} views)`;
}

/**
 * The augmentation that shows every one of `count` positions in `view` (for fillBatch and
 * fillBatchRows): the same window and mirroring for all.
 */
export function viewAugmentation(view: WindowView, count: number, g: ImageGeometry): BatchAugmentation {
  const offsets = new Uint16Array(2 * count);
  for (let p = 0; p < count; p++) {
    offsets[2 * p] = g.cropLeft + view.dx;
    offsets[2 * p + 1] = g.cropTop + view.dy;
  }
  return { flips: new Uint8Array(count).fill(view.mirror ? 1 : 0), offsets, jitter: null };
}
