/**
 * What the training loop tells the outside world. The loop only emits these; the CLI decides how
 * to show them (progress bars, plain lines or JSON lines), so the library stays free of terminal code.
 */
import type { EpochMetrics } from '../io/checkpoint.ts';
import type { LayerRow } from '../report/layer-table.ts';
import type { TtaValidation } from './tta-validation.ts';

export type TrainEvent =
  | { event: 'decode'; done: number; total: number }
  | {
      event: 'dataset';
      images: number;
      cats: number;
      dogs: number;
      unlabeled: number;
      skipped: number;
      skippedFiles: { path: string; reason: string }[];
      train: number;
      validation: number;
      fromCache: boolean;
      /** The pixel cache read or written, or null when caching is off. */
      cacheFile: string | null;
      seconds: number;
    }
  | {
      event: 'start';
      runDir: string;
      name: string;
      epochs: number;
      firstEpoch: number;
      batchesPerEpoch: number;
      batchSize: number;
      parameters: number;
      /** The network, layer by layer (src/report/layer-table.ts), and its batch-norm statistics count. */
      layers: LayerRow[];
      statistics: number;
      optimizer: string;
      kernel: string;
      workers: number;
      /** Where the network runs, in words (--device): "gpu, <adapter>", "cpu (auto: ...)". */
      device?: string;
      /** The images are held on the device and each batch is formed there (the GPU core: Engine.holdImages). */
      imagesOnDevice?: boolean;
      resumed: boolean;
    }
  | {
      event: 'batch';
      epoch: number;
      batch: number;
      batches: number;
      loss: number;
      smoothedLoss: number;
      imagesPerSecond: number;
      /** Per-batch numbers of the method (the genetic algorithm's best and mean fitness of the generation). */
      extra?: Readonly<Record<string, number>>;
    }
  | ({
      event: 'epoch';
      epochs: number;
      /** This epoch has the best validation loss so far (model.json was written). */
      best: boolean;
      /** Extra numbers a method reports per epoch (the genetic algorithm's fitness). */
      extra?: Record<string, number>;
    } & EpochMetrics)
  | { event: 'warning'; message: string }
  | ({
      event: 'tta';
      /** The epoch of the best model, which was validated. */
      epoch: number;
      seconds: number;
    } & TtaValidation)
  | {
      event: 'done';
      status: 'completed' | 'early-stopped' | 'interrupted' | 'diverged';
      runDir: string;
      model: string | null;
      /** last.json, or null when the run stopped before writing one (diverged in its first epoch). */
      checkpoint: string | null;
      epochs: number;
      bestEpoch: number | null;
      bestValLoss: number | null;
      bestValAccuracy: number | null;
      seconds: number;
      message?: string;
    };

export type EventSink = (e: TrainEvent) => void;
