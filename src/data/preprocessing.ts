/**
 * How an image becomes the network's input: the settings that training records in the model file
 * and that nn-eval repeats for every image it scores.
 */
export const FIT_NAMES = ['fill', 'cover', 'contain'] as const;
export type FitName = (typeof FIT_NAMES)[number];

/**
 * How the decoded image is brought to its size (src/data/decode.ts):
 *  - 'linear': a JPEG is decoded by libjpeg at 1/2, 1/4 or 1/8 scale (its DCT scaling, the largest
 *    that keeps the image at least as large as needed), then nn-train's antialiased bilinear filter
 *    (src/data/resize.ts) takes it to size. The fast one.
 *  - the others: sharp's own resize with that kernel (libvips; lanczos3 is what nn-train used before
 *    'linear' existed, and what a model file without the field was made with).
 */
export const RESIZE_NAMES = ['linear', 'nearest', 'cubic', 'mitchell', 'lanczos3'] as const;
export type ResizeName = (typeof RESIZE_NAMES)[number];
/** The resize of model files written before the field existed. */
export const LEGACY_RESIZE: ResizeName = 'lanczos3';

/**
 * How an image becomes the input vector: decode and resize to decodeWidth x decodeHeight, take the
 * width x height window at (cropLeft, cropTop), then x = pixel * scale, then (x - mean[c]) / std[c].
 *
 * The resize and window fields are optional: model files written before they existed have none, and
 * mean what nn-train did then (LEGACY_RESIZE, decoded at the input size, no window). Read them
 * through imageGeometry() and resizeOf(), never directly.
 */
export interface Preprocessing {
  /** The network's input size. */
  width: number;
  height: number;
  channels: 1 | 3;
  fit: FitName;
  resize?: ResizeName;
  /** The decoded (and cached) size: with data.shift, width + 2 * shift by height + 2 * shift. */
  decodeWidth?: number;
  decodeHeight?: number;
  /** The window validation and nn-eval take: the centre of the decoded image. */
  cropLeft?: number;
  cropTop?: number;
  scale: number;
  /** Per-channel mean and standard deviation of the scaled training pixels, or null for none. */
  mean: number[] | null;
  std: number[] | null;
}

/** Where the input window lies in the decoded image. */
export interface ImageGeometry {
  /** Input size. */
  width: number;
  height: number;
  channels: 1 | 3;
  /** Decoded (stored) size. */
  decodeWidth: number;
  decodeHeight: number;
  /** The window validation and nn-eval take. */
  cropLeft: number;
  cropTop: number;
}

/** The geometry of a preprocessing, with the defaults of files that predate the fields. */
export function imageGeometry(p: Pick<Preprocessing, 'width' | 'height' | 'channels' | 'decodeWidth' | 'decodeHeight' | 'cropLeft' | 'cropTop'>): ImageGeometry {
  return {
    width: p.width,
    height: p.height,
    channels: p.channels,
    decodeWidth: p.decodeWidth ?? p.width,
    decodeHeight: p.decodeHeight ?? p.height,
    cropLeft: p.cropLeft ?? 0,
    cropTop: p.cropTop ?? 0,
  };
}

/** The resize of a preprocessing (LEGACY_RESIZE when the file predates the field). */
export function resizeOf(p: Pick<Preprocessing, 'resize'>): ResizeName {
  return p.resize ?? LEGACY_RESIZE;
}

/**
 * The size fields for an input of width x height with random shifts of up to `shift` pixels each
 * way: decoded at width + 2 * shift by height + 2 * shift, the centre window at (shift, shift).
 */
export function shiftedGeometry(width: number, height: number, shift: number): Required<Pick<Preprocessing, 'decodeWidth' | 'decodeHeight' | 'cropLeft' | 'cropTop'>> {
  return { decodeWidth: width + 2 * shift, decodeHeight: height + 2 * shift, cropLeft: shift, cropTop: shift };
}
