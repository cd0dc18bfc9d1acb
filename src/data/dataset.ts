/**
 * A labeled data set in memory: find the images, decode them (or read them back from the cache),
 * and keep them as one uint8 array of (N, D) with D = height * width * channels, plus labels (N).
 *
 *   findImages(dir) -> labeled files -> [limit] -> cache hit? -> read cache file
 *                                                  otherwise -> decodeImages -> write cache file
 *
 * Unlabeled files are counted and left out (training needs labels; nn-eval uses decodeImages
 * directly). Broken files are skipped, with their path and reason in `skipped`.
 */
import { join } from 'node:path';
import { describeFsError, UserError } from '../errors.ts';
import { cacheFileName, cacheKey, defaultCacheDir, readCache, stampFiles, writeCache, type CacheHeader } from './cache.ts';
import { bytesPerImage, checkDecodeSettings, type DecodeSettings } from './decode.ts';
import { decodeImages, type DecodeImagesOptions } from './decode-stream.ts';
import { findImages, type ImageFile, type Label } from './find.ts';
import { hashString } from './split.ts';

export interface LoadDatasetOptions {
  /** Folder of images (Kaggle names and/or class folders, searched recursively). */
  dir: string;
  /** Decode settings; a whole Preprocessing can be passed (scale, mean and std are applied per batch). */
  preprocessing: DecodeSettings;
  /**
   * Use only this many labeled images: a fixed pseudo-random subset chosen by a hash of each name,
   * so both classes are represented (the first N names in order would, with Kaggle's naming, all be cats).
   */
  limit?: number | null;
  /** Folder for the cache file; default defaultCacheDir(); null = no cache. */
  cacheDir?: string | null;
  /** Called as images are decoded: done and total count of images to decode. */
  onProgress?: (done: number, total: number) => void;
  /** How to decode (processes, concurrency). */
  decode?: DecodeImagesOptions;
  /**
   * Stops the loading (Ctrl-C): checked between images, so decoding stops within a chunk of images;
   * loadDataset then rejects with signal.reason, the decoder processes end and no cache is written.
   */
  signal?: AbortSignal;
}

export interface Dataset {
  dir: string;
  width: number;
  height: number;
  channels: 1 | 3;
  /** D = height * width * channels. */
  inputSize: number;
  /** (N, D) uint8, HWC per image. */
  pixels: Uint8Array;
  /** (N) 0 = cat, 1 = dog. */
  labels: Uint8Array;
  /** (N) file paths (the `dir` given joined with the path below it), for messages. */
  paths: string[];
  /** (N) paths below `dir` with '/' separators: the images' identity for the split. */
  relativePaths: string[];
  /** Files (and unreadable folders) left out, with the reason. */
  skipped: { path: string; reason: string }[];
  /** Images without a label (not cat/dog by name or folder), left out. */
  unlabeled: number;
  fromCache: boolean;
  /** The cache file used or written, or null when caching is off. */
  cacheFile: string | null;
  /** Why the cache was rebuilt or could not be saved, for a log line; null when there is nothing to say. */
  cacheNote: string | null;
}

/**
 * Keeps `limit` files, in their original order: a fixed sample, stratified by label. Each class
 * keeps its share of the limit (rounded, at least one image per class when the limit allows it),
 * and within a class the files with the lowest hash of their relative path are kept, so the sample
 * does not depend on the listing order (with Kaggle's naming the first N names would all be cats).
 */
export function sampleFiles<T extends { relativePath: string; label?: Label | null }>(files: readonly T[], limit: number): T[] {
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`limit must be a whole number >= 1, got ${limit}`);
  if (limit >= files.length) return [...files];
  const classes = new Map<Label | null, number[]>();
  files.forEach((f, i) => {
    const key = f.label ?? null;
    if (!classes.has(key)) classes.set(key, []);
    classes.get(key)!.push(i);
  });
  // Shares by largest remainder, then at least one per class while the limit allows.
  const groups = [...classes.values()];
  const quota = groups.map((g) => Math.floor((limit * g.length) / files.length));
  const byRemainder = groups.map((g, k) => ({ k, r: (limit * g.length) / files.length - quota[k]! })).sort((a, b) => b.r - a.r || a.k - b.k);
  let left = limit - quota.reduce((a, b) => a + b, 0);
  for (const { k } of byRemainder) if (left > 0) (quota[k]!++, left--);
  for (let k = 0; k < groups.length; k++) {
    if (quota[k] === 0) {
      const donor = quota.indexOf(Math.max(...quota));
      if (quota[donor]! > 1) (quota[donor]!--, quota[k]!++);
    }
  }
  const keep = new Uint8Array(files.length);
  groups.forEach((g, k) => {
    const ranked = g.map((i) => ({ i, score: hashString(files[i]!.relativePath, 0x6c696d69) })).sort((a, b) => a.score - b.score || a.i - b.i);
    for (let n = 0; n < quota[k]!; n++) keep[ranked[n]!.i] = 1;
  });
  return files.filter((_, i) => keep[i] === 1);
}

