/**
 * Resampling a decoded image (uint8, HWC) to the network's size, with a separable antialiased
 * triangle filter: the "bilinear" of Pillow's resize, which widens the triangle by the reduction
 * factor so that every source pixel contributes when shrinking (plain bilinear interpolation would
 * skip pixels and alias).
 *
 * Output pixel o of an axis covers source coordinates [start + o*s, start + (o+1)*s), s = length/out,
 * with centre c = start + (o + 0.5)*s. Source pixel i (centre i + 0.5) gets the weight
 *
 *   w(i) = max(0, 1 - |i + 0.5 - c| / r),   r = max(s, 1)
 *
 * and the weights of an output pixel are divided by their sum (so an edge pixel, whose window is cut
 * by the border, is an average of the pixels that exist). The horizontal pass runs first, into a
 * float buffer; the vertical pass rounds to the nearest byte. Plain float64 arithmetic in a fixed
 * order: the same bytes on every machine.
 *
 * `fit` decides the source window and where the picture lands in the output (fitImage below):
 * fill stretches the whole image, cover takes the centred window of the output's aspect ratio,
 * contain puts the whole image, aspect kept, in the middle of black bars.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FitName } from './preprocessing.ts';

/** Taps of one axis: output o reads `count[o]` source pixels from `first[o]` with weights at o * stride. */
interface AxisTaps {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/** A rectangle in source pixels (fractional: cover crops a window that need not fall on pixel edges). */
export interface SourceWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where an image of sw x sh goes in a width x height output: its source window and the output rectangle. */
export interface FitPlan {
  source: SourceWindow;
  /** Output rectangle (whole pixels): the picture; the rest of the output is black. */
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The source window and output rectangle for `fit` (see the module comment). */
export function fitImage(sw: number, sh: number, width: number, height: number, fit: FitName): FitPlan {
  const whole: SourceWindow = { x: 0, y: 0, width: sw, height: sh };
  if (fit === 'fill') return { source: whole, left: 0, top: 0, width, height };
  if (fit === 'cover') {
    // The largest centred window with the output's aspect ratio.
    if (sw * height > sh * width) {
      const w = (sh * width) / height;
      return { source: { x: (sw - w) / 2, y: 0, width: w, height: sh }, left: 0, top: 0, width, height };
    }
    const h = (sw * height) / width;
    return { source: { x: 0, y: (sh - h) / 2, width: sw, height: h }, left: 0, top: 0, width, height };
  }
  // contain: the whole image, scaled by the smaller ratio, centred; at least one pixel each way.
  const scale = Math.min(width / sw, height / sh);
  const w = Math.min(width, Math.max(1, Math.round(sw * scale)));
  const h = Math.min(height, Math.max(1, Math.round(sh * scale)));
  return { source: whole, left: (width - w) >> 1, top: (height - h) >> 1, width: w, height: h };
}

function axisTaps(inSize: number, start: number, length: number, outSize: number): AxisTaps {
  const step = length / outSize;
  const radius = Math.max(step, 1);
  const stride = Math.ceil(radius) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  const exact = new Float64Array(stride);
  for (let o = 0; o < outSize; o++) {
    const centre = start + (o + 0.5) * step;
    // Pixels whose centre lies strictly inside (centre - radius, centre + radius), within the image.
    let lo = Math.max(0, Math.floor(centre - radius - 0.5) + 1);
    let hi = Math.min(inSize, Math.ceil(centre + radius - 0.5));
    if (hi <= lo) {
      // A window narrower than a pixel centre spacing (only when upscaling at the border): nearest pixel.
      lo = Math.min(inSize - 1, Math.max(0, Math.floor(centre)));
      hi = lo + 1;
    }
    // Weights in double, divided by their sum, then rounded once to float32 (what the kernel reads).
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      exact[i - lo] = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / radius);
      sum += exact[i - lo]!;
    }
    if (sum > 0) {
      for (let i = lo; i < hi; i++) weights[o * stride + i - lo] = exact[i - lo]! / sum;
    } else {
      weights[o * stride] = 1;
      hi = lo + 1;
    }
    first[o] = lo;
    count[o] = hi - lo;
  }
  return { first, count, weights, stride };
}

/**
 * The compiled passes (resize.as.ts -> dist/data/resize.wasm, built by `npm run build`), compiled on
 * first use, with our memory (the module imports it) and views over it made once per instance.
 * From dist/ every bundle sits one folder below dist/, so the file is ../data/resize.wasm; from the
 * TypeScript sources (tests) it is the built one, ../../dist/data/resize.wasm.
 */
interface ResizeKernel {
  memory: WebAssembly.Memory;
  bytes: Uint8Array;
  ints: Int32Array;
  floats: Float32Array;
  resizePasses(
    src: number, srcRowBytes: number, from: number, to: number, channels: number,
    vFirst: number, vCount: number, vWeights: number, vStride: number, outRows: number,
    hFirst: number, hCount: number, hWeights: number, hStride: number, outColumns: number,
    col: number, out: number, outRowBytes: number,
  ): void;
}
let module: WebAssembly.Module | null = null;
let kernel: ResizeKernel | null = null;

