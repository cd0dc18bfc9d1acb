/**
 * The training batches of an epoch: the training images in the order the seed gives that epoch,
 * with that epoch's augmentation (flips, crops, jitter: src/data/augment.ts), written batch by
 * batch into the core's input and labels (or its rows, when it holds the images: writeBatch). The order and the augmentation depend only on (seed,
 * epoch), so a resumed run, or the learning-rate finder, sees exactly the batches a straight run
 * would. Buffers are allocated once.
 */
import type { Config } from '../config/schema.ts';
import { epochOrder, writeBatch, type BatchTarget } from '../data/batches.ts';
import type { PreparedData } from './data.ts';

export class EpochBatches {
  private readonly order: Uint32Array;

  constructor(
    private readonly data: PreparedData,
    private readonly config: Config,
    readonly batchSize: number,
  ) {
    this.order = new Uint32Array(data.train.length);
  }

  get perEpoch(): number {
    return Math.ceil(this.data.train.length / this.batchSize);
  }

  /** Draws epoch `epoch`'s order and augmentation. */
  start(epoch: number): void {
    const { seed } = this.config.training;
    epochOrder(this.data.train, seed, epoch, this.order);
    this.data.augmentation?.draw(seed, epoch);
  }

  /** Writes batch `batch` of the current epoch where the engine reads it; returns its size. */
  fill(batch: number, target: BatchTarget): number {
    const start = batch * this.batchSize;
    const n = Math.min(this.batchSize, this.data.train.length - start);
    writeBatch(this.data.source, this.order, start, n, target, this.data.augmentation);
    return n;
  }
}
