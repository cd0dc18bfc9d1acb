/**
 * The best model of a finished run on its validation images with test-time augmentation
 * (training.tta; the views of src/data/tta.ts): every view of each validation image through the
 * engine, an image's probability the mean of its views', then the accuracy at 0.5 and the log loss
 * of those probabilities. The same numbers nn-eval --tta / --tta-shifts gives on those images.
 */
import { writeBatch } from '../data/batches.ts';
import { imageGeometry } from '../data/preprocessing.ts';
import { ttaViews, viewAugmentation, type TtaMode } from '../data/tta.ts';
import { binaryLogLoss } from '../nn/losses.ts';
import type { PreparedData } from './data.ts';
import type { Engine } from './engine.ts';

export interface TtaValidation {
  mode: TtaMode;
  views: number;
  valLoss: number;
  valAccuracy: number;
}

/**
 * Validates the weights and statistics now in `engine` with the views of `mode`, `batch` images
 * at a time (`probabilities`: at least `batch` floats, scratch). Between batches it lets the event
 * loop run (Ctrl-C, progress) and gives up, with null, when `shouldStop` says so.
 */
export async function validateWithTta(
  engine: Engine,
  data: PreparedData,
  mode: TtaMode,
  batch: number,
  probabilities: Float32Array,
  shouldStop: () => boolean = () => false,
): Promise<TtaValidation | null> {
  const geometry = imageGeometry(data.preprocessing);
  const views = ttaViews(mode, geometry);
  const n = data.validation.length;
  const sums = new Float64Array(n);
  for (const view of views) {
    const augmentation = viewAugmentation(view, n, geometry);
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      writeBatch(data.source, data.validation, start, b, engine, augmentation);
      engine.evaluate(b, probabilities);
      for (let i = 0; i < b; i++) sums[start + i]! += probabilities[i]!;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (shouldStop()) return null;
    }
  }
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const p = sums[i]! / views.length;
    const y = data.source.labels[data.validation[i]!] === 1 ? 1 : 0;
    loss += binaryLogLoss(p, y);
    if ((p >= 0.5 ? 1 : 0) === y) correct++;
  }
  return { mode, views: views.length, valLoss: loss / n, valAccuracy: correct / n };
}
