import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, type DecodeSettings } from '../src/data/decode.ts';
import { decodeImages } from '../src/data/decode-stream.ts';
import {
  BROKEN_KINDS,
  encodeJpegWithExtraneousBytes,
  IMAGE_KINDS,
  makeTempDir,
  patternPixels,
  removeTempDir,
  writeBrokenFile,
  writeImage,
  writeLargeJpeg,
  type ImageKind,
} from './helpers/images.ts';

const rgb8: DecodeSettings = { width: 8, height: 6, channels: 3, fit: 'fill' };
let dir: string;

beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeTempDir(dir));

/** Pixel (x, y) of an HWC image. */
function px(img: Uint8Array, width: number, channels: number, x: number, y: number): number[] {
  const at = (y * width + x) * channels;
  return Array.from(img.subarray(at, at + channels));
}

function near(actual: number[], expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `channel ${i}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance));
}

/** sRGB <-> linear light (IEC 61966-2-1), for the expected grey of a colour. */
const toLinear = (v: number): number => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const fromLinear = (l: number): number => 255 * (l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055);

/** The grey of an sRGB colour: its luminance Y = 0.2126 R + 0.7152 G + 0.0722 B in linear light, back in sRGB. */
function luminance(r: number, g: number, b: number): number {
  return fromLinear(0.2126 * toLinear(r) + 0.7152 * toLinear(g) + 0.0722 * toLinear(b));
}

/**
 * What a decoder must give for an image of `kind` made by test/helpers/images.ts, worked out from
 * how the helper makes it, not by decoding: the RGB pattern itself; its luminance for the grey
 * kinds; for rgba-png the pattern on the left half and white (alpha 0 composited on white) on the
 * right; for grayscale-alpha-png the grey (i * 13 + seed) mod 256 at alpha 128 composited on white.
 */
function expectedRgb(kind: ImageKind, width: number, height: number, seed: number): Float64Array {
  const pattern = patternPixels(width, height, seed);
  const out = Float64Array.from(pattern);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [pattern[3 * i]!, pattern[3 * i + 1]!, pattern[3 * i + 2]!];
    let grey: number | null = null;
    if (kind === 'grayscale-jpeg' || kind === 'grayscale-png') grey = luminance(r, g, b);
    else if (kind === 'grayscale-alpha-png') grey = (((i * 13 + seed) % 256) * 128 + 255 * 127) / 255;
    else if (kind === 'rgba-png' && i % width >= width / 2) grey = 255;
    if (grey !== null) out.fill(grey, 3 * i, 3 * i + 3);
  }
  return out;
}

/** Mean absolute difference, in levels of 0..255. */
function meanError(actual: Uint8Array, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i]! - expected[i]!);
  return sum / actual.length;
}

/**
 * Mean error allowed per kind, RGB and grey: lossless kinds to rounding; JPEG and WebP (quality 90,
 * chroma subsampled: the pure red and blue corner blocks bleed) a few levels; CMYK through a colour
 * profile round trip; the palette to 16 colours. A decoder returning zeros, a mirrored or
 * channel-swapped image is off by tens of levels.
 */
const TOLERANCE: Record<ImageKind, [rgb: number, grey: number]> = {
  jpeg: [10, 6],
  png: [0.5, 1],
  webp: [10, 6],
  'grayscale-jpeg': [3, 3],
  'grayscale-png': [1, 1],
  'cmyk-jpeg': [14, 8],
  'rgba-png': [0.5, 1],
  'grayscale-alpha-png': [1, 1],
  'png-16bit': [0.5, 1],
  'palette-png': [4, 4],
  'exif-rotated-jpeg': [10, 6],
};

describe('decodeImage: every kind of image to width * height * channels bytes', () => {
  for (const kind of IMAGE_KINDS) {
    it(`${kind}: RGB and grey vectors of the right length, with the pixels the file holds`, async () => {
      const path = join(dir, `kind-${kind}.${kind.includes('png') ? 'png' : kind === 'webp' ? 'webp' : 'jpg'}`);
      await writeImage(path, kind, { width: 30, height: 20 });
      const color = await decodeImage(path, rgb8);
      expect(color).toBeInstanceOf(Uint8Array);
      expect(color.length).toBe(8 * 6 * 3);
      const grey = await decodeImage(path, { ...rgb8, channels: 1 });
      expect(grey.length).toBe(8 * 6);
      // At the image's own size (no resampling), against what the helper put in the file, through
      // both paths: sharp's resize (a model file without the field) and the linear filter (nn-train's default).
      const expected = expectedRgb(kind, 30, 20, 1);
      const expectedGrey = Array.from({ length: 30 * 20 }, (_, i) => luminance(expected[3 * i]!, expected[3 * i + 1]!, expected[3 * i + 2]!));
      const [rgbTolerance, greyTolerance] = TOLERANCE[kind];
      for (const resize of [{}, { resize: 'linear' as const }]) {
        const full = { width: 30, height: 20, fit: 'fill', ...resize } as const;
        const which = JSON.stringify(resize);
        expect(meanError(await decodeImage(path, { ...full, channels: 3 }), expected), `RGB ${which}`).toBeLessThanOrEqual(rgbTolerance);
        expect(meanError(await decodeImage(path, { ...full, channels: 1 }), expectedGrey), `grey ${which}`).toBeLessThanOrEqual(greyTolerance);
      }
    });
  }

  it('1x1 and large images (the 4000x3000 case is in data-dataset.test.ts)', async () => {
    const tiny = join(dir, 'tiny.png');
    await writeImage(tiny, 'png', { width: 1, height: 1 });
    const one = await decodeImage(tiny, rgb8);
    expect(one.length).toBe(8 * 6 * 3);
    // A single red pixel stretched over the whole output.
    for (let i = 0; i < 8 * 6; i++) near(px(one, 8, 3, i % 8, Math.floor(i / 8)), [255, 0, 0], 2);

    const big = join(dir, 'big.jpg');
    await writeLargeJpeg(big, 2400, 1800);
    const out = await decodeImage(big, { width: 64, height: 64, channels: 3, fit: 'cover' });
    expect(out.length).toBe(64 * 64 * 3);
    near(px(out, 64, 3, 32, 32), [200, 120, 40], 4);
  });

  it('honours EXIF orientation: red stays top-left, blue top-right, shape as displayed', async () => {
    const path = join(dir, 'rotated.jpg');
    await writeImage(path, 'exif-rotated-jpeg', { width: 40, height: 20 });
    expect((await sharp(path).metadata()).orientation).toBe(6);
    // contain keeps the aspect ratio: a displayed 40x20 image fills the 40x20 output without bars.
    const out = await decodeImage(path, { width: 40, height: 20, channels: 3, fit: 'contain' });
    near(px(out, 40, 3, 3, 1), [255, 0, 0], 40);
    near(px(out, 40, 3, 36, 1), [0, 0, 255], 40);
  });

  it('converts colourspaces: grey to RGB, CMYK to RGB, 16-bit to 8-bit, alpha composited on white', async () => {
    const solid = async (name: string, make: () => sharp.Sharp): Promise<string> => {
      const path = join(dir, name);
      await make().toFile(path);
      return path;
    };
    const settings: DecodeSettings = { width: 4, height: 4, channels: 3, fit: 'fill' };
    const create = (channels: 3 | 4, background: sharp.Color) => sharp({ create: { width: 8, height: 8, channels, background } });

    const grey = await decodeImage(await solid('solid-grey.png', () => create(3, { r: 90, g: 90, b: 90 }).toColourspace('b-w')), settings);
    near(px(grey, 4, 3, 1, 1), [90, 90, 90], 1);

    const cmyk = await decodeImage(await solid('solid-cmyk.jpg', () => create(3, { r: 200, g: 30, b: 30 }).toColourspace('cmyk').jpeg({ quality: 100 })), settings);
    near(px(cmyk, 4, 3, 1, 1), [200, 30, 30], 40); // through a CMYK profile round trip: close, not exact

    const deep = await decodeImage(await solid('solid-16.png', () => create(3, { r: 128, g: 64, b: 32 }).toColourspace('rgb16').png()), settings);
    near(px(deep, 4, 3, 1, 1), [128, 64, 32], 1);

    const clear = await decodeImage(await solid('clear.png', () => create(4, { r: 0, g: 255, b: 0, alpha: 0 }).png()), settings);
    near(px(clear, 4, 3, 1, 1), [255, 255, 255], 0);
    const clearGrey = await decodeImage(join(dir, 'clear.png'), { ...settings, channels: 1 });
    near(px(clearGrey, 4, 1, 1, 1), [255], 0);
  });

  it('fit: fill stretches, cover crops, contain letterboxes with black', async () => {
    // 40x20: left half red, right half blue.
    const raw = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    const path = join(dir, 'halves.png');
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).png().toFile(path);
    const s = (fit: DecodeSettings['fit']): DecodeSettings => ({ width: 10, height: 10, channels: 3, fit });

    const fill = await decodeImage(path, s('fill'));
    near(px(fill, 10, 3, 0, 0), [255, 0, 0], 2);
    near(px(fill, 10, 3, 9, 9), [0, 0, 255], 2);

    const cover = await decodeImage(path, s('cover')); // centre 20x20 crop: still half and half
    near(px(cover, 10, 3, 0, 5), [255, 0, 0], 2);
    near(px(cover, 10, 3, 9, 5), [0, 0, 255], 2);

    const contain = await decodeImage(path, s('contain')); // 10x5 picture in the middle, black bars
    near(px(contain, 10, 3, 5, 0), [0, 0, 0], 2);
    near(px(contain, 10, 3, 0, 5), [255, 0, 0], 2);
    near(px(contain, 10, 3, 9, 5), [0, 0, 255], 2);
    near(px(contain, 10, 3, 5, 9), [0, 0, 0], 2);
  });

  it('accepts a JPEG with libjpeg\'s "extraneous bytes before marker" warning', async () => {
    const bytes = await encodeJpegWithExtraneousBytes({ width: 32, height: 24 });
    const path = join(dir, 'warning.jpg');
    writeFileSync(path, bytes);
    // The file really triggers the warning: sharp's default failOn rejects it...
    await expect(sharp(bytes).raw().toBuffer()).rejects.toThrow(/extraneous bytes before marker/);
    // ...and our pipeline decodes it, to the same pixels as the clean file.
    const out = await decodeImage(path, rgb8);
    expect(out.length).toBe(8 * 6 * 3);
    const clean = join(dir, 'clean.jpg');
    await writeImage(clean, 'jpeg', { width: 32, height: 24 });
    expect(Array.from(out)).toEqual(Array.from(await decodeImage(clean, rgb8)));
  });
});

describe('broken files: an ImageDecodeError naming the file and the cause', () => {
  const expected: Record<(typeof BROKEN_KINDS)[number], RegExp> = {
    empty: /empty file/,
    truncated: /truncated/,
    'not-an-image': /not an image/,
    'corrupt-header': /corrupt|truncated|not an image/,
    folder: /is a folder/,
    'dangling-link': /dangling symbolic link/,
  };
  for (const kind of BROKEN_KINDS) {
    it(kind, async () => {
      const path = join(dir, `broken-${kind}.jpg`);
      await writeBrokenFile(path, kind);
      const err = await decodeImage(path, rgb8).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect((err as ImageDecodeError).path).toBe(path);
      expect((err as ImageDecodeError).reason).toMatch(expected[kind]);
      expect((err as ImageDecodeError).message).toContain(path);
      expect((err as ImageDecodeError).reason).not.toContain('\n');
    });
  }
  it('a missing file', async () => {
    await expect(decodeImage(join(dir, 'nope.jpg'), rgb8)).rejects.toThrow(/nope\.jpg: no such file/);
  });
});

describe('decodeImages: in input order, bad files reported in place', () => {
  it('yields one outcome per path, in order, whatever finishes first', async () => {
    const paths: string[] = [];
    for (let i = 0; i < 12; i++) {
      const path = join(dir, `order-${i}.png`);
      if (i === 3) await writeBrokenFile(path, 'not-an-image');
      else if (i === 7) await writeBrokenFile(path, 'empty');
      else await writeImage(path, 'png', { width: 10 + i, height: 10, seed: i + 1 });
      paths.push(path);
    }
    // A big image first: it finishes last, yet comes out first.
    const big = join(dir, 'order-big.jpg');
    await writeLargeJpeg(big, 2000, 1500);
    paths.unshift(big);

    const outcomes = [];
    for await (const o of decodeImages(paths, rgb8, { processes: 0, concurrency: 4 })) outcomes.push(o);
    expect(outcomes.map((o) => o.index)).toEqual(paths.map((_, i) => i));
    expect(outcomes.map((o) => o.path)).toEqual(paths);
    const failed = outcomes.filter((o) => o.reason !== null);
    expect(failed.map((o) => o.path)).toEqual([paths[4], paths[8]]);
    for (const o of outcomes) {
      if (o.pixels !== null) {
        expect(o.pixels.length).toBe(8 * 6 * 3);
        expect(Array.from(o.pixels)).toEqual(Array.from(await decodeImage(o.path, rgb8)));
      }
    }
  });

  it('reasons do not depend on what else fails at the same time (libvips shares one error buffer)', async () => {
    const paths: string[] = [];
    for (let i = 0; i < 24; i++) {
      const path = join(dir, `race-${i}.jpg`);
      if (i % 3 === 0) await writeImage(path, 'jpeg', { width: 40, height: 30, seed: i });
      else await writeBrokenFile(path, i % 3 === 1 ? 'truncated' : 'corrupt-header');
      paths.push(path);
    }
    const alone = new Map<string, string>();
    for (const path of paths) {
      await decodeImage(path, rgb8).catch((err: ImageDecodeError) => alone.set(path, err.reason));
    }
    expect(alone.get(paths[1]!)).toBe('truncated image (VipsJpeg: premature end of JPEG image)');
    for (let round = 0; round < 3; round++) {
      for await (const o of decodeImages(paths, rgb8, { processes: 0, concurrency: 8 })) {
        expect(o.reason, o.path).toBe(alone.get(o.path) ?? null);
      }
    }
  });

  it('stops when the consumer breaks out', async () => {
    const paths = Array.from({ length: 5 }, (_, i) => join(dir, `order-${i}.png`));
    let seen = 0;
    for await (const o of decodeImages(paths, rgb8, { processes: 0 })) {
      seen++;
      if (o.index === 1) break;
    }
    expect(seen).toBe(2);
  });
});

describe('settings', () => {
  it('impossible settings are a RangeError, not a failure per image', async () => {
    const gen = decodeImages([join(dir, 'order-0.png')], { width: 0, height: 6, channels: 3, fit: 'fill' });
    await expect(gen.next()).rejects.toThrow(RangeError);
    const bad = { width: 8, height: 6, channels: 2, fit: 'fill' } as unknown as DecodeSettings;
    await expect(decodeImages([], bad).next()).rejects.toThrow(/channels must be 1 or 3/);
  });
});
