/**
 * Test images made with sharp: every kind of image a user may have, broken files of every kind, and
 * small labeled folders of distinguishable cats and dogs. Shared by the data, training and nn-eval tests.
 *
 *   await makeLabeledFolder(dir, { cats: 6, dogs: 4, size: 16 })   // cat.0.jpg ... dog.3.jpg
 *   await writeImage(join(dir, 'x.png'), 'rgba-png', { width: 20, height: 10 })
 *   await writeBrokenFile(join(dir, 'cat.9.jpg'), 'truncated')
 *
 * Everything is deterministic (seeded patterns, no Math.random).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { writeSyntheticImage } from '../../src/data/demo.ts';
import { LABEL_NAMES, type Label } from '../../src/data/find.ts';

/** A fresh temporary folder; remove it with removeTempDir (e.g. in afterAll). */
export function makeTempDir(prefix = 'nn-train-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * RGB bytes (height, width, 3) of a seeded pattern: a diagonal gradient tinted by the seed, with the
 * top-left corner block pure red and the top-right one pure blue, so that orientation and mirroring are visible.
 */
export function patternPixels(width: number, height: number, seed = 1): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const tint = [(seed * 67) % 256, (seed * 131) % 256, (seed * 199) % 256];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = Math.round((255 * (x + y)) / Math.max(1, width + height - 2));
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = (g + tint[c]!) >> 1;
    }
  }
  // Corner blocks of a quarter of each side (at least one pixel), large enough to survive JPEG.
  const bw = Math.max(1, Math.floor(width / 4));
  const bh = Math.max(1, Math.floor(height / 4));
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      out.set([255, 0, 0], (y * width + x) * 3);
      if (width > 1) out.set([0, 0, 255], (y * width + (width - 1 - x)) * 3);
    }
  }
  return out;
}

/** Every kind of valid image the pipeline must read. */
export const IMAGE_KINDS = [
  'jpeg',
  'png',
  'webp',
  'grayscale-jpeg',
  'grayscale-png',
  'cmyk-jpeg',
  'rgba-png',
  'grayscale-alpha-png',
  'png-16bit',
  'palette-png',
  'exif-rotated-jpeg',
] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

export interface ImageOptions {
  width?: number;
  height?: number;
  seed?: number;
}

function rgb(width: number, height: number, seed: number): sharp.Sharp {
  return sharp(patternPixels(width, height, seed), { raw: { width, height, channels: 3 } });
}

/** Encodes an image of `kind` (width x height as seen after EXIF orientation) to bytes. */
export async function encodeImage(kind: ImageKind, options: ImageOptions = {}): Promise<Buffer> {
  const { width = 24, height = 16, seed = 1 } = options;
  switch (kind) {
    case 'jpeg':
      return rgb(width, height, seed).jpeg({ quality: 90 }).toBuffer();
    case 'png':
      return rgb(width, height, seed).png().toBuffer();
    case 'webp':
      return rgb(width, height, seed).webp({ quality: 90 }).toBuffer();
    case 'grayscale-jpeg':
      return rgb(width, height, seed).toColourspace('b-w').jpeg().toBuffer();
    case 'grayscale-png':
      return rgb(width, height, seed).toColourspace('b-w').png().toBuffer();
    case 'cmyk-jpeg':
      return rgb(width, height, seed).toColourspace('cmyk').jpeg().toBuffer();
    case 'rgba-png': {
      // Left half opaque pattern, right half fully transparent (hidden colour: pure green).
      const px = new Uint8Array(width * height * 4);
      const src = patternPixels(width, height, seed);
      for (let i = 0; i < width * height; i++) {
        const opaque = i % width < width / 2;
        px.set(opaque ? [src[i * 3]!, src[i * 3 + 1]!, src[i * 3 + 2]!, 255] : [0, 255, 0, 0], i * 4);
      }
      return sharp(px, { raw: { width, height, channels: 4 } }).png().toBuffer();
    }
    case 'grayscale-alpha-png': {
      const px = new Uint8Array(width * height * 2);
      for (let i = 0; i < width * height; i++) px.set([(i * 13 + seed) % 256, 128], i * 2);
      return sharp(px, { raw: { width, height, channels: 2 } }).png().toBuffer();
    }
    case 'png-16bit':
      return rgb(width, height, seed).toColourspace('rgb16').png().toBuffer();
    case 'palette-png':
      return rgb(width, height, seed).png({ palette: true, colours: 16 }).toBuffer();
    case 'exif-rotated-jpeg':
      // Stored as height x width with EXIF orientation 6 (rotate 90 degrees clockwise to display),
      // so a viewer shows width x height. A decoder ignoring EXIF would see the wrong shape.
      return sharp(await rgb(width, height, seed).rotate(270).png().toBuffer())
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer();
  }
}

