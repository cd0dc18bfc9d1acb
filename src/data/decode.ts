/**
 * Decoding one image file into the network's input bytes, with sharp (libvips).
 *
 *   file --read--> bytes --sharp--> auto-orient (EXIF) -> flatten alpha on white -> sRGB or grey,
 *        8 bits -> resize to width x height (fit) -> Uint8Array (H, W, C)
 *
 * The resize (data.resize; 'linear' by default in the config, see preprocessing.ts for the others):
 *  - a JPEG at least twice as large as needed is decoded by libjpeg at 1/2, 1/4 or 1/8 scale (DCT
 *    scaling: it skips most of the work of a full decode). sharp has no option for this scale (it
 *    applies it only inside its own resize), so the file is handed to libvips by name with libvips'
 *    load options appended, `photo.jpg[shrink=4]` (not when the name itself holds a bracket); if that
 *    load fails for any reason, the bytes already read are decoded in full instead, so a broken file
 *    is reported as before;
 *  - every other image is decoded at its size (reduced first by libvips to twice the size needed
 *    when it is larger: memory stays bounded for a huge PNG);
 *  - then src/data/resize.ts's antialiased bilinear filter (WebAssembly) takes the image to size.
 * One sharp call per image and no libvips resize: per image, sharp's fixed cost (building the libvips
 * pipeline, its threads, the JavaScript options) is most of the time on photos this small, and a
 * libvips resize adds half again to it (`npm run bench:data -- --compare`).
 *
 * The output is row-major HWC: pixel (y, x) channel c is at (y * width + x) * channels + c.
 * Pixels stay bytes here; scaling to [0, 1] and standardisation happen when a batch is formed
 * (batches.ts), so that the cache holds the compact uint8 form.
 *
 * Any colourspace sharp can read comes out right: grey, CMYK (converted through libvips' default
 * profile), palette, 16-bit PNG (reduced to 8 bits), alpha (composited on white, so the hidden colour
 * under transparent pixels never matters).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { OutputInfo, Sharp, SharpOptions } from 'sharp';
import { describeFsError } from '../errors.ts';
import { jpegHeader } from './jpeg-header.ts';
import { FIT_NAMES, imageGeometry, RESIZE_NAMES, resizeOf, type FitName, type Preprocessing, type ResizeName } from './preprocessing.ts';
import { resizeImage } from './resize.ts';

/** What decides the decoded bytes (scale, mean and std apply per batch, the crop window when batches are filled). */
export interface DecodeSettings {
  /** The decoded size (a preprocessing's decodeWidth x decodeHeight: see decodeSettingsOf). */
  width: number;
  height: number;
  channels: 1 | 3;
  fit: FitName;
  /** Absent: LEGACY_RESIZE, as for a model file without the field (nn-train's own paths always set it). */
  resize?: ResizeName;
}

/** The decode settings of a model's or a run's preprocessing: its decoded size, fit and resize. */
export function decodeSettingsOf(p: Preprocessing): DecodeSettings {
  const g = imageGeometry(p);
  return { width: g.decodeWidth, height: g.decodeHeight, channels: p.channels, fit: p.fit, resize: resizeOf(p) };
}

/**
 * Names this decoding pipeline in cache keys. Bump DECODER_VERSION when a change here changes the
 * output bytes. sharp's version is included because each sharp release ships its own libvips, which
 * may resize slightly differently. (Read from its package.json: loading sharp itself is deferred.)
 */
export const DECODER_VERSION = 2;
export const DECODER_ID = `nn-train-decode/${DECODER_VERSION} sharp/${(createRequire(import.meta.url)('sharp/package.json') as { version: string }).version}`;

/** Throws a RangeError for settings no image could be decoded to (the config schema should prevent them). */
export function checkDecodeSettings(s: DecodeSettings): void {
  const side = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 16384;
  if (!side(s.width) || !side(s.height)) throw new RangeError(`decode settings: width and height must be whole numbers from 1 to 16384, got ${s.width}x${s.height}`);
  if (s.channels !== 1 && s.channels !== 3) throw new RangeError(`decode settings: channels must be 1 or 3, got ${String(s.channels)}`);
  if (!(FIT_NAMES as readonly string[]).includes(s.fit)) throw new RangeError(`decode settings: fit must be one of ${FIT_NAMES.join(', ')}, got ${String(s.fit)}`);
  if (s.resize !== undefined && !(RESIZE_NAMES as readonly string[]).includes(s.resize)) {
    throw new RangeError(`decode settings: resize must be one of ${RESIZE_NAMES.join(', ')}, got ${String(s.resize)}`);
  }
}

