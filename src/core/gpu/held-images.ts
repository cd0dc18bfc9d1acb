/**
 * The training images kept on the GPU (Core.holdImages): the stored uint8 images uploaded once, the
 * pixel table, and a rows buffer that each batch's description (src/core/batch-rows.ts) is written
 * to; the gather-batch kernel then forms the batch's inputs in the network's input buffer, at the
 * start of the step's compute pass. Per batch, B x ROW_WORDS words cross instead of the B x D
 * floats of the inputs, and the CPU does no per-pixel work: two cores cannot starve a large GPU.
 *
 * The images are spread over up to IMAGE_BUFFERS buffers of whole images, each within the adapter's
 * limit for one buffer (lavapipe: 128 MiB, less than the 192 MB of configs/cnn.json's 10,000 80x80
 * images) and within the 4 GiB that the kernel's 32-bit byte offsets reach.
 */
import { ROW_WORDS, type HeldImages } from '../batch-rows.ts';
import { IMAGE_BUFFERS } from './kernels/gather-batch.wgsl.ts';
import { bufferLimit, type GpuBufferLimits } from './memory.ts';
import { dispatch1d, type BoundKernel } from './layers/context.ts';

/** The images' metadata (what the GPU thread needs besides the pixels). */
export type HeldImagesShape = Omit<HeldImages, 'pixels'>;

/** How the images are cut: `perBuffer` whole images per buffer, `buffers` buffers. */
export interface HeldImagesLayout {
  perBuffer: number;
  buffers: number;
}

/** Bytes uploaded in one piece (each piece is copied to plain memory first: Dawn must not see shared memory). */
const UPLOAD_PIECE = 16 * 2 ** 20;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Whole images of `storedSize` bytes that one buffer holds under these limits (in whole words, at 32-bit byte offsets). */
export function imagesPerBuffer(storedSize: number, limits: GpuBufferLimits): number {
  const usable = Math.floor(Math.min(bufferLimit(limits).limit, 2 ** 32 - 4) / 4) * 4;
  return Math.floor((usable - 3) / storedSize);
}

/** The layout of the images under these limits, or why they cannot be held (one line). */
export function heldImagesLayout(shape: Pick<HeldImagesShape, 'count' | 'decodeWidth' | 'decodeHeight' | 'channels'>, limits: GpuBufferLimits): HeldImagesLayout | string {
  const stored = shape.decodeWidth * shape.decodeHeight * shape.channels;
  const { limit, limitName } = bufferLimit(limits);
  const perBuffer = Math.min(Math.max(1, shape.count), imagesPerBuffer(stored, limits));
  const total = shape.count * stored;
  if (perBuffer < 1) return `one image takes ${mib(stored)}, over the GPU's limit of ${mib(limit)} for one buffer (${limitName})`;
  const buffers = Math.max(1, Math.ceil(shape.count / perBuffer));
  if (buffers > IMAGE_BUFFERS) {
    return `the ${shape.count} images take ${mib(total)}, over ${IMAGE_BUFFERS} buffers of the GPU's limit of ${mib(limit)} (${limitName})`;
  }
  return { perBuffer, buffers };
}

export class GpuHeldImages {
  private readonly pixels: GPUBuffer[];
  private readonly rows: GPUBuffer;
  private readonly owned: GPUBuffer[];
  private readonly gather: BoundKernel;
  private readonly inputSize: number;
  private readonly storedSize: number;

  /**
   * `bind` gives the gather-batch kernel bound to (step, then) these buffers: geometry, rows, table,
   * input, the IMAGE_BUFFERS image buffers. `input` is the network's input batch.
   */
  constructor(
    private readonly device: GPUDevice,
    shape: HeldImagesShape,
    private readonly layout: HeldImagesLayout,
    maxBatch: number,
    input: GPUBuffer,
    bind: (buffers: GPUBuffer[]) => BoundKernel,
  ) {
    const { width, height, channels, decodeWidth, decodeHeight } = shape;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.inputSize = width * height * channels;
    this.storedSize = decodeWidth * decodeHeight * channels;
    const bufferBytes = Math.ceil((layout.perBuffer * this.storedSize) / 4) * 4;
    // Unused image bindings get a word each: every binding of the kernel must have a buffer.
    this.pixels = Array.from({ length: IMAGE_BUFFERS }, (_, k) => device.createBuffer({ size: k < layout.buffers ? bufferBytes : 4, usage }));
    this.rows = device.createBuffer({ size: maxBatch * ROW_WORDS * 4, usage });
    const table = device.createBuffer({ size: shape.table.byteLength, usage });
    device.queue.writeBuffer(table, 0, Float32Array.from(shape.table));
    const geometry = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const words = Uint32Array.of(width, height, channels, decodeWidth, decodeHeight, this.storedSize, this.inputSize, ROW_WORDS, layout.perBuffer, 0, 0, 0);
    device.queue.writeBuffer(geometry, 0, words);
    this.owned = [...this.pixels, this.rows, table, geometry];
    this.gather = bind([geometry, this.rows, table, input, ...this.pixels]);
  }

  /** Uploads the images: (count, stored size) bytes, cut into the layout's buffers. */
  upload(pixels: Uint8Array): void {
    const piece = new Uint8Array(Math.min(UPLOAD_PIECE, Math.max(4, pixels.length)));
    const perBufferBytes = this.layout.perBuffer * this.storedSize;
    for (let k = 0; k < this.layout.buffers; k++) {
      const part = pixels.subarray(k * perBufferBytes, (k + 1) * perBufferBytes);
      for (let at = 0; at < part.length; at += piece.length) {
        const n = Math.min(piece.length, part.length - at);
        piece.set(part.subarray(at, at + n));
        // writeBuffer copies whole words: a last piece of odd length is padded with what follows it in `piece`.
        this.device.queue.writeBuffer(this.pixels[k]!, at, piece, 0, Math.ceil(n / 4) * 4);
      }
    }
  }

  /** The first B rows of the next batch (`words`: a plain array of B x ROW_WORDS or more). */
  writeRows(words: Uint32Array, B: number): void {
    if (B > 0) this.device.queue.writeBuffer(this.rows, 0, words, 0, B * ROW_WORDS);
  }

  /** The batch's B input rows formed in the network's input buffer. */
  encode(pass: GPUComputePassEncoder, B: number): void {
    pass.setPipeline(this.gather.pipeline);
    pass.setBindGroup(0, this.gather.group);
    dispatch1d(pass, B * this.inputSize);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
  }
}
