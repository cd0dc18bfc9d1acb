// The resize of data.resize = 'linear': the WebAssembly passes against a plain float32 reference of the
// formula in src/data/resize.ts, the fit plans, the JPEG header reader and libjpeg's scaled decode.
// (npm test builds dist/data/resize.wasm first.)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageBytes, jpegShrink, type DecodeSettings } from '../src/data/decode.ts';
import { jpegHeader, jpegSize } from '../src/data/jpeg-header.ts';
import type { FitName } from '../src/data/preprocessing.ts';
import { fitImage, resizeImage } from '../src/data/resize.ts';
import { makeTempDir, patternPixels, removeTempDir, writeImage } from './helpers/images.ts';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeTempDir(dir));

const f = Math.fround;

/** The taps of one axis, as the module comment of resize.ts defines them (float32 weights). */
function referenceTaps(inSize: number, start: number, length: number, outSize: number): { first: number; weights: number[] }[] {
  const step = length / outSize;
  const radius = Math.max(step, 1);
  const taps: { first: number; weights: number[] }[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = start + (o + 0.5) * step;
    const inside: number[] = [];
    for (let i = 0; i < inSize; i++) if (Math.abs(i + 0.5 - centre) < radius) inside.push(i);
    if (inside.length === 0) inside.push(Math.min(inSize - 1, Math.max(0, Math.floor(centre))));
    const w = inside.map((i) => Math.max(0, 1 - Math.abs(i + 0.5 - centre) / radius));
    const sum = w.reduce((a, b) => a + b, 0);
    taps.push({ first: inside[0]!, weights: sum > 0 ? w.map((x) => f(x / sum)) : [1] });
  }
  return taps;
}

/** Vertical then horizontal pass in float32, one rounding per multiply and per add, in tap order. */
function referenceResize(src: Uint8Array, sw: number, sh: number, c: number, width: number, height: number, fit: FitName): Uint8Array {
  const plan = fitImage(sw, sh, width, height, fit);
  const h = referenceTaps(sw, plan.source.x, plan.source.width, plan.width);
  const v = referenceTaps(sh, plan.source.y, plan.source.height, plan.height);
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < plan.height; y++) {
    const col = new Array<number>(sw * c).fill(0);
    v[y]!.weights.forEach((w, k) => {
      for (let i = 0; i < sw * c; i++) col[i] = f(col[i]! + f(w * src[(v[y]!.first + k) * sw * c + i]!));
    });
    for (let x = 0; x < plan.width; x++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        h[x]!.weights.forEach((w, k) => (sum = f(sum + f(w * col[(h[x]!.first + k) * c + ch]!))));
        out[((plan.top + y) * width + plan.left + x) * c + ch] = Math.min(255, Math.max(0, Math.floor(f(sum + 0.5))));
      }
    }
  }
  return out;
}

function noise(n: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}

describe('resizeImage', () => {
  const cases: [number, number, number, number, number, FitName][] = [
    [100, 100, 3, 64, 64, 'fill'], // the 200x200 Kaggle image after DCT scaling
    [113, 93, 3, 64, 64, 'fill'], // a 450x370 photo at 1/4
    [37, 29, 3, 11, 7, 'fill'], // odd sizes: SIMD tails in both passes
    [40, 20, 3, 10, 10, 'cover'],
    [20, 40, 1, 10, 10, 'cover'],
    [40, 17, 3, 16, 16, 'contain'],
    [3, 2, 3, 8, 6, 'fill'], // upscaling
    [1, 1, 1, 5, 4, 'fill'],
    [250, 7, 1, 9, 9, 'contain'],
  ];
  it.each(cases)('%ix%ix%i -> %ix%i (%s): bit for bit the float32 formula', (sw, sh, c, w, h, fit) => {
    const src = noise(sw * sh * c, sw * 31 + sh);
    const out = resizeImage(src, sw, sh, c, new Uint8Array(w * h * c).fill(7), w, h, fit);
    expect(Array.from(out)).toEqual(Array.from(referenceResize(src, sw, sh, c, w, h, fit)));
  });

  it('keeps a flat image flat, and takes a two-colour image to its two colours away from the edge', () => {
    const flat = new Uint8Array(50 * 30 * 3).fill(173);
    expect(new Set(resizeImage(flat, 50, 30, 3, new Uint8Array(8 * 8 * 3), 8, 8, 'fill'))).toEqual(new Set([173]));
    const halves = new Uint8Array(64 * 8);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 64; x++) halves[y * 64 + x] = x < 32 ? 10 : 250;
    const small = resizeImage(halves, 64, 8, 1, new Uint8Array(16 * 2), 16, 2, 'fill');
    expect(small[0]).toBe(10);
    expect(small[15]).toBe(250);
    for (let x = 1; x < 16; x++) expect(small[x]!).toBeGreaterThanOrEqual(small[x - 1]!); // monotone: no ringing
  });

  it('contain leaves black bars; large images grow the kernel memory and keep working', () => {
    const out = resizeImage(new Uint8Array(40 * 10 * 3).fill(200), 40, 10, 3, new Uint8Array(8 * 8 * 3).fill(9), 8, 8, 'contain');
    // 8x2 picture in rows 3 and 4.
    for (let y = 0; y < 8; y++) expect(out[(y * 8 + 4) * 3]).toBe(y === 3 || y === 4 ? 200 : 0);
    const big = noise(1500 * 1100 * 3, 5);
    const a = resizeImage(big, 1500, 1100, 3, new Uint8Array(12 * 12 * 3), 12, 12, 'cover');
    expect(Array.from(a)).toEqual(Array.from(referenceResize(big, 1500, 1100, 3, 12, 12, 'cover')));
  });
});

