/**
 * Mini-batches: per-epoch seeded order and flips, and uint8 pixels -> float32 inputs, through the
 * augmentation of training batches (src/data/augment.ts draws it) or the centre window.
 *
 * Input of the network for pixel value v (0..255) of channel c (preprocessing of the model file):
 *
 *   x = v * scale                      (scale = 1/255 gives [0, 1])
 *   x = (x - mean[c]) / std[c]         (only when mean and std are set: per-channel standardisation)
 *
 * The stored (decoded) image may be larger than the input (data.shift): a batch row is the input's
 * width x height window of it, at the position augmentation drew, or at the centre (validation,
 * nn-eval, and training without data.shift, where the window is the whole image). A mirrored row
 * reads the window right to left. Brightness and contrast jitter map each value v to
 *
 *   j(v) = clamp(round(contrast * (v - 127.5) + 127.5 + brightness), 0, 255)
 *
 * before the table, by composing j with the table into a per-image table of (channels, 256).
 *
 * Since v takes only 256 values, the formula is evaluated once per (channel, value) into a lookup
 * table of (channels, 256) float32, and a batch is filled by table look-ups: no division per pixel,
 * and training and prediction (nn-eval) share the same table so their inputs are bit-identical.
 *
 * Nothing here allocates per sample or per batch: the caller owns and reuses every buffer.
 */
import type { BatchRows } from '../core/batch-rows.ts';
import { imageGeometry, type ImageGeometry, type Preprocessing } from './preprocessing.ts';
import { Rng } from '../random/rng.ts';

/**
 * The stream seed for (seed, epoch, purpose), so each epoch's shuffle and each kind of augmentation
 * are reproducible on their own (purposes: STREAM).
 */