/** Number of bytes of one decoded image: width * height * channels. */
export function bytesPerImage(s: DecodeSettings): number {
  return s.width * s.height * s.channels;
}

/** One image could not be decoded; `reason` is a short human-readable cause. */
export class ImageDecodeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

type SharpFactory = (input: Uint8Array | string, options: SharpOptions) => Sharp;
let sharpLoading: Promise<SharpFactory> | null = null;

/**
 * sharp (and libvips with it, 20 MB and 30 ms) is loaded on the first decode in this process, not on
 * import: a run that reads its data from the cache, or whose decoding happens in decoder processes,
 * never needs it here. Then the process-wide settings for a stream of many small, different images:
 *  - no operation cache: it only pays when the same operation runs twice on the same input, which
 *    never happens here, and it would hold up to 50 MB;
 *  - one libvips worker thread per image: a 64x64 output is too small to split, and more threads per
 *    image only add hand-offs (`npm run bench:data -- --compare`: concurrency 2 costs more CPU per
 *    image for no gain). Parallelism comes from decoding several images at once, in several processes.
 */
export function loadSharp(): Promise<SharpFactory> {
  sharpLoading ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp as unknown as SharpFactory;
  });
  return sharpLoading;
}

/**
 * Decodes the image at `path` to width * height * channels bytes in HWC order.
 * Throws ImageDecodeError (never anything else for a bad file) with a short reason: missing file,
 * dangling link, folder, empty, not an image, truncated or corrupt data.
 */
export async function decodeImage(path: string, settings: DecodeSettings): Promise<Uint8Array> {
  return decodeImageBytes(path, await readImageFile(path), settings, { readFromPath: true });
}

// Image files are opened non-blocking and checked to be regular files before they are read: a
// named pipe called x.jpg would otherwise block the open (and the run) forever, and a link to
// /dev/zero would be read until memory runs out. O_NONBLOCK changes nothing for a regular file.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Why a path that opened is not an image file we read, or null for a regular file. */
function notRegularFile(stats: Stats): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'is a folder, not an image file';
  const what = stats.isFIFO() ? 'a named pipe' : stats.isSocket() ? 'a socket' : 'a device';
  return `not a regular file (${what})`;
}

/** Reads an image file's bytes; a missing, unreadable or empty file, a folder, a pipe or device, or a dangling link throws ImageDecodeError. */
export async function readImageFile(path: string): Promise<Buffer> {
  let input: Buffer;
  try {
    const file = await open(path, OPEN_FLAGS);
    try {
      const why = notRegularFile(await file.stat());
      if (why !== null) throw new ImageDecodeError(path, why);
      input = await file.readFile();
    } finally {
      await file.close();
    }
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(path, describeReadError(path, err));
  }
  if (input.length === 0) throw new ImageDecodeError(path, 'empty file (0 bytes)');
  return input;
}

/**
 * As readImageFile, blocking. For decoder processes, which have nothing else to do meanwhile: it saves
 * the four thread-pool round trips (open, stat, read, close) of an asynchronous read.
 */
