import { describe, expect, it } from 'vitest';
import { batchCount, batchSource, channelStats, epochFlips, epochOrder, fillBatch, fillInputs, pixelTable } from '../src/data/batches.ts';
import { hashString, splitTrainValidation } from '../src/data/split.ts';

/** n Kaggle-style names with labels: the first `cats` are cats. */
function names(cats: number, dogs: number, from = 0): { keys: string[]; labels: Uint8Array } {
  const keys = [...Array.from({ length: cats }, (_, i) => `cat.${from + i}.jpg`), ...Array.from({ length: dogs }, (_, i) => `dog.${from + i}.jpg`)];
  return { keys, labels: Uint8Array.from(keys, (k) => (k.startsWith('dog') ? 1 : 0)) };
}

function keysOf(idx: Uint32Array, keys: string[]): string[] {
  return Array.from(idx, (i) => keys[i]!);
}

describe('splitTrainValidation', () => {
  it('is stratified: each class gives round(fraction * count) images to validation', () => {
    const { keys, labels } = names(700, 300);
    const split = splitTrainValidation(keys, labels, { validationFraction: 0.2, seed: 1 });
    const valDogs = Array.from(split.validation).filter((i) => labels[i] === 1).length;
    expect(split.validation.length).toBe(200);
    expect(valDogs).toBe(60);
    expect(split.train.length).toBe(800);
    // A partition: every index exactly once, ascending in each part.
    const all = [...split.train, ...split.validation].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(split.train)).toEqual([...split.train].sort((a, b) => a - b));
  });

  it('is deterministic for a seed, different for another seed', () => {
    const { keys, labels } = names(50, 50);
    const a = splitTrainValidation(keys, labels, { validationFraction: 0.3, seed: 7 });
    const b = splitTrainValidation(keys, labels, { validationFraction: 0.3, seed: 7 });
    const c = splitTrainValidation(keys, labels, { validationFraction: 0.3, seed: 8 });
    expect(Array.from(a.validation)).toEqual(Array.from(b.validation));
    expect(Array.from(a.validation)).not.toEqual(Array.from(c.validation));
  });

  it('does not depend on the order files are listed in', () => {
    const { keys, labels } = names(40, 60);
    const order = keys.map((_, i) => i).sort((i, j) => hashString(keys[i]!, 3) - hashString(keys[j]!, 3));
    const shuffledKeys = order.map((i) => keys[i]!);
    const shuffledLabels = Uint8Array.from(order, (i) => labels[i]!);
    const a = splitTrainValidation(keys, labels, { validationFraction: 0.25, seed: 5 });
    const b = splitTrainValidation(shuffledKeys, shuffledLabels, { validationFraction: 0.25, seed: 5 });
    expect(keysOf(a.validation, keys).sort()).toEqual(keysOf(b.validation, shuffledKeys).sort());
  });

  it('is stable when files are added: old files keep their side, but for about one per class', () => {
    const before = names(200, 200);
    const after = names(220, 230); // 20 cats and 30 dogs added (cat.200..., dog.200...)
    const a = splitTrainValidation(before.keys, before.labels, { validationFraction: 0.2, seed: 11 });
    const b = splitTrainValidation(after.keys, after.labels, { validationFraction: 0.2, seed: 11 });
    const valBefore = new Set(keysOf(a.validation, before.keys));
    const valAfter = new Set(keysOf(b.validation, after.keys));
    let moved = 0;
    for (const k of before.keys) if (valBefore.has(k) !== valAfter.has(k)) moved++;
    // Class counts grow by 4 and 6 validation places; old files can only move in one direction,
    // by rank, and far fewer than a position-based split would move (about half of them).
    expect(moved).toBeLessThanOrEqual(12);
  });

  it('rejects a fraction outside [0, 1)', () => {
    const { keys, labels } = names(2, 2);
    expect(() => splitTrainValidation(keys, labels, { validationFraction: 1, seed: 1 })).toThrow(RangeError);
    expect(() => splitTrainValidation(keys, labels, { validationFraction: -0.1, seed: 1 })).toThrow(RangeError);
    expect(splitTrainValidation(keys, labels, { validationFraction: 0, seed: 1 }).validation.length).toBe(0);
  });
});

/** A tiny dataset: n images of width x height x channels, pixel values from a formula. */
function tinyDataset(n: number, width: number, height: number, channels: number): { pixels: Uint8Array; labels: Uint8Array } {
  const d = width * height * channels;
  const pixels = new Uint8Array(n * d);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 5)) % 256;
  for (let i = 0; i < n; i++) pixels[i * d] = i; // the first byte names the image
  return { pixels, labels: Uint8Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0) };
}

