// Batch rows (src/core/batch-rows.ts): a batch described for a core that holds the images. Read
// back by the formula the GPU's gather kernel implements (written out here in TypeScript), the
// rows fillBatchRows writes must give the very inputs fillBatch writes, for every augmentation.
// (test/core-gpu-images.test.ts checks the kernel itself against fillBatch on an adapter.)
import { describe, expect, it } from 'vitest';
import { BatchRows, ROW_WORDS } from '../src/core/batch-rows.ts';
import { EpochAugmentation, type AugmentationSettings } from '../src/data/augment.ts';
import { batchSource, epochOrder, fillBatch, fillBatchRows, writeBatch, type BatchSource } from '../src/data/batches.ts';
import { Rng } from '../src/random/rng.ts';

const IMAGES = 23;
const B = 6;

/** 5x4 windows in 9x8 stored images (centre at (2, 2)). */
function source(channels: 1 | 3): BatchSource {
  const rng = new Rng(8);
  const pixels = new Uint8Array(IMAGES * 9 * 8 * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  const labels = Uint8Array.from({ length: IMAGES }, () => rng.int(2));
  const mean = channels === 3 ? [0.5, 0.45, 0.4] : [0.48];
  const std = channels === 3 ? [0.2, 0.25, 0.3] : [0.22];
  return batchSource(pixels, labels, { width: 5, height: 4, channels, decodeWidth: 9, decodeHeight: 8, cropLeft: 2, cropTop: 2, scale: 1 / 255, mean, std });
}

/** The gather kernel's formula (src/core/gpu/kernels/gather-batch.wgsl.ts) over the rows. */
function gather(src: BatchSource, rows: BatchRows, n: number, x: Float32Array): void {
  const { width, height, channels, decodeWidth, decodeHeight, pixels, table } = src;
  const stored = decodeWidth * decodeHeight * channels;
  const signed = new Int32Array(rows.words.buffer, rows.words.byteOffset, rows.words.length);
  for (let r = 0; r < n; r++) {
    const w = r * ROW_WORDS;
    const [image, left, top, mirror] = [rows.words[w]!, signed[w + 1]!, signed[w + 2]!, rows.words[w + 3]!];
    const levels = rows.levels(r);
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const sx = left + (mirror === 1 ? width - 1 - col : col);
        const sy = top + row;
        for (let c = 0; c < channels; c++) {
          const inside = sx >= 0 && sy >= 0 && sx < decodeWidth && sy < decodeHeight;
          const v = inside ? pixels[image * stored + (sy * decodeWidth + sx) * channels + c]! : 0;
          x[r * width * height * channels + (row * width + col) * channels + c] = table[c * 256 + levels[v]!]!;
        }
      }
    }
  }
}

describe('batch rows', () => {
  const cases: [1 | 3, AugmentationSettings | null][] = [
    [3, null],
    [3, { flip: true, shift: 2, shiftMode: 'crop', brightness: 0.3, contrast: 0.3 }],
    [3, { flip: true, shift: 3, shiftMode: 'pad', brightness: 0, contrast: 0.5 }],
    [1, { flip: false, shift: 2, shiftMode: 'pad', brightness: 0.4, contrast: 0 }],
  ];
  for (const [channels, settings] of cases) {
    it(`${channels} channel(s), ${settings ? JSON.stringify(settings) : 'no augmentation'}: the same inputs and labels as fillBatch, partial batch included`, () => {
      const src = source(channels);
      const d = 5 * 4 * channels;
      const order = epochOrder(Uint32Array.from({ length: IMAGES }, (_, i) => i), 3, 1);
      const augmentation = settings ? new EpochAugmentation(settings, IMAGES).draw(3, 1) : null;
      const rows = new BatchRows(new ArrayBuffer(B * ROW_WORDS * 4), B);
      const [x, fromRows] = [new Float32Array(B * d), new Float32Array(B * d)];
      const [y, yRows] = [new Float32Array(B), new Float32Array(B)];
      let differs = 0;
      for (let start = 0; start < IMAGES; start += B) {
        const n = fillBatch(src, order, start, B, x, y, augmentation);
        expect(fillBatchRows(src, order, start, B, rows, yRows, augmentation)).toBe(n);
        gather(src, rows, n, fromRows);
        expect(fromRows.subarray(0, n * d)).toEqual(x.subarray(0, n * d));
        expect(yRows.subarray(0, n)).toEqual(y.subarray(0, n));
        // Control: the centre window, unaugmented, differs from most augmented rows.
        fillBatch(src, order, start, B, fromRows, yRows, null);
        for (let r = 0; r < n; r++) if (fromRows.subarray(r * d, (r + 1) * d).some((v, i) => v !== x[r * d + i])) differs++;
      }
      if (augmentation) expect(differs).toBeGreaterThan(IMAGES / 2);
      else expect(differs).toBe(0);
    });
  }

  it('writeBatch writes the rows of a core that holds the images, else its input', () => {
    const src = source(3);
    const order = Uint32Array.from({ length: IMAGES }, (_, i) => i);
    const rows = new BatchRows(new ArrayBuffer(B * ROW_WORDS * 4), B);
    const input = new Float32Array(B * 60);
    const labels = new Float32Array(B);
    writeBatch(src, order, 4, B, { input, labels, rows }, null);
    expect(input.every((v) => v === 0)).toBe(true);
    expect(Array.from(rows.words.subarray(0, 4))).toEqual([4, 2, 2, 0]);
    writeBatch(src, order, 4, B, { input, labels, rows: null }, null);
    expect(input.some((v) => v !== 0)).toBe(true);
  });
});
