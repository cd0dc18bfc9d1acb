/**
 * A batch described instead of written: for a core that keeps the stored images in its own memory
 * (the GPU core, Core.holdImages), each row of a batch is a few words saying which image, which
 * window of it, mirrored or not, and the map of pixel levels its brightness/contrast jitter gives.
 * The core forms the float inputs itself, by the formula of src/data/batches.ts:
 *
 *   x[r][row][col][c] = table[c][levels_r[v]],   v = stored_i[top + row][left + col'][c]  (0 outside),
 *   col' = mirror ? width - 1 - col : col,   i = image of row r
 *
 * so its inputs are the bits fillBatch would have written (same table, same levels), and only
 * (B x ROW_WORDS) words cross to the device per batch instead of B x width x height x channels floats.
 *
 * Row r is the words [r * ROW_WORDS, (r + 1) * ROW_WORDS) of one Uint32Array:
 *   0: image index (into the held images), 1: left, 2: top (int32: a padded window may start
 *   outside the image), 3: mirror (0 or 1), 4..67: levels, 256 bytes, levels[v] at byte v
 *   (little-endian words: byte v is bits 8 (v % 4) .. of word 4 + v / 4).
 */

/** Words per row: 4 numbers and the 256 one-byte levels. */
export const ROW_WORDS = 4 + 64;
const LEVELS_BYTE = 16;

/** The images a core is asked to hold (src/data's stored images and pixel table). */
export interface HeldImages {
  /** (count, decodeHeight, decodeWidth, channels) uint8, row-major. */
  readonly pixels: Uint8Array;
  readonly count: number;
  /** The input window's size. */
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** The stored image's size. */
  readonly decodeWidth: number;
  readonly decodeHeight: number;
  /** (channels, 256) float32: the network's input for each pixel level (src/data/batches.ts pixelTable). */
  readonly table: Float32Array;
}

/** The rows of one batch (see the module comment), over memory the core shares with its device thread. */
export class BatchRows {
  readonly words: Uint32Array;
  private readonly signed: Int32Array;
  /** Each row's levels as a view of its own, made once: a batch is described without allocating. */
  private readonly levelViews: Uint8Array[];

  constructor(buffer: ArrayBufferLike, readonly maxBatch: number) {
    this.words = new Uint32Array(buffer, 0, maxBatch * ROW_WORDS);
    this.signed = new Int32Array(buffer, 0, maxBatch * ROW_WORDS);
    this.levelViews = Array.from({ length: maxBatch }, (_, r) => new Uint8Array(buffer, r * ROW_WORDS * 4 + LEVELS_BYTE, 256));
  }

  /** Row r takes the window at (left, top) of image `image`, mirrored or not. */
  set(r: number, image: number, left: number, top: number, mirror: boolean): void {
    const w = r * ROW_WORDS;
    this.words[w] = image;
    this.signed[w + 1] = left;
    this.signed[w + 2] = top;
    this.words[w + 3] = mirror ? 1 : 0;
  }

  /** Row r's 256 levels (writable view): levels[v] replaces pixel level v. */
  levels(r: number): Uint8Array {
    return this.levelViews[r]!;
  }
}