/** The kernel instance with at least `bytes` of memory: a new, larger instance when needed (memory doubles). */
function kernelWith(bytes: number): ResizeKernel {
  if (kernel !== null && kernel.memory.buffer.byteLength >= bytes) return kernel;
  if (module === null) {
    const here = dirname(fileURLToPath(import.meta.url));
    const candidates = [join(here, '..', 'data', 'resize.wasm'), join(here, '..', '..', 'dist', 'data', 'resize.wasm')];
    const file = candidates.find((f) => existsSync(f));
    if (file === undefined) throw new Error(`the resize kernel is missing (${candidates[0]}): run npm run build`);
    module = new WebAssembly.Module(readFileSync(file));
  }
  let pages = Math.max(16, kernel === null ? 0 : (2 * kernel.memory.buffer.byteLength) / 65536);
  while (pages * 65536 < bytes) pages *= 2;
  const memory = new WebAssembly.Memory({ initial: pages });
  const { resizePasses } = new WebAssembly.Instance(module, { env: { memory } }).exports as Pick<ResizeKernel, 'resizePasses'>;
  const buffer = memory.buffer as unknown as ArrayBuffer;
  kernel = { memory, bytes: new Uint8Array(buffer), ints: new Int32Array(buffer), floats: new Float32Array(buffer), resizePasses };
  return kernel;
}

/**
 * The taps of an axis, kept: the images of a data set mostly share a few sizes. (A plain map,
 * emptied when it grows large: it only saves work.)
 */
const tapsCache = new Map<string, AxisTaps>();
function cachedTaps(inSize: number, start: number, length: number, outSize: number): AxisTaps {
  const key = `${inSize} ${start} ${length} ${outSize}`;
  let taps = tapsCache.get(key);
  if (taps === undefined) {
    if (tapsCache.size >= 1024) tapsCache.clear();
    taps = axisTaps(inSize, start, length, outSize);
    tapsCache.set(key, taps);
  }
  return taps;
}

const align = (n: number): number => (n + 15) & ~15;

/**
 * Resizes `src` (sh, sw, channels) into `out` (height, width, channels) with `fit`, and returns `out`.
 * Pixels outside the picture (contain's bars) are set to 0.
 */
export function resizeImage(
  src: Uint8Array,
  sw: number,
  sh: number,
  channels: number,
  out: Uint8Array,
  width: number,
  height: number,
  fit: FitName,
): Uint8Array {
  if (src.length < sw * sh * channels) throw new RangeError(`resizeImage: ${src.length} bytes for ${sw}x${sh}x${channels}`);
  if (out.length < width * height * channels) throw new RangeError(`resizeImage: out holds ${out.length} bytes for ${width}x${height}x${channels}`);
  const plan = fitImage(sw, sh, width, height, fit);
  const h = cachedTaps(sw, plan.source.x, plan.source.width, plan.width);
  const v = cachedTaps(sh, plan.source.y, plan.source.height, plan.height);
  // Source columns the horizontal taps read: [from, to).
  const from = h.first[0]!;
  const to = h.first[plan.width - 1]! + h.count[plan.width - 1]!;

  // Layout of the kernel's memory (byte offsets, 16-byte aligned): taps, the column scratch, the
  // output and the source.
  const vFirst = 0;
  const vCount = align(vFirst + 4 * plan.height);
  const vWeights = align(vCount + 4 * plan.height);
  const hFirst = align(vWeights + 4 * v.weights.length);
  const hCount = align(hFirst + 4 * plan.width);
  const hWeights = align(hCount + 4 * plan.width);
  const col = align(hWeights + 4 * h.weights.length);
  const result = align(col + 4 * ((to - from) * channels + 4));
  const source = align(result + width * height * channels);
  const k = kernelWith(source + sw * sh * channels);
  k.ints.set(v.first, vFirst >> 2);
  k.ints.set(v.count, vCount >> 2);
  k.floats.set(v.weights, vWeights >> 2);
  for (let x = 0; x < plan.width; x++) k.ints[(hFirst >> 2) + x] = h.first[x]! - from; // counted from `from`
  k.ints.set(h.count, hCount >> 2);
  k.floats.set(h.weights, hWeights >> 2);
  k.bytes.set(src.subarray(0, sw * sh * channels), source);
  const rowBytes = width * channels;
  if (plan.width !== width || plan.height !== height) k.bytes.fill(0, result, result + height * rowBytes);
  k.resizePasses(
    source, sw * channels, from * channels, to * channels, channels,
    vFirst, vCount, vWeights, v.stride, plan.height,
    hFirst, hCount, hWeights, h.stride, plan.width,
    col, result + (plan.top * width + plan.left) * channels, rowBytes,
  );
  out.set(k.bytes.subarray(result, result + height * rowBytes));
  return out;
}