/**
 * Loads the labeled images of `dir` as pixel vectors, from the cache when it is valid.
 * Throws a UserError when the folder is missing, holds no labeled image, or none could be decoded.
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<Dataset> {
  const { dir, onProgress, signal } = options;
  const { width, height, channels, fit, resize } = options.preprocessing;
  const settings: DecodeSettings = { width, height, channels, fit, resize };
  checkDecodeSettings(settings);
  const d = bytesPerImage(settings);
  const limit = options.limit ?? null;

  const found = await findImages(dir);
  signal?.throwIfAborted();
  let files: ImageFile[] = found.files.filter((f) => f.label !== null);
  const unlabeled = found.files.length - files.length;
  if (files.length === 0) {
    throw new UserError(
      `${dir}: no labeled images (expected names like cat.1.jpg / dog.1.jpg, or cat/ and dog/ folders; ` +
        `found ${found.files.length} image file${found.files.length === 1 ? '' : 's'} without a label)`,
    );
  }
  if (limit !== null) files = sampleFiles(files, limit);
  const folderProblems = found.unreadable.map((u) => ({ path: u.path, reason: `folder cannot be read: ${u.reason}` }));

  const cacheFile = options.cacheDir === null ? null : join(options.cacheDir ?? defaultCacheDir(), cacheFileName(dir, settings, limit));
  const key = cacheFile === null ? '' : cacheKey(stampFiles(files), settings, limit);
  let cacheNote: string | null = null;

  if (cacheFile !== null) {
    const read = readCache(cacheFile, key, settings);
    if (read.ok) {
      const { header, labels, pixels } = read.contents;
      onProgress?.(files.length, files.length);
      return {
        dir,
        width,
        height,
        channels,
        inputSize: d,
        pixels,
        labels,
        paths: header.relativePaths.map((r) => join(dir, r)),
        relativePaths: header.relativePaths,
        skipped: [...folderProblems, ...header.skipped.map((s) => ({ path: join(dir, s.relativePath), reason: s.reason }))],
        unlabeled,
        fromCache: true,
        cacheFile,
        cacheNote: null,
      };
    }
    if (!read.missing) cacheNote = `cache rebuilt (${read.problem})`;
  }

  // First pass: decode into one preallocated array, compacting over skipped files.
  const pixels = new Uint8Array(files.length * d);
  const labels = new Uint8Array(files.length);
  const relativePaths: string[] = [];
  const skippedHere: { relativePath: string; reason: string }[] = [];
  let n = 0;
  for await (const o of decodeImages(
    files.map((f) => f.path),
    settings,
    options.decode,
  )) {
    const file = files[o.index]!;
    if (o.pixels !== null) {
      pixels.set(o.pixels, n * d);
      labels[n] = file.label!;
      relativePaths.push(file.relativePath);
      n++;
    } else {
      skippedHere.push({ relativePath: file.relativePath, reason: o.reason });
    }
    onProgress?.(o.index + 1, files.length);
    signal?.throwIfAborted(); // leaving the loop ends decodeImages, which stops its decoder processes
  }
  if (n === 0) {
    const first = skippedHere[0]!;
    throw new UserError(`${dir}: none of the ${files.length} labeled images could be decoded (first: ${join(dir, first.relativePath)}: ${first.reason})`);
  }
  const dataset: Dataset = {
    dir,
    width,
    height,
    channels,
    inputSize: d,
    pixels: pixels.subarray(0, n * d),
    labels: labels.subarray(0, n),
    paths: relativePaths.map((r) => join(dir, r)),
    relativePaths,
    skipped: [...folderProblems, ...skippedHere.map((s) => ({ path: join(dir, s.relativePath), reason: s.reason }))],
    unlabeled,
    fromCache: false,
    cacheFile,
    cacheNote,
  };

  if (cacheFile !== null) {
    const header: CacheHeader = { key, width, height, channels, fit, count: n, relativePaths, skipped: skippedHere };
    try {
      writeCache(cacheFile, { header, labels: dataset.labels, pixels: dataset.pixels });
    } catch (err) {
      dataset.cacheNote = `${cacheNote !== null ? `${cacheNote}; ` : ''}could not save the cache ${cacheFile}: ${describeFsError(err)}`;
    }
  }
  return dataset;
}

export interface DatasetSummary {
  /** Labeled images loaded. */
  images: number;
  cats: number;
  dogs: number;
  /** Images without a label, left out. */
  unlabeled: number;
  /** Files that could not be decoded, left out. */
  skipped: number;
}

export function summarizeDataset(dataset: Pick<Dataset, 'labels' | 'unlabeled' | 'skipped'>): DatasetSummary {
  let dogs = 0;
  for (let i = 0; i < dataset.labels.length; i++) dogs += dataset.labels[i]!;
  return {
    images: dataset.labels.length,
    cats: dataset.labels.length - dogs,
    dogs,
    unlabeled: dataset.unlabeled,
    skipped: dataset.skipped.length,
  };
}

/** "10,000 images (5,000 cats, 5,000 dogs); 12 unlabeled left out; 1 skipped" */
export function formatSummary(s: DatasetSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const plural = (x: number, word: string): string => `${n(x)} ${word}${x === 1 ? '' : 's'}`;
  return `${plural(s.images, 'image')} (${plural(s.cats, 'cat')}, ${plural(s.dogs, 'dog')}); ${n(s.unlabeled)} unlabeled left out; ${n(s.skipped)} skipped`;
}
