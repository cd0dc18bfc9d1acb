/**
 * data.shiftMode "pad": the whole image moved by the drawn offset, the uncovered border black
 * (torchvision's RandomCrop(size, padding=shift) before ToTensor), against pixel-by-pixel
 * expectations; and the config's decode size for it.
 */
import { describe, expect, it } from 'vitest';
import { EpochAugmentation } from '../src/data/augment.ts';
import { batchSource, fillBatch, pixelTable, type BatchAugmentation } from '../src/data/batches.ts';
import { configSchema } from '../src/config/schema.ts';

const width = 6;
const height = 5;
const shift = 2;
const n = 3;
// Stored at the input size; every pixel value is >= 1, so a black (0) input can only be padding.
const pixels = Uint8Array.from({ length: n * width * height * 3 }, (_, i) => 1 + (i % 250));
const labels = Uint8Array.from([0, 1, 0]);
const prep = { width, height, channels: 3 as const, decodeWidth: width, decodeHeight: height, cropLeft: 0, cropTop: 0, scale: 1 / 255, mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] };
const table = pixelTable(prep);
const stored = (i: number, x: number, y: number, c: number) => pixels[((i * height + y) * width + x) * 3 + c]!;
const input = (x: Float32Array, r: number, col: number, y: number, c: number) => x[((r * height + y) * width + col) * 3 + c]!;

describe('padded shift', () => {
  it('moves the whole image by (offset - shift) and fills the uncovered border with black', () => {
    const src = batchSource(pixels, labels, prep);
    // Image 1 moved right 2 and up 1 (offset (0, 3): window corner (-2, 1)); image 2 at (4, 0): corner (2, -2).
    const aug: BatchAugmentation = { flips: null, offsets: Uint16Array.from([0, 3, 4, 0]), jitter: null, padding: shift };
    const x = new Float32Array(2 * width * height * 3);
    fillBatch(src, Uint32Array.from([1, 2]), 0, 2, x, new Float32Array(2), aug);
    for (const [r, image, left, top] of [[0, 1, -2, 1], [1, 2, 2, -2]] as const) {
      for (let y = 0; y < height; y++) for (let col = 0; col < width; col++) for (let c = 0; c < 3; c++) {
        const sx = left + col;
        const sy = top + y;
        const inside = sx >= 0 && sx < width && sy >= 0 && sy < height;
        expect(input(x, r, col, y, c)).toBe(table[c * 256 + (inside ? stored(image, sx, sy, c) : 0)]);
      }
    }
    // Spot checks of the same, by hand: row 0 of image 1 starts with two black columns, then stored (0, 1).
    expect(input(x, 0, 0, 0, 0)).toBe(table[0]);
    expect(input(x, 0, 1, 0, 2)).toBe(table[512]);
    expect(input(x, 0, 2, 0, 0)).toBe(table[stored(1, 0, 1, 0)]);
    // The last row of image 1 reads stored row 5, past the bottom: black.
    expect(input(x, 0, 3, height - 1, 1)).toBe(table[256]);
  });

  it('the centre offset (shift, shift) is the image unmoved, and mirroring reads the moved window right to left', () => {
    const src = batchSource(pixels, labels, prep);
    const x = new Float32Array(2 * width * height * 3);
    const aug: BatchAugmentation = { flips: Uint8Array.from([0, 1]), offsets: Uint16Array.from([shift, shift, 1, shift]), jitter: null, padding: shift };
    fillBatch(src, Uint32Array.from([0, 0]), 0, 2, x, new Float32Array(2), aug);
    const plain = new Float32Array(width * height * 3);
    fillBatch(src, Uint32Array.from([0]), 0, 1, plain, new Float32Array(1), null);
    expect(Array.from(x.subarray(0, plain.length))).toEqual(Array.from(plain));
    // Row 1: corner (-1, 0), mirrored: column col reads stored x = -1 + (width - 1 - col); col = width - 1 is black.
    for (let col = 0; col < width; col++) {
      const sx = -1 + (width - 1 - col);
      expect(input(x, 1, col, 2, 0)).toBe(table[sx >= 0 ? stored(0, sx, 2, 0) : 0]);
    }
  });

  it('EpochAugmentation pads in pad mode only, from the same draws as crop mode', () => {
    const crop = new EpochAugmentation({ flip: false, shift, brightness: 0, contrast: 0 }, 50).draw(4, 1);
    const pad = new EpochAugmentation({ flip: false, shift, shiftMode: 'pad', brightness: 0, contrast: 0 }, 50).draw(4, 1);
    expect(crop.padding).toBe(0);
    expect(pad.padding).toBe(shift);
    expect(Array.from(pad.offsets!)).toEqual(Array.from(crop.offsets!));
  });

  it('is data.shiftMode in the config, "crop" by default', () => {
    expect(configSchema.parse({}).data.shiftMode).toBe('crop');
    expect(configSchema.parse({ data: { shift: 4, shiftMode: 'pad' } }).data.shiftMode).toBe('pad');
    expect(configSchema.safeParse({ data: { shiftMode: 'wrap' } }).success).toBe(false);
  });
});
