/**
 * Mini-batches: per-epoch seeded order, flip augmentation, and uint8 pixels -> float32 inputs.
 *
 * Input of the network for pixel value v (0..255) of channel c (preprocessing of the model file):
 *
 *   x = v * scale                      (scale = 1/255 gives [0, 1])
 *   x = (x - mean[c]) / std[c]         (only when mean and std are set: per-channel standardisation)
 *
 * Since v takes only 256 values, the formula is evaluated once per (channel, value) into a lookup
 * table of (channels, 256) float32, and a batch is filled by table look-ups: no division per pixel,
 * and training and prediction (nn-eval) share the same table so their inputs are bit-identical.
 *
 * Nothing here allocates per sample or per batch: the caller owns and reuses every buffer.
 */
import type { Preprocessing } from './preprocessing.ts';
import { Rng } from '../nn/rng.ts';

/** The stream seed for (seed, epoch, purpose), so each epoch's shuffle and flips are reproducible on their own. */
function epochSeed(seed: number, epoch: number, purpose: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ epoch, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ purpose, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

const SHUFFLE = 1;
const FLIP = 2;

/**
 * The order in which the training samples are visited in `epoch`: a seeded shuffle (Fisher-Yates with
 * Rng) of `indices`, written into `out` (allocated if not given). Depends only on (indices, seed,
 * epoch), so a run resumed at epoch e sees the same order as an uninterrupted one.
 */
export function epochOrder(indices: Uint32Array, seed: number, epoch: number, out?: Uint32Array): Uint32Array {
  const order = out ?? new Uint32Array(indices.length);
  if (order.length !== indices.length) throw new RangeError(`epochOrder: out has ${order.length} slots for ${indices.length} indices`);
  order.set(indices);
  new Rng(epochSeed(seed, epoch, SHUFFLE)).shuffle(order);
  return order;
}

/**
 * Horizontal-flip decisions for the `count` positions of an epoch's order: 1 = mirror that sample.
 * Each position flips with probability 1/2, from its own seeded stream (independent of the shuffle).
 */
export function epochFlips(count: number, seed: number, epoch: number, out?: Uint8Array): Uint8Array {
  const flips = out ?? new Uint8Array(count);
  if (flips.length < count) throw new RangeError(`epochFlips: out has ${flips.length} slots for ${count}`);
  const rng = new Rng(epochSeed(seed, epoch, FLIP));
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

/** What fillBatch reads: the dataset bytes and labels, the image shape and the pixel table. */
export interface BatchSource {
  /** (N, D) uint8, D = height * width * channels, HWC. */
  pixels: Uint8Array;
  /** (N) 0 = cat, 1 = dog. */
  labels: Uint8Array;
  width: number;
  height: number;
  channels: number;
  /** D = height * width * channels. */
  inputSize: number;
  /** (channels, 256) float32, from pixelTable. */
  table: Float32Array;
}

export function batchSource(
  pixels: Uint8Array,
  labels: Uint8Array,
  preprocessing: Pick<Preprocessing, 'width' | 'height' | 'channels' | 'scale' | 'mean' | 'std'>,
): BatchSource {
  const { width, height, channels } = preprocessing;
  const inputSize = width * height * channels;
  if (pixels.length !== labels.length * inputSize) {
    throw new RangeError(`batchSource: ${pixels.length} bytes of pixels for ${labels.length} images of ${inputSize}`);
  }
  return { pixels, labels, width, height, channels, inputSize, table: pixelTable(preprocessing) };
}

/**
 * Writes the mini-batch order[start .. start + count) into x (B, D) row by row and its labels into
 * y (B), and returns the number of rows written: count, or fewer for the last partial batch. Rows past
 * the returned number are left untouched. `flips` (indexed like `order`, from epochFlips) mirrors the
 * marked samples left-right; pass null for validation or without augmentation.
 * x and y may be views of shared memory (the gradient core's): nothing else is allocated.
 */
export function fillBatch(
  src: BatchSource,
  order: Uint32Array,
  start: number,
  count: number,
  x: Float32Array,
  y: Float32Array,
  flips: Uint8Array | null = null,
): number {
  const { pixels, labels, width, height, channels, inputSize: d, table } = src;
  const rows = Math.max(0, Math.min(count, order.length - start));
  if (x.length < rows * d || y.length < rows) {
    throw new RangeError(`fillBatch: x holds ${x.length} floats and y ${y.length} for ${rows} rows of ${d}`);
  }
  for (let r = 0; r < rows; r++) {
    const image = order[start + r]!;
    y[r] = labels[image]!;
    if (flips !== null && flips[start + r] === 1) {
      mirrorImage(pixels, image * d, x, r * d, width, height, channels, table);
    } else {
      convertImage(pixels, image * d, x, r * d, d, channels, table);
    }
  }
  return rows;
}

/**
 * Converts `count` consecutive images of `pixels` (count, D) into `x` (count, D) through `table`:
 * the prediction path (nn-eval), identical to fillBatch without flips.
 */
export function fillInputs(pixels: Uint8Array, count: number, d: number, channels: number, table: Float32Array, x: Float32Array): void {
  if (pixels.length < count * d || x.length < count * d) throw new RangeError(`fillInputs: buffers too small for ${count} rows of ${d}`);
  for (let r = 0; r < count; r++) convertImage(pixels, r * d, x, r * d, d, channels, table);
}

/**
 * As fillInputs, each image mirrored left-right (x[y][col] = pixels[y][width - 1 - col]): the flip of
 * fillBatch, for test-time augmentation in nn-eval (--tta).
 */
export function fillMirroredInputs(
  pixels: Uint8Array,
  count: number,
  shape: { width: number; height: number; channels: number },
  table: Float32Array,
  x: Float32Array,
): void {
  const { width, height, channels } = shape;
  const d = width * height * channels;
  if (pixels.length < count * d || x.length < count * d) throw new RangeError(`fillMirroredInputs: buffers too small for ${count} rows of ${d}`);
  for (let r = 0; r < count; r++) mirrorImage(pixels, r * d, x, r * d, width, height, channels, table);
}

function convertImage(
  pixels: Uint8Array,
  from: number,
  x: Float32Array,
  to: number,
  d: number,
  channels: number,
  table: Float32Array,
): void {
  if (channels === 3) {
    for (let p = 0; p < d; p += 3) {
      x[to + p] = table[pixels[from + p]!]!;
      x[to + p + 1] = table[256 + pixels[from + p + 1]!]!;
      x[to + p + 2] = table[512 + pixels[from + p + 2]!]!;
    }
  } else if (channels === 1) {
    for (let p = 0; p < d; p++) x[to + p] = table[pixels[from + p]!]!;
  } else {
    for (let p = 0; p < d; p++) x[to + p] = table[(p % channels) * 256 + pixels[from + p]!]!;
  }
}

/** As convertImage, reading each row right to left: x[y][col] = pixels[y][width - 1 - col]. */
function mirrorImage(
  pixels: Uint8Array,
  from: number,
  x: Float32Array,
  to: number,
  width: number,
  height: number,
  channels: number,
  table: Float32Array,
): void {
  const rowLength = width * channels;
  for (let row = 0; row < height; row++) {
    const srcRow = from + row * rowLength;
    const dstRow = to + row * rowLength;
    for (let col = 0; col < width; col++) {
      const s = srcRow + (width - 1 - col) * channels;
      const t = dstRow + col * channels;
      for (let c = 0; c < channels; c++) x[t + c] = table[c * 256 + pixels[s + c]!]!;
    }
  }
}