describe('fitImage', () => {
  it('fill takes everything, cover the centred window of the output shape, contain a centred rectangle', () => {
    expect(fitImage(40, 20, 10, 10, 'fill')).toEqual({ source: { x: 0, y: 0, width: 40, height: 20 }, left: 0, top: 0, width: 10, height: 10 });
    expect(fitImage(40, 20, 10, 10, 'cover')).toEqual({ source: { x: 10, y: 0, width: 20, height: 20 }, left: 0, top: 0, width: 10, height: 10 });
    expect(fitImage(30, 45, 20, 10, 'cover').source).toEqual({ x: 0, y: 15, width: 30, height: 15 });
    expect(fitImage(40, 20, 10, 10, 'contain')).toEqual({ source: { x: 0, y: 0, width: 40, height: 20 }, left: 0, top: 2, width: 10, height: 5 });
    expect(fitImage(1000, 1, 10, 10, 'contain')).toMatchObject({ width: 10, height: 1 }); // at least one pixel
  });
});

describe('jpegSize and the DCT-scaled decode', () => {
  it('reads the stored size of baseline and progressive JPEGs, EXIF and all; null for anything else', async () => {
    const raw = (w: number, h: number) => sharp(patternPixels(w, h), { raw: { width: w, height: h, channels: 3 } });
    expect(jpegSize(await raw(450, 370).jpeg().toBuffer())).toEqual({ width: 450, height: 370 });
    expect(jpegSize(await raw(31, 17).jpeg({ progressive: true }).toBuffer())).toEqual({ width: 31, height: 17 });
    const rotated = await raw(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(jpegSize(rotated)).toEqual({ width: 40, height: 20 }); // as stored, before EXIF orientation
    expect(jpegSize(await raw(8, 8).png().toBuffer())).toBeNull();
    const full = await raw(64, 48).jpeg().toBuffer();
    expect(jpegSize(full.subarray(0, 20))).toBeNull(); // cut before the frame header
    expect(jpegSize(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeNull(); // scan before any frame
  });

  it('scales by the largest of 8, 4, 2 that keeps the image at least as large as needed', () => {
    expect(jpegShrink({ width: 200, height: 200 }, 64, 64)).toBe(2); // 3.1 times too large
    expect(jpegShrink({ width: 450, height: 370 }, 64, 64)).toBe(4);
    expect(jpegShrink({ width: 2400, height: 1800 }, 64, 64)).toBe(8);
    expect(jpegShrink({ width: 120, height: 200 }, 64, 64)).toBe(1); // the short side is under twice 64
    expect(jpegShrink({ width: 450, height: 370 }, 72, 40)).toBe(4); // the larger side wanted counts, for any orientation
  });

  it('reads the EXIF orientation: 1 without EXIF or without the tag, null when the block does not parse', async () => {
    const raw = (w: number, h: number) => sharp(patternPixels(w, h), { raw: { width: w, height: h, channels: 3 } });
    expect(jpegHeader(await raw(40, 20).jpeg().toBuffer())?.orientation).toBe(1);
    for (const orientation of [1, 3, 6, 8]) {
      expect(jpegHeader(await raw(40, 20).jpeg().withMetadata({ orientation }).toBuffer())?.orientation).toBe(orientation);
    }
    const withExif = await raw(40, 20).jpeg().withExif({ IFD0: { Copyright: 'nn-train' } }).toBuffer();
    expect(jpegHeader(withExif)?.orientation).toBe(1);
    const rotated = Buffer.from(await raw(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const tiff = rotated.indexOf('Exif\0\0') + 6;
    rotated[tiff] = 0x58; // "XI": not a TIFF byte order
    expect(jpegHeader(rotated)).toMatchObject({ width: 40, height: 20, orientation: null });
  });

  it('a large JPEG turned by EXIF is decoded at reduced scale and upright', async () => {
    const path = join(dir, 'rotated-large.jpg');
    await writeImage(path, 'exif-rotated-jpeg', { width: 400, height: 200 }); // shown 400x200, stored 200x400
    const out = await decodeImage(path, { width: 40, height: 20, channels: 3, fit: 'fill', resize: 'linear' });
    const px = (x: number, y: number) => Array.from(out.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3));
    const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 40);
    expect(near(px(3, 1), [255, 0, 0]), `top-left ${px(3, 1)}`).toBe(true);
    expect(near(px(36, 1), [0, 0, 255]), `top-right ${px(36, 1)}`).toBe(true);
  });

  it('a large JPEG read from its file is decoded by libjpeg at reduced scale, then resized by resize.ts', async () => {
    const path = join(dir, 'photo.jpg');
    writeFileSync(path, await sharp(patternPixels(450, 370, 3), { raw: { width: 450, height: 370, channels: 3 } }).jpeg({ quality: 85 }).toBuffer());
    const settings: DecodeSettings = { width: 64, height: 64, channels: 3, fit: 'fill', resize: 'linear' };
    const got = await decodeImage(path, settings);
    // What the pipeline should be: libvips' own load at shrink 4 (112x92: libvips drops the partial
    // last pixel of 450/4 and 370/4), then our resize.
    const { data, info } = await sharp(`${path}[shrink=4]`).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([112, 92]);
    expect(Array.from(got)).toEqual(Array.from(resizeImage(data, 112, 92, 3, new Uint8Array(64 * 64 * 3), 64, 64, 'fill')));
    // Bytes without their file cannot be handed to libjpeg's scaled decode: libvips reduces them (to
    // twice the size needed), then the same resize: close, not equal.
    const full = await decodeImageBytes(path, readFileSync(path), settings);
    expect(Array.from(full)).not.toEqual(Array.from(got));
    const meanDiff = full.reduce((s, v, i) => s + Math.abs(v - got[i]!), 0) / full.length;
    expect(meanDiff).toBeLessThan(3);
  });

  it('file names with brackets, which libvips reads as load options, decode their own bytes, in full', async () => {
    const jpeg = (background: string) => sharp({ create: { width: 300, height: 300, channels: 3, background } }).jpeg().toBuffer();
    const settings: DecodeSettings = { width: 32, height: 32, channels: 3, fit: 'fill', resize: 'linear' };
    const red = await jpeg('#ff0000');
    const blue = await jpeg('#0000ff');
    // libvips would read "y.jpg[shrink=8]" as y.jpg at 1/8 scale: the red picture, not this blue one.
    writeFileSync(join(dir, 'y.jpg'), red);
    for (const name of ['y.jpg[shrink=8]', 'cat[1].jpg', 'odd].jpg', '[shrink=2]']) {
      const path = join(dir, name);
      writeFileSync(path, blue);
      const got = await decodeImage(path, settings);
      expect(Array.from(got), name).toEqual(Array.from(await decodeImageBytes(path, blue, settings)));
      expect(Array.from(got.subarray(0, 3)), name).toEqual([0, 0, 254]);
    }
  });

  it('an image libjpeg cannot scale (a PNG) larger than twice the size needed is reduced by libvips first', async () => {
    const path = join(dir, 'large.png');
    await sharp(patternPixels(1200, 900, 6), { raw: { width: 1200, height: 900, channels: 3 } }).png().toFile(path);
    const got = await decodeImage(path, { width: 32, height: 32, channels: 3, fit: 'cover', resize: 'linear' });
    const { data, info } = await sharp(path).resize(64, 64, { fit: 'outside', withoutEnlargement: true, kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([85, 64]);
    expect(Array.from(got)).toEqual(Array.from(resizeImage(data, 85, 64, 3, new Uint8Array(32 * 32 * 3), 32, 32, 'cover')));
    const small = join(dir, 'small.png'); // not larger: decoded whole
    await sharp(patternPixels(50, 40, 6), { raw: { width: 50, height: 40, channels: 3 } }).png().toFile(small);
    const whole = await sharp(small).raw().toBuffer();
    expect(Array.from(await decodeImage(small, { width: 32, height: 32, channels: 3, fit: 'fill', resize: 'linear' }))).toEqual(
      Array.from(resizeImage(whole, 50, 40, 3, new Uint8Array(32 * 32 * 3), 32, 32, 'fill')),
    );
  });

  it("resize lanczos3 is sharp's own resize, byte for byte the decoder nn-train had before data.resize", async () => {
    const path = join(dir, 'old.jpg');
    await writeImage(path, 'jpeg', { width: 90, height: 70, seed: 9 });
    const before = await sharp(path, { failOn: 'error', autoOrient: true, sequentialRead: true })
      .flatten({ background: '#ffffff' })
      .resize(24, 24, { fit: 'cover', background: { r: 0, g: 0, b: 0, alpha: 1 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer();
    const now = await decodeImage(path, { width: 24, height: 24, channels: 3, fit: 'cover', resize: 'lanczos3' });
    expect(Array.from(now)).toEqual(Array.from(before));
    // No resize given means lanczos3 too: what a model file without the field was made with.
    expect(Array.from(await decodeImage(path, { width: 24, height: 24, channels: 3, fit: 'cover' }))).toEqual(Array.from(before));
  });
});