/** Writes an image of `kind` to `path` (folders created as needed). */
export async function writeImage(path: string, kind: ImageKind, options: ImageOptions = {}): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await encodeImage(kind, options));
}

/** A large JPEG (default 4000x3000) made without building its pixels in JavaScript. */
export async function writeLargeJpeg(path: string, width = 4000, height = 3000): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } })
    .jpeg({ quality: 80 })
    .toFile(path);
}

/**
 * A JPEG that libjpeg decodes with the warning "Corrupt JPEG data: 2 extraneous bytes before marker
 * 0xda" (as in some real Kaggle files): two junk bytes inserted before the start-of-scan marker.
 * sharp's default failOn ('warning') rejects it; the pipeline must not.
 */
export async function encodeJpegWithExtraneousBytes(options: ImageOptions = {}): Promise<Buffer> {
  const jpeg = await encodeImage('jpeg', options);
  const sos = findMarker(jpeg, 0xda);
  return Buffer.concat([jpeg.subarray(0, sos), Buffer.from([0x12, 0x34]), jpeg.subarray(sos)]);
}

/** Offset of the first JPEG header marker 0xFF `code` (walking the segment lengths from SOI). */
function findMarker(jpeg: Buffer, code: number): number {
  let p = 2;
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) throw new Error(`findMarker: lost sync at ${p}`);
    if (jpeg[p + 1] === code) return p;
    p += 2 + jpeg.readUInt16BE(p + 2);
  }
  throw new Error(`findMarker: no marker 0x${code.toString(16)}`);
}

/** Every kind of broken image file; each must be skipped and reported by name. */
export const BROKEN_KINDS = ['empty', 'truncated', 'not-an-image', 'corrupt-header', 'folder', 'dangling-link'] as const;
export type BrokenKind = (typeof BROKEN_KINDS)[number];

/**
 * Writes a broken "image" at `path`:
 *   empty: 0 bytes; truncated: the first 60% of a JPEG; not-an-image: text; corrupt-header: a JPEG whose
 *   frame header is overwritten; folder: a folder named like an image; dangling-link: a symbolic link to
 *   a file that does not exist.
 */
export async function writeBrokenFile(path: string, kind: BrokenKind): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  switch (kind) {
    case 'empty':
      writeFileSync(path, new Uint8Array(0));
      return;
    case 'truncated': {
      const jpeg = await encodeImage('jpeg', { width: 48, height: 48 });
      writeFileSync(path, jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
      return;
    }
    case 'not-an-image':
      writeFileSync(path, 'this is a text file with an image name\n');
      return;
    case 'corrupt-header': {
      const jpeg = Buffer.from(await encodeImage('jpeg', { width: 48, height: 48 }));
      const sof = findMarker(jpeg, 0xc0);
      jpeg.fill(0xee, sof + 4, sof + 12); // precision, height, width, component count: garbage
      writeFileSync(path, jpeg);
      return;
    }
    case 'folder':
      mkdirSync(path, { recursive: true });
      return;
    case 'dangling-link':
      symlinkSync(join(dirname(path), 'no-such-target.jpg'), path);
      return;
  }
}

export interface LabeledFolderOptions {
  cats: number;
  dogs: number;
  /** Side of the square pictures (default 16). */
  size?: number;
  /** 'kaggle' (default): cat.N.jpg in one folder; 'folders': cats/N.jpg and dogs/N.jpg. */
  layout?: 'kaggle' | 'folders';
  /** File extension without the dot (default 'jpg'). */
  ext?: 'jpg' | 'png' | 'webp';
  /** Base seed (default 1); different seeds give different pictures. */
  seed?: number;
}

/**
 * Writes a small labeled set of synthetic pictures (the demo's: warm horizontal stripes for cats, cool
 * vertical ones for dogs, so a network can learn them) and returns their paths and labels in the order
 * findImages lists them (cats first, then dogs, each by number).
 */
export async function makeLabeledFolder(dir: string, options: LabeledFolderOptions): Promise<{ paths: string[]; labels: Label[] }> {
  const { cats, dogs, size = 16, layout = 'kaggle', ext = 'jpg', seed = 1 } = options;
  const paths: string[] = [];
  const labels: Label[] = [];
  const jobs: Promise<void>[] = [];
  for (const [label, count] of [
    [0, cats],
    [1, dogs],
  ] as const) {
    if (layout === 'folders') mkdirSync(join(dir, `${LABEL_NAMES[label]}s`), { recursive: true });
    else mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++) {
      const name = `${LABEL_NAMES[label]}.${i}.${ext}`;
      const path = layout === 'kaggle' ? join(dir, name) : join(dir, `${LABEL_NAMES[label]}s`, `${i}.${ext}`);
      paths.push(path);
      labels.push(label);
      jobs.push(writeSyntheticImage(path, label, (seed * 7919 + i * 2 + label) >>> 0, size));
    }
  }
  await Promise.all(jobs);
  return { paths, labels };
}
