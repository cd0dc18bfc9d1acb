/**
 * The training batches of an epoch: the training images in the order the seed gives that epoch,
 * with that epoch's flips, written batch by batch into the core's input and labels. The order and
 * flips depend only on (seed, epoch), so a resumed run, or the learning-rate finder, sees exactly
 * the batches a straight run would. Buffers are allocated once.
 */
import type { Config } from '../config/schema.ts';
import { epochFlips, epochOrder, fillBatch } from '../data/batches.ts';
import type { PreparedData } from './data.ts';

export class EpochBatches {
  private readonly order: Uint32Array;
  private readonly flips: Uint8Array;

  constructor(
    private readonly data: PreparedData,
    private readonly config: Config,
    readonly batchSize: number,
  ) {
    this.order = new Uint32Array(data.train.length);
    this.flips = new Uint8Array(data.train.length);
  }

  get perEpoch(): number {
    return Math.ceil(this.data.train.length / this.batchSize);
  }

  /** Draws epoch `epoch`'s order and flips. */
  start(epoch: number): void {
    const { seed } = this.config.training;
    epochOrder(this.data.train, seed, epoch, this.order);
    if (this.config.data.flip) epochFlips(this.data.train.length, seed, epoch, this.flips);
  }

  /** Writes batch `batch` of the current epoch into input and labels; returns its size. */
  fill(batch: number, input: Float32Array, labels: Float32Array): number {
    const start = batch * this.batchSize;
    const n = Math.min(this.batchSize, this.data.train.length - start);
    fillBatch(this.data.source, this.order, start, n, input, labels, this.config.data.flip ? this.flips : null);
    return n;
  }
}