export function epochSeed(seed: number, epoch: number, purpose: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ epoch, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ purpose, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The purposes of epochSeed's streams: one per kind of draw, never reused. */
export const STREAM = { shuffle: 1, flip: 2, crop: 3, jitter: 4 } as const;

/**
 * The order in which the training samples are visited in `epoch`: a seeded shuffle (Fisher-Yates with
 * Rng) of `indices`, written into `out` (allocated if not given). Depends only on (indices, seed,
 * epoch), so a run resumed at epoch e sees the same order as an uninterrupted one.
 */
export function epochOrder(indices: Uint32Array, seed: number, epoch: number, out?: Uint32Array): Uint32Array {
  const order = out ?? new Uint32Array(indices.length);
  if (order.length !== indices.length) throw new RangeError(`epochOrder: out has ${order.length} slots for ${indices.length} indices`);
  order.set(indices);
  new Rng(epochSeed(seed, epoch, STREAM.shuffle)).shuffle(order);
  return order;
}

/**
 * Horizontal-flip decisions for the `count` positions of an epoch's order: 1 = mirror that sample.
 * Each position flips with probability 1/2, from its own seeded stream (independent of the shuffle).
 */
export function epochFlips(count: number, seed: number, epoch: number, out?: Uint8Array): Uint8Array {
  const flips = out ?? new Uint8Array(count);
  if (flips.length < count) throw new RangeError(`epochFlips: out has ${flips.length} slots for ${count}`);
  const rng = new Rng(epochSeed(seed, epoch, STREAM.flip));
  for (let i = 0; i < count; i++) flips[i] = rng.nextUint32() >>> 31;
  return flips;
}

/** Number of mini-batches of `batchSize` in `n` samples; the last one may be partial (never dropped). */
export function batchCount(n: number, batchSize: number): number {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a whole number >= 1, got ${batchSize}`);
  return Math.ceil(n / batchSize);
}

/** The (channels, 256) float32 table of inputs for each pixel value (see the module comment). */
export function pixelTable(preprocessing: Pick<Preprocessing, 'channels' | 'scale' | 'mean' | 'std'>): Float32Array {
  const { channels, scale, mean, std } = preprocessing;
  const table = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const m = mean?.[c] ?? 0;
    const s = std?.[c] ?? 1;
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v * scale - m) / s;
  }
  return table;
}

/**
 * Per-channel mean and standard deviation of the scaled pixels (v * scale) of the images `indices`
 * of `pixels` (N, inputSize), inputSize = height * width * channels in HWC order: the statistics
 * recorded in the model file, computed on the training split only.
 * Exact: counts each channel's 256 values, then takes the moments of the histogram, so there is no
 * rounding drift over 10^8 pixels. A channel with zero spread gets std 1 (it is then only centred).
 */
export function channelStats(
  pixels: Uint8Array,
  indices: Uint32Array,
  channels: number,
  inputSize: number,
  scale = 1 / 255,
): { mean: number[]; std: number[] } {
  if (indices.length === 0) throw new RangeError('channelStats: no images');
  if (inputSize % channels !== 0) throw new RangeError(`channelStats: inputSize ${inputSize} is not a multiple of ${channels} channels`);
  const hist = new Float64Array(channels * 256);
  for (let k = 0; k < indices.length; k++) {
    const base = indices[k]! * inputSize;
    if (base + inputSize > pixels.length) throw new RangeError(`channelStats: image ${indices[k]} is past the end of pixels`);
    for (let p = 0; p < inputSize; p += channels) {
      for (let c = 0; c < channels; c++) hist[c * 256 + pixels[base + p + c]!]! += 1;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let n = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      n += hist[c * 256 + v]!;
      sum += v * hist[c * 256 + v]!;
    }
    const mu = sum / n;
    let sq = 0;
    for (let v = 0; v < 256; v++) sq += (v - mu) * (v - mu) * hist[c * 256 + v]!;
    const sigma = Math.sqrt(sq / n) * scale;
    mean.push(mu * scale);
    std.push(sigma > 0 ? sigma : 1);
  }
  return { mean, std };
}

/** What fillBatch reads: the dataset bytes and labels, the image shapes and the pixel table. */
export interface BatchSource extends ImageGeometry {
  /** (N, S) uint8, S = decodeHeight * decodeWidth * channels, HWC. */
  pixels: Uint8Array;
  /** (N) 0 = cat, 1 = dog. */
  labels: Uint8Array;
  /** D = height * width * channels: one input row. */
  inputSize: number;
  /** S: one stored image. */
  storedSize: number;
  /** (channels, 256) float32, from pixelTable. */
  table: Float32Array;
  /** Scratch (channels, 256) for one image's jittered table: filled per image, never reallocated. */
  jitterTable: Float32Array;
}

export function batchSource(
  pixels: Uint8Array,
  labels: Uint8Array,
  preprocessing: Pick<Preprocessing, 'width' | 'height' | 'channels' | 'decodeWidth' | 'decodeHeight' | 'cropLeft' | 'cropTop' | 'scale' | 'mean' | 'std'>,
): BatchSource {
  const geometry = checkedGeometry(preprocessing);
  const { width, height, channels, decodeWidth, decodeHeight } = geometry;
  const storedSize = decodeWidth * decodeHeight * channels;
  if (pixels.length !== labels.length * storedSize) {
    throw new RangeError(`batchSource: ${pixels.length} bytes of pixels for ${labels.length} images of ${storedSize}`);
  }
  const table = pixelTable(preprocessing);
  return { ...geometry, pixels, labels, inputSize: width * height * channels, storedSize, table, jitterTable: new Float32Array(table.length) };
}

/** The geometry of a preprocessing, checked: the centre window lies inside the decoded image. */
function checkedGeometry(p: Parameters<typeof imageGeometry>[0]): ImageGeometry {
  const g = imageGeometry(p);
  if (g.cropLeft < 0 || g.cropTop < 0 || g.cropLeft + g.width > g.decodeWidth || g.cropTop + g.height > g.decodeHeight) {
    throw new RangeError(`the ${g.width}x${g.height} window at (${g.cropLeft}, ${g.cropTop}) leaves the ${g.decodeWidth}x${g.decodeHeight} image`);
  }
  return g;
}

/**
 * The augmentation of one epoch's training positions (indexed like `order`; src/data/augment.ts
 * draws it). Each part is null when that augmentation is off.
 */
export interface BatchAugmentation {
  /** 1 = mirror the image at this position left-right. */
  readonly flips: Uint8Array | null;
  /** The window of position p: left at [2p], top at [2p + 1], in pixels of the stored image padded by `padding`. */
  readonly offsets: Uint16Array | null;
  /**
   * Black pixels around the stored image that a window may take (pad mode of data.shiftMode): the
   * window's corner in the stored image is (left - padding, top - padding). Absent: 0.
   */
  readonly padding?: number;
  /** Position p's contrast factor at [2p] and brightness shift (pixel levels) at [2p + 1]. */
  readonly jitter: Float32Array | null;
}

/**
 * Writes the mini-batch order[start .. start + count) into x (B, D) row by row and its labels into
 * y (B), and returns the number of rows written: count, or fewer for the last partial batch. Rows past
 * the returned number are left untouched. `augmentation` (training only) gives each position its
 * window, mirroring and jitter; null (validation, or nothing to augment) takes the centre window as
 * it is.
 * x and y may be views of shared memory (the gradient core's): nothing else is allocated.
 */
export function fillBatch(
  src: BatchSource,
  order: Uint32Array,
  start: number,
  count: number,
  x: Float32Array,
  y: Float32Array,
  augmentation: BatchAugmentation | null = null,
): number {
  const { pixels, labels, inputSize: d, storedSize, table } = src;
  const rows = Math.max(0, Math.min(count, order.length - start));
  if (x.length < rows * d || y.length < rows) {
    throw new RangeError(`fillBatch: x holds ${x.length} floats and y ${y.length} for ${rows} rows of ${d}`);
  }
  const flips = augmentation?.flips ?? null;
  const offsets = augmentation?.offsets ?? null;
  const jitter = augmentation?.jitter ?? null;
  const padding = offsets !== null ? (augmentation?.padding ?? 0) : 0;
  for (let r = 0; r < rows; r++) {
    const position = start + r;
    const image = order[position]!;
    y[r] = labels[image]!;
    const left = offsets !== null ? offsets[2 * position]! : src.cropLeft;
    const top = offsets !== null ? offsets[2 * position + 1]! : src.cropTop;
    const lookup = jitter !== null ? jitterTable(src, jitter[2 * position]!, jitter[2 * position + 1]!) : table;
    const mirror = flips !== null && flips[position] === 1;
    if (padding > 0) convertPaddedWindow(src, pixels, image * storedSize, left - padding, top - padding, mirror, lookup, x, r * d);
    else convertWindow(src, pixels, image * storedSize, left, top, mirror, lookup, x, r * d);
  }
  return rows;
}

/** Where a core reads its batch: its input and labels, or, when it holds the images, its rows (Core.holdImages). */
export interface BatchTarget {
  readonly input: Float32Array;
  readonly labels: Float32Array;
  readonly rows?: BatchRows | null;
}

/** fillBatch into a core's input, or fillBatchRows into its rows when it holds the images: the same inputs either way. */
export function writeBatch(
  src: BatchSource,
  order: Uint32Array,
  start: number,
  count: number,
  target: BatchTarget,
  augmentation: BatchAugmentation | null = null,
): number {
  return target.rows
    ? fillBatchRows(src, order, start, count, target.rows, target.labels, augmentation)
    : fillBatch(src, order, start, count, target.input, target.labels, augmentation);
}

/**
 * As fillBatch, for a core that holds the stored images (src/core/batch-rows.ts): each row's image,
 * window (the padded window's corner may lie outside the image), mirroring and jitter levels go into
 * `rows` and its label into y; the core then forms exactly the inputs fillBatch would have written.
 */
export function fillBatchRows(
  src: BatchSource,
  order: Uint32Array,
  start: number,
  count: number,
  rows: BatchRows,
  y: Float32Array,
  augmentation: BatchAugmentation | null = null,
): number {
  const n = Math.max(0, Math.min(count, order.length - start));
  if (rows.maxBatch < n || y.length < n) throw new RangeError(`fillBatchRows: ${rows.maxBatch} rows and ${y.length} labels for ${n} rows`);
  const flips = augmentation?.flips ?? null;
  const offsets = augmentation?.offsets ?? null;
  const jitter = augmentation?.jitter ?? null;
  const padding = offsets !== null ? (augmentation?.padding ?? 0) : 0;
  for (let r = 0; r < n; r++) {
    const position = start + r;
    const image = order[position]!;
    y[r] = src.labels[image]!;
    const left = offsets !== null ? offsets[2 * position]! : src.cropLeft;
    const top = offsets !== null ? offsets[2 * position + 1]! : src.cropTop;
    rows.set(r, image, left - padding, top - padding, flips !== null && flips[position] === 1);
    const levels = rows.levels(r);
    if (jitter === null) levels.set(IDENTITY_LEVELS);
    else for (let v = 0; v < 256; v++) levels[v] = jitterLevel(v, jitter[2 * position]!, jitter[2 * position + 1]!);
  }
  return n;
}

const IDENTITY_LEVELS = Uint8Array.from({ length: 256 }, (_, v) => v);

/** A window of a stored image relative to the centre window, mirrored or not (src/data/tta.ts's views). */
export interface WindowView {
  readonly dx: number;
  readonly dy: number;
  readonly mirror: boolean;
}

/**
 * Converts `count` consecutive stored images of `pixels` (count, S) into `x` (count, D) through
 * `table`, taking each one's centre window, or the window `view` names (test-time augmentation): the
 * prediction path (nn-eval), identical to fillBatch without augmentation.
 */
export function fillInputs(pixels: Uint8Array, count: number, geometry: ImageGeometry, table: Float32Array, x: Float32Array, view: WindowView = { dx: 0, dy: 0, mirror: false }): void {
  const g = checkedGeometry(geometry);
  const stored = g.decodeWidth * g.decodeHeight * g.channels;
  const d = g.width * g.height * g.channels;
  if (pixels.length < count * stored || x.length < count * d) throw new RangeError(`fillInputs: buffers too small for ${count} images of ${stored} bytes`);
  const left = g.cropLeft + view.dx;
  const top = g.cropTop + view.dy;
  if (left < 0 || top < 0 || left + g.width > g.decodeWidth || top + g.height > g.decodeHeight) {
    throw new RangeError(`fillInputs: the window at (${left}, ${top}) leaves the ${g.decodeWidth}x${g.decodeHeight} image`);
  }
  for (let r = 0; r < count; r++) convertWindow(g, pixels, r * stored, left, top, view.mirror, table, x, r * d);
}

/** j(v) of the module comment: the level that brightness and contrast jitter give pixel level v. */
function jitterLevel(v: number, contrast: number, brightness: number): number {
  const j = Math.round(contrast * (v - 127.5) + 127.5 + brightness);
  return j < 0 ? 0 : j > 255 ? 255 : j;
}

/** src.jitterTable filled with the table composed with j(v) (see the module comment), and returned. */
function jitterTable(src: BatchSource, contrast: number, brightness: number): Float32Array {
  const { table, jitterTable: out, channels } = src;
  for (let v = 0; v < 256; v++) {
    const level = jitterLevel(v, contrast, brightness);
    for (let c = 0; c < channels; c++) out[c * 256 + v] = table[c * 256 + level]!;
  }
  return out;
}

/**
 * Writes the width x height window at (left, top) of the stored image at pixels[from..] into x[to..]
 * through `table`, mirrored (each row read right to left) when `mirror`:
 *   x[row][col][c] = table[c][stored[top + row][left + col'][c]],  col' = mirror ? width - 1 - col : col
 */
function convertWindow(
  g: ImageGeometry,
  pixels: Uint8Array,
  from: number,
  left: number,
  top: number,
  mirror: boolean,
  table: Float32Array,
  x: Float32Array,
  to: number,
): void {
  const { width, height, channels, decodeWidth } = g;
  const rowLength = width * channels;
  for (let row = 0; row < height; row++) {
    const srcRow = from + ((top + row) * decodeWidth + left) * channels;
    const dstRow = to + row * rowLength;
    if (!mirror && channels === 3) {
      for (let p = 0; p < rowLength; p += 3) {
        x[dstRow + p] = table[pixels[srcRow + p]!]!;
        x[dstRow + p + 1] = table[256 + pixels[srcRow + p + 1]!]!;
        x[dstRow + p + 2] = table[512 + pixels[srcRow + p + 2]!]!;
      }
    } else if (!mirror && channels === 1) {
      for (let p = 0; p < rowLength; p++) x[dstRow + p] = table[pixels[srcRow + p]!]!;
    } else {
      for (let col = 0; col < width; col++) {
        const s = srcRow + (mirror ? width - 1 - col : col) * channels;
        const t = dstRow + col * channels;
        for (let c = 0; c < channels; c++) x[t + c] = table[c * 256 + pixels[s + c]!]!;
      }
    }
  }
}

/**
 * As convertWindow, for a window that may leave the stored image (left and top may be negative, or
 * the window may pass the right or bottom edge): pixels outside read as value 0 (black) through the
 * table, as torchvision's zero padding of the image before ToTensor.
 */
function convertPaddedWindow(
  g: ImageGeometry,
  pixels: Uint8Array,
  from: number,
  left: number,
  top: number,
  mirror: boolean,
  table: Float32Array,
  x: Float32Array,
  to: number,
): void {
  const { width, height, channels, decodeWidth, decodeHeight } = g;
  for (let row = 0; row < height; row++) {
    const sy = top + row;
    for (let col = 0; col < width; col++) {
      const sx = left + (mirror ? width - 1 - col : col);
      const t = to + (row * width + col) * channels;
      const inside = sy >= 0 && sy < decodeHeight && sx >= 0 && sx < decodeWidth;
      const s = from + (sy * decodeWidth + sx) * channels;
      for (let c = 0; c < channels; c++) x[t + c] = table[c * 256 + (inside ? pixels[s + c]! : 0)]!;
    }
  }
}