describe('epochs and batches', () => {
  const width = 5;
  const height = 3;
  const channels = 3;
  const d = width * height * channels;
  const n = 23;
  const prep = { width, height, channels: 3 as const, scale: 1 / 255, mean: null, std: null };
  const { pixels, labels } = tinyDataset(n, width, height, channels);
  const train = Uint32Array.from([0, 2, 3, 5, 6, 7, 9, 11, 12, 13, 14, 16, 17, 19, 20, 22]); // 16 of 23

  it('each epoch visits every training sample exactly once, in a seeded order that changes per epoch', () => {
    const src = batchSource(pixels, labels, prep);
    const batch = 5;
    const x = new Float32Array(batch * d);
    const y = new Float32Array(batch);
    const order = new Uint32Array(train.length);
    const orders: number[][] = [];
    for (const epoch of [0, 1, 2]) {
      epochOrder(train, 42, epoch, order);
      const seen: number[] = [];
      let rows = 0;
      const counts: number[] = [];
      for (let b = 0; b < batchCount(train.length, batch); b++) {
        const written = fillBatch(src, order, b * batch, batch, x, y, null);
        counts.push(written);
        for (let r = 0; r < written; r++) {
          // Identify the sample from the batch contents: its first input is its index / 255.
          const image = Math.round(x[r * d]! * 255);
          expect(image).toBe(order[b * batch + r]);
          expect(y[r]).toBe(labels[image]);
          seen.push(image);
        }
        rows += written;
      }
      expect(counts).toEqual([5, 5, 5, 1]); // the last partial batch is kept, not dropped
      expect(rows).toBe(train.length);
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from(train));
      orders.push(Array.from(order));
    }
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
    // Reproducible: the same (seed, epoch) gives the same order, without any state carried over.
    expect(Array.from(epochOrder(train, 42, 1))).toEqual(orders[1]);
    expect(Array.from(epochOrder(train, 43, 1))).not.toEqual(orders[1]);
  });

  it('fills x with (v * scale - mean[c]) / std[c] per channel, HWC, and mirrors flipped samples', () => {
    const mean = [0.1, 0.5, 0.9];
    const std = [0.5, 0.25, 2];
    const src = batchSource(pixels, labels, { ...prep, mean, std });
    const order = Uint32Array.from([4, 9, 17]);
    const flips = Uint8Array.from([0, 1, 0]);
    const x = new Float32Array(4 * d).fill(-99);
    const y = new Float32Array(4).fill(-99);
    expect(fillBatch(src, order, 0, 4, x, y, { flips, offsets: null, jitter: null })).toBe(3);
    for (let r = 0; r < 3; r++) {
      const image = order[r]!;
      for (let row = 0; row < height; row++) {
        for (let col = 0; col < width; col++) {
          const srcCol = flips[r] ? width - 1 - col : col;
          for (let c = 0; c < channels; c++) {
            const v = pixels[image * d + (row * width + srcCol) * channels + c]!;
            expect(x[r * d + (row * width + col) * channels + c]).toBe(Math.fround((v / 255 - mean[c]!) / std[c]!));
          }
        }
      }
      expect(y[r]).toBe(labels[image]);
    }
    // The row past the partial batch is untouched.
    expect(x[3 * d]).toBe(-99);
    expect(y[3]).toBe(-99);
    expect(() => fillBatch(src, order, 0, 3, new Float32Array(2 * d), y)).toThrow(RangeError);
  });

  it('fillInputs (prediction) gives the same inputs as fillBatch without flips', () => {
    const src = batchSource(pixels, labels, { ...prep, mean: [0.2, 0.3, 0.4], std: [1.5, 0.5, 1] });
    const order = Uint32Array.from([0, 1, 2, 3]);
    const a = new Float32Array(4 * d);
    fillBatch(src, order, 0, 4, a, new Float32Array(4));
    const b = new Float32Array(4 * d);
    fillInputs(pixels.subarray(0, 4 * d), 4, src, src.table, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('flip decisions are seeded per epoch, about half of them set', () => {
    const a = epochFlips(1000, 3, 0);
    expect(Array.from(epochFlips(1000, 3, 0))).toEqual(Array.from(a));
    expect(Array.from(epochFlips(1000, 3, 1))).not.toEqual(Array.from(a));
    const ones = a.reduce((s, v) => s + v, 0);
    expect(ones).toBeGreaterThan(430);
    expect(ones).toBeLessThan(570);
  });

  it('channelStats: per-channel mean and std of the scaled pixels of the chosen images', () => {
    const stats = channelStats(pixels, train, channels, d);
    for (let c = 0; c < channels; c++) {
      const values: number[] = [];
      for (const i of train) for (let p = c; p < d; p += channels) values.push(pixels[i * d + p]! / 255);
      const m = values.reduce((s, v) => s + v, 0) / values.length;
      const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length);
      expect(stats.mean[c]).toBeCloseTo(m, 12);
      expect(stats.std[c]).toBeCloseTo(sd, 12);
    }
    // A constant channel gets std 1, so standardising never divides by zero.
    const flat = new Uint8Array(2 * 4).fill(7);
    expect(channelStats(flat, Uint32Array.from([0, 1]), 1, 4)).toEqual({ mean: [7 / 255], std: [1] });
    // With these statistics the training inputs have mean 0 and std 1 per channel.
    const table = pixelTable({ channels: 3, scale: 1 / 255, ...stats });
    let sum = 0;
    let sq = 0;
    let count = 0;
    for (const i of train) {
      for (let p = 0; p < d; p += channels) {
        const v = table[pixels[i * d + p]!]!;
        sum += v;
        sq += v * v;
        count++;
      }
    }
    expect(sum / count).toBeCloseTo(0, 5);
    expect(sq / count).toBeCloseTo(1, 4);
  });

  it('batchCount rounds up and rejects a bad batch size', () => {
    expect(batchCount(16, 5)).toBe(4);
    expect(batchCount(15, 5)).toBe(3);
    expect(batchCount(0, 5)).toBe(0);
    expect(() => batchCount(10, 0)).toThrow(RangeError);
  });
});
