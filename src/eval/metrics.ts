/**
 * How good the predictions are, on the images whose label is known (from cat.N.jpg / dog.N.jpg
 * names or cat/ dog/ folders). Accumulated one image at a time, so nothing is kept per image.
 *
 *   accuracy        = (images whose label at the threshold equals the actual one) / labeled
 *   log loss        = -(1/N) sum_i [ y_i ln p_i + (1 - y_i) ln(1 - p_i) ],  p_i clipped to
 *                     [1e-15, 1 - 1e-15] (a float32 probability can round to exactly 0 or 1)
 *   clipped log loss = the same with p_i clipped to [c, 1 - c]: what a Kaggle submission
 *                     written with --clip c would score (c = 0 falls back to 1e-15)
 *   confusion[actual][predicted]: counts, e.g. confusion.dog.cat = dogs called cats
 *   classAccuracy.cat = confusion.cat.cat / (cats), classAccuracy.dog likewise: a model that calls
 *                     most cats "dog" can have a fair accuracy on a set with more dogs, not here
 *   unlabeledPredicted: how many of the images without a label were called cat and dog
 */
import { labelName } from './formats.ts';

import { binaryLogLoss, LOG_LOSS_EPSILON } from '../nn/losses.ts';

export interface Confusion {
  cat: { cat: number; dog: number };
  dog: { cat: number; dog: number };
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface EvalMetrics {
  /** Images predicted (labeled or not). */
  images: number;
  labeled: number;
  unlabeled: number;
  /** Inputs that could not be read (broken, not an image, vanished). */
  skipped: number;
  threshold: number;
  /** null when no image is labeled. */
  accuracy: number | null;
  logLoss: number | null;
  clip: number;
  clippedLogLoss: number | null;
  confusion: Confusion;
  /** Accuracy on the cats and on the dogs alone; null for a class without labeled images. */
  classAccuracy: { cat: number | null; dog: number | null };
  /** Predicted classes of the unlabeled images. */
  unlabeledPredicted: { cat: number; dog: number };
  skippedFiles: SkippedFile[];
}


export class MetricsAccumulator {
  private images = 0;
  private labeled = 0;
  private correct = 0;
  private logLossSum = 0;
  private clippedLogLossSum = 0;
  private readonly confusion: Confusion = { cat: { cat: 0, dog: 0 }, dog: { cat: 0, dog: 0 } };
  private readonly unlabeledPredicted = { cat: 0, dog: 0 };
  private readonly skippedFiles: SkippedFile[] = [];

  constructor(
    readonly threshold: number,
    readonly clip: number,
  ) {}

  add(pDog: number, actual: 0 | 1 | null): void {
    this.images++;
    const predicted = labelName(pDog, this.threshold);
    if (actual === null) {
      this.unlabeledPredicted[predicted]++;
      return;
    }
    this.labeled++;
    const truth = actual === 1 ? 'dog' : 'cat';
    this.confusion[truth][predicted]++;
    if (predicted === truth) this.correct++;
    this.logLossSum += binaryLogLoss(pDog, actual, LOG_LOSS_EPSILON);
    this.clippedLogLossSum += binaryLogLoss(pDog, actual, Math.max(this.clip, LOG_LOSS_EPSILON));
  }

  skip(path: string, reason: string): void {
    this.skippedFiles.push({ path, reason });
  }

  get skipped(): number {
    return this.skippedFiles.length;
  }

  get predicted(): number {
    return this.images;
  }

  result(): EvalMetrics {
    const n = this.labeled;
    const { cat, dog } = this.confusion;
    const share = (right: number, total: number) => (total > 0 ? right / total : null);
    return {
      images: this.images,
      labeled: n,
      unlabeled: this.images - n,
      skipped: this.skippedFiles.length,
      threshold: this.threshold,
      accuracy: n > 0 ? this.correct / n : null,
      logLoss: n > 0 ? this.logLossSum / n : null,
      clip: this.clip,
      clippedLogLoss: n > 0 ? this.clippedLogLossSum / n : null,
      confusion: structuredClone(this.confusion),
      classAccuracy: { cat: share(cat.cat, cat.cat + cat.dog), dog: share(dog.dog, dog.cat + dog.dog) },
      unlabeledPredicted: { ...this.unlabeledPredicted },
      skippedFiles: [...this.skippedFiles],
    };
  }
}