export function readImageFileSync(path: string): Buffer {
  let input: Buffer;
  try {
    const fd = openSync(path, OPEN_FLAGS);
    try {
      const why = notRegularFile(fstatSync(fd));
      if (why !== null) throw new ImageDecodeError(path, why);
      input = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(path, describeReadError(path, err));
  }
  if (input.length === 0) throw new ImageDecodeError(path, 'empty file (0 bytes)');
  return input;
}

/**
 * As decodeImage, for image bytes already in memory (`path` names them in errors). With
 * `readFromPath`, the bytes were just read from the file `path` (checked to be a regular file), and a
 * large JPEG may be read again from there by libvips, to be decoded at a reduced scale (see the
 * module comment).
 */
export async function decodeImageBytes(
  path: string,
  input: Uint8Array,
  settings: DecodeSettings,
  options: { readFromPath?: boolean } = {},
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { width, height, channels, fit } = settings;
  const resize = resizeOf(settings);
  const toPixels = (image: Sharp): Promise<Decoded> =>
    image
      .flatten({ background: '#ffffff' }) // only acts on images with an alpha channel
      .toColourspace(channels === 3 ? 'srgb' : 'b-w')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  if (resize !== 'linear') {
    // sharp resizes (libvips: its own shrink-on-load for JPEG, then the kernel).
    const { data, info } = await decodeOrExplain(path, input, () =>
      toPixels(sharp(input, sharpInput).resize(width, height, { fit, kernel: resize, background: { r: 0, g: 0, b: 0, alpha: 1 } })),
    );
    return checkedPixels(path, data, info.width, info.height, info.channels, settings);
  }
  // libvips reads [...] in a file name as load options (sharp passes names through): a name holding
  // a bracket itself could name another file to it, so it is decoded from the bytes, in full.
  const jpeg = options.readFromPath && !/[[\]]/.test(path) ? jpegHeader(input) : null;
  const shrink = jpeg === null ? 1 : jpegShrink(jpeg, width, height);
  let decoded: Decoded | null = null;
  if (shrink > 1) {
    // An upright photo (EXIF orientation 1 or none) skips sharp's orientation step: same pixels, less work.
    const upright = jpeg!.orientation === 1;
    try {
      decoded = await together(() => toPixels(sharp(`${path}[shrink=${shrink}]`, upright ? { ...sharpInput, autoOrient: false } : sharpInput)));
    } catch {
      // Decoded again below from the bytes, whose failure, if any, is the file's own.
    }
  }
  // Without DCT scaling (not a JPEG, or not from its file): decoded whole, except that an image more
  // than twice as large as needed is first brought down by libvips to twice the size, so that a huge
  // PNG never lies whole in memory, raw.
  const twice = 2 * Math.max(width, height);
  decoded ??= await decodeOrExplain(path, input, () =>
    toPixels(sharp(input, sharpInput).resize(twice, twice, { fit: 'outside', withoutEnlargement: true, kernel: 'linear' })),
  );
  const { data, info } = checkedDecoded(path, decoded, channels);
  return resizeImage(data, info.width, info.height, channels, new Uint8Array(width * height * channels), width, height, fit);
}

type Decoded = { data: Buffer; info: OutputInfo };

/** The decoder's output as a Uint8Array, or ImageDecodeError when its shape is not what was asked. */
function checkedPixels(path: string, data: Buffer, w: number, h: number, c: number, s: DecodeSettings): Uint8Array {
  if (w !== s.width || h !== s.height || c !== s.channels || data.length !== s.width * s.height * s.channels) {
    throw new ImageDecodeError(path, `decoder returned ${w}x${h}x${c}, expected ${s.width}x${s.height}x${s.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A decoded image before resizing: its channels must be the ones asked for and its bytes whole. */
function checkedDecoded(path: string, d: Decoded, channels: number): Decoded {
  const { info, data } = d;
  if (info.channels !== channels || data.length !== info.width * info.height * channels) {
    throw new ImageDecodeError(path, `decoder returned ${info.width}x${info.height}x${info.channels} in ${data.length} bytes, expected ${channels} channels`);
  }
  return d;
}

/** sharp's input options for every decode. */
const sharpInput: SharpOptions = {
  // 'error' rejects truncated and corrupt data but lets through libjpeg *warnings* such as
  // "Corrupt JPEG data: 2 extraneous bytes before marker", which real Kaggle files trigger and
  // which decode fine. (The default, 'warning', would reject those files.)
  failOn: 'error',
  autoOrient: true,
  sequentialRead: true,
};

/**
 * libjpeg's scale factor for a JPEG of `size` (as stored): the largest of 8, 4, 2 that keeps both
 * sides at least as large as the larger side wanted (whatever the EXIF orientation and the fit), or 1.
 */
export function jpegShrink(size: { width: number; height: number }, width: number, height: number): number {
  const room = Math.min(size.width, size.height) / Math.max(width, height);
  return room >= 8 ? 8 : room >= 4 ? 4 : room >= 2 ? 2 : 1;
}

/** Runs a decode; on failure, runs it again alone (see `together`) and throws ImageDecodeError with its reason. */
async function decodeOrExplain<T>(path: string, input: Uint8Array, run: () => Promise<T>): Promise<T> {
  try {
    return await together(run);
  } catch {
    try {
      return await alone(run); // see `together`: this time the message is this file's own
    } catch (err) {
      throw new ImageDecodeError(path, describeSharpError(err, input));
    }
  }
}

// libvips keeps one error buffer for the whole process, and sharp clears it at the end of every
// request: when two images fail at the same time, one can lose its message (sharp's "Unknown error")
// or get the other's. So a failed image is decoded again alone, and its reason is taken from that
// run: the reason reported for a file never depends on what else was being decoded. Decodes run
// `together` (a shared gate); a retry waits until it has the process to itself. Broken files are
// rare, so the common path only counts.
let running = 0;
let exclusive: Promise<void> | null = null;
let whenIdle: (() => void)[] = [];

async function together<T>(work: () => Promise<T>): Promise<T> {
  while (exclusive !== null) await exclusive;
  running++;
  try {
    return await work();
  } finally {
    running--;
    if (running === 0) {
      const waiting = whenIdle;
      whenIdle = [];
      for (const wake of waiting) wake();
    }
  }
}

async function alone<T>(work: () => Promise<T>): Promise<T> {
  while (exclusive !== null) await exclusive;
  let release!: () => void;
  exclusive = new Promise<void>((resolve) => (release = resolve));
  try {
    while (running > 0) await new Promise<void>((resolve) => whenIdle.push(resolve));
    return await work();
  } finally {
    exclusive = null;
    release();
  }
}

function describeReadError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') {
    let isLink = false;
    try {
      isLink = lstatSync(path).isSymbolicLink();
    } catch {
      // the path itself is missing
    }
    if (isLink) return 'dangling symbolic link (its target does not exist)';
    // Node.js reads file names as UTF-8: a name in another encoding (an old zip's Latin-1) comes back
    // with U+FFFD in it, and that name does not exist. Renaming the file is the only way.
    if (path.includes('\ufffd')) return 'cannot be opened: its name is not valid UTF-8 (rename the file)';
  }
  if (code === 'EISDIR') return 'is a folder, not an image file';
  return describeFsError(err);
}

/**
 * Formats that people save under an image name but that our sharp build cannot decode, recognised by
 * their first bytes, so that a photo from a phone (HEIC) or an old BMP is not called "not an image".
 * Only consulted after sharp has failed. The `what` of HTML and archives says what they are instead.
 */
const UNSUPPORTED_FORMATS: { name: string; test: (b: Uint8Array, text: string) => boolean; what?: string }[] = [
  { name: 'HEIC/HEIF', test: (_, t) => t.slice(4, 8) === 'ftyp' && /^(hei[cxms]|hev[cxms]|mif1|msf1)$/.test(t.slice(8, 12)) },
  { name: 'BMP', test: (_, t) => t.startsWith('BM') },
  { name: 'JPEG XL', test: (b, t) => (b[0] === 0xff && b[1] === 0x0a) || t.slice(4, 8) === 'JXL ' },
  { name: 'JPEG 2000', test: (_, t) => t.slice(4, 8) === 'jP  ' || t.startsWith('\xff\x4f\xff\x51') },
  { name: 'PSD', test: (_, t) => t.startsWith('8BPS') },
  { name: 'ICO', test: (b, t) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0 && t.slice(4, 8) !== 'ftyp' },
  { name: 'PDF', test: (_, t) => t.startsWith('%PDF') },
  { name: 'OpenEXR', test: (b) => b[0] === 0x76 && b[1] === 0x2f && b[2] === 0x31 && b[3] === 0x01 },
  { name: 'PPM/PGM/PBM', test: (_, t) => /^P[1-6]\s/.test(t) },
  { name: 'HTML', test: (_, t) => /^\s*(<!doctype html|<html|<head|<body)/i.test(t), what: 'not an image (an HTML page, perhaps a failed download)' },
  { name: 'archive', test: (b, t) => t.startsWith('PK\x03\x04') || (b[0] === 0x1f && b[1] === 0x8b), what: 'not an image (a zip or gzip archive)' },
];

/** What a file that sharp could not decode is, from its first bytes, or null when it is none of the known formats. */
export function sniffUnsupportedFormat(input: Uint8Array): string | null {
  const head = input.subarray(0, 64);
  const text = String.fromCharCode(...head); // latin1: one character per byte
  for (const f of UNSUPPORTED_FORMATS) {
    if (f.test(head, text)) return f.what ?? `unsupported image format (${f.name}): convert it to JPEG, PNG or WebP`;
  }
  return null;
}

/**
 * Turns libvips' multi-line, repetitive messages into one short line with a plain cause first.
 * With the file's bytes, a known format that this build does not read (HEIC, BMP, ...) is named.
 */
export function describeSharpError(err: unknown, input?: Uint8Array): string {
  const raw = err instanceof Error ? err.message : String(err);
  const known = input === undefined ? null : sniffUnsupportedFormat(input);
  if (known !== null) return known;
  // libvips' format probes leave "bad seek to N" lines that say nothing about the file.
  const lines = [
    ...new Set(
      raw
        .split('\n')
        .map((l) => l.replace(/(\S+: )?bad seek to \d+/g, '').replace(/:\s*$/, '').trim())
        .filter((l) => l !== ''),
    ),
  ];
  const detail = lines.join('; ').replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 200);
  if (/unsupported image format/i.test(raw)) return 'not an image (unrecognised format)';
  if (/premature end|truncated|unexpected end|end of (file|stream|data)|not enough data/i.test(raw)) {
    return `truncated image (${detail})`;
  }
  if (/exceeds pixel limit/i.test(raw)) return `image too large (${detail})`;
  return `corrupt image (${detail})`;
}
