/**
 * From decoded images to probabilities, one batch at a time, through the gradient core.
 *
 *   decoded images (uint8, HWC, the decoded size S) --copy--> pixels (B, S) --centre window,
 *   pixelTable--> core.input (B, D) float32 --core.predict--> p_dog (B)
 *
 * The uint8 -> float32 step is src/data/batches.ts's fillInputs with the model's pixel table, the
 * very conversion training used, so an image gets bit-identical inputs in nn-train and nn-eval.
 * A batch is predicted when it is full, or earlier when the decoder says it is waiting for input
 * (so a slow producer on stdin still sees its answers at once). Buffers are allocated once.
 *
 * Test-time augmentation (`tta`, src/data/tta.ts): each batch is also predicted in the other views
 * (mirrored; with 'shifts', moved windows too), one forward pass per view, and an image's answer is
 * the mean of its views' probabilities.
 */
import { fillInputs, pixelTable } from '../data/batches.ts';
import { ttaViews, type TtaMode } from '../data/tta.ts';
import { imageGeometry, type Preprocessing } from '../data/preprocessing.ts';
import type { DecodedInput } from './decode-inputs.ts';
import type { Prediction } from './formats.ts';
import type { InputImage } from './inputs.ts';
import type { SkippedFile } from './metrics.ts';

/** What prediction needs from the core (src/core's Core satisfies it). */
export interface PredictEngine {
  /** maxBatch rows of inputSize floats. */
  readonly input: Float32Array;
  /** P(dog) of the first B rows of input into out[0..B). */
  predict(B: number, out: Float32Array): void;
}

/** One batch's answers in input order, and the inputs skipped since the previous batch. */
export interface PredictedBatch {
  predictions: Prediction[];
  skipped: SkippedFile[];
}

/**
 * `engine` may be a promise: the core then starts (workers, kernel warm-up) while the first batch
 * is being decoded, and is awaited only when that batch is ready.
 */
export async function* predictBatches(
  decoded: AsyncIterable<DecodedInput>,
  preprocessing: Preprocessing,
  engine: PredictEngine | Promise<PredictEngine>,
  batchSize: number,
  options: { tta?: TtaMode | null } = {},
): AsyncGenerator<PredictedBatch, void, undefined> {
  // Images arrive at the decoded size (decodeSettingsOf); the input is their centre window (fillInputs).
  const geometry = imageGeometry(preprocessing);
  const { width, height, channels, decodeWidth, decodeHeight } = geometry;
  const d = width * height * channels;
  const stored = decodeWidth * decodeHeight * channels;
  let core: PredictEngine | null = null;
  const ready = async (): Promise<PredictEngine> => {
    if (core !== null) return core;
    const e = await engine;
    if (e.input.length < batchSize * d) throw new RangeError(`predictBatches: the core's input holds ${e.input.length} floats, a batch of ${batchSize} needs ${batchSize * d}`);
    return (core = e);
  };
  const table = pixelTable(preprocessing);
  const pixels = new Uint8Array(batchSize * stored); // (B, S) uint8, reused
  const probabilities = new Float32Array(batchSize);
  const views = ttaViews(options.tta ?? null, geometry);
  const sums = views.length > 1 ? new Float64Array(batchSize) : null;
  let images: InputImage[] = [];
  let skipped: SkippedFile[] = [];

  const take = async (): Promise<PredictedBatch> => {
    const n = images.length;
    const predictions: Prediction[] = new Array<Prediction>(n);
    if (n > 0) {
      const e = await ready();
      sums?.fill(0);
      for (const view of views) {
        fillInputs(pixels, n, geometry, table, e.input, view);
        e.predict(n, probabilities);
        if (sums !== null) for (let i = 0; i < n; i++) sums[i]! += probabilities[i]!;
      }
      for (let i = 0; i < n; i++) {
        const pDog = sums === null ? probabilities[i]! : sums[i]! / views.length;
        predictions[i] = { path: images[i]!.path, pDog, actual: images[i]!.actual };
      }
    }
    const batch = { predictions, skipped };
    images = [];
    skipped = [];
    return batch;
  };

  for await (const item of decoded) {
    if (item.kind === 'image') {
      if (item.pixels.length !== stored) throw new RangeError(`predictBatches: ${item.image.path} decoded to ${item.pixels.length} bytes, expected ${stored}`);
      pixels.set(item.pixels, images.length * stored);
      images.push(item.image);
      if (images.length === batchSize) yield await take();
    } else if (item.kind === 'skipped') {
      skipped.push({ path: item.path, reason: item.reason });
      if (skipped.length >= batchSize) yield await take(); // report a run of broken files without waiting
    } else if (images.length > 0 || skipped.length > 0) {
      yield await take(); // idle: the source is waiting, so answer what we have
    }
  }
  if (images.length > 0 || skipped.length > 0) yield await take();
}
