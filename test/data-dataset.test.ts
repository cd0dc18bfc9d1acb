import { mkdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { cacheFileName, defaultCacheDir } from '../src/data/cache.ts';
import { decodeImage, type DecodeSettings } from '../src/data/decode.ts';
import { formatSummary, loadDataset, sampleFiles, summarizeDataset, type Dataset } from '../src/data/dataset.ts';
import {
  BROKEN_KINDS,
  IMAGE_KINDS,
  makeLabeledFolder,
  makeTempDir,
  removeTempDir,
  writeBrokenFile,
  writeImage,
  writeLargeJpeg,
} from './helpers/images.ts';

const settings: DecodeSettings = { width: 12, height: 10, channels: 3, fit: 'fill' };
const D = 12 * 10 * 3;
let tmp: string;

beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => removeTempDir(tmp));

function extension(kind: string): string {
  return kind.includes('png') ? 'png' : kind === 'webp' ? 'webp' : 'jpg';
}

describe('loadDataset on every kind of image, name and layout', () => {
  let data: string;
  const expectedLabels = new Map<string, number>();
  const brokenPaths: string[] = [];
  let dataset: Dataset;

  beforeAll(async () => {
    data = join(tmp, 'every-kind');
    // Each kind twice: as a Kaggle-named cat in the top folder, and as a dog in a nested class folder.
    for (const [k, kind] of IMAGE_KINDS.entries()) {
      const cat = `cat.${k}.${extension(kind)}`;
      const dog = `Pets/DOGS/${kind} number ${k}.${extension(kind).toUpperCase()}`;
      await writeImage(join(data, cat), kind, { width: 20 + k, height: 14, seed: k + 1 });
      await writeImage(join(data, dog), kind, { width: 14, height: 20 + k, seed: k + 50 });
      expectedLabels.set(cat, 0);
      expectedLabels.set(dog, 1);
    }
    const extra: [string, () => Promise<void>, number][] = [
      ['CAT.100.JPG', () => writeImage(join(data, 'CAT.100.JPG'), 'jpeg'), 0],
      ['Dog.101.Jpeg', () => writeImage(join(data, 'Dog.101.Jpeg'), 'jpeg'), 1],
      ['dog.102 with spaces.jpg', () => writeImage(join(data, 'dog.102 with spaces.jpg'), 'jpeg'), 1],
      ['a/b/c/cat.103.png', () => writeImage(join(data, 'a/b/c/cat.103.png'), 'png'), 0],
      ['dog.104.png', () => writeImage(join(data, 'dog.104.png'), 'png', { width: 1, height: 1 }), 1],
      ['cat.105.jpg', () => writeLargeJpeg(join(data, 'cat.105.jpg'), 4000, 3000), 0],
    ];
    for (const [rel, make, label] of extra) {
      await make();
      expectedLabels.set(rel, label);
    }
    // Unlabeled images are counted, not loaded.
    await writeImage(join(data, '1.jpg'), 'jpeg');
    await writeImage(join(data, 'misc/bird.2.png'), 'png');
    // Every kind of broken file, with a labeled name so that it would be loaded if it could be.
    for (const kind of BROKEN_KINDS) {
      const path = join(data, 'broken', `dog.${kind}.jpg`);
      await writeBrokenFile(path, kind);
      brokenPaths.push(path);
    }
    dataset = await loadDataset({ dir: data, preprocessing: settings, cacheDir: join(tmp, 'cache-every-kind') });
  });

  it('loads each good image as a vector of width * height * channels bytes with the right label', async () => {
    expect(dataset.fromCache).toBe(false);
    expect(dataset.inputSize).toBe(D);
    expect(dataset.labels.length).toBe(expectedLabels.size);
    expect(dataset.pixels.length).toBe(expectedLabels.size * D);
    expect(new Set(dataset.relativePaths)).toEqual(new Set(expectedLabels.keys()));
    for (let i = 0; i < dataset.labels.length; i++) {
      const rel = dataset.relativePaths[i]!;
      expect(dataset.labels[i], rel).toBe(expectedLabels.get(rel));
      expect(dataset.paths[i]).toBe(join(data, rel));
    }
    // The bytes are the decoder's, row i for image i.
    for (const i of [0, 7, dataset.labels.length - 1]) {
      const own = await decodeImage(dataset.paths[i]!, settings);
      expect(Array.from(dataset.pixels.subarray(i * D, (i + 1) * D))).toEqual(Array.from(own));
    }
  });

  it('skips and reports each kind of broken file by name, and counts unlabeled images', () => {
    expect(dataset.skipped.map((s) => s.path).sort()).toEqual([...brokenPaths].sort());
    for (const s of dataset.skipped) expect(s.reason.length).toBeGreaterThan(0);
    expect(dataset.unlabeled).toBe(2);
    const summary = summarizeDataset(dataset);
    const cats = [...expectedLabels.values()].filter((l) => l === 0).length;
    expect(summary).toEqual({ images: expectedLabels.size, cats, dogs: expectedLabels.size - cats, unlabeled: 2, skipped: BROKEN_KINDS.length });
    expect(formatSummary(summary)).toBe(
      `${summary.images} images (${cats} cats, ${summary.dogs} dogs); 2 unlabeled left out; ${BROKEN_KINDS.length} skipped`,
    );
  });

  it('reads the same data back from the cache, skipped files included', async () => {
    const again = await loadDataset({ dir: data, preprocessing: settings, cacheDir: join(tmp, 'cache-every-kind') });
    expect(again.fromCache).toBe(true);
    expect(again.relativePaths).toEqual(dataset.relativePaths);
    expect(again.paths).toEqual(dataset.paths);
    expect(Array.from(again.labels)).toEqual(Array.from(dataset.labels));
    expect(Buffer.from(again.pixels).equals(Buffer.from(dataset.pixels))).toBe(true);
    expect(again.skipped).toEqual(dataset.skipped);
    expect(again.unlabeled).toBe(2);
  });
});

describe('the cache', () => {
  let data: string;
  let cacheDir: string;
  const load = (extra: Partial<Parameters<typeof loadDataset>[0]> = {}): Promise<Dataset> =>
    loadDataset({ dir: data, preprocessing: settings, cacheDir, ...extra });
  const cacheFile = (s: DecodeSettings = settings): string => join(cacheDir, cacheFileName(data, s, null));

  beforeAll(async () => {
    data = join(tmp, 'cached');
    cacheDir = join(tmp, 'cache');
    await makeLabeledFolder(data, { cats: 5, dogs: 4, size: 16 });
  });

  it('is written on the first load and used on the second', async () => {
    const first = await load();
    expect(first.fromCache).toBe(false);
    expect(first.cacheFile).toBe(cacheFile());
    expect(first.cacheNote).toBeNull();
    expect(statSync(cacheFile()).size).toBeGreaterThan(9 * D);
    const progress: [number, number][] = [];
    const second = await load({ onProgress: (done, total) => progress.push([done, total]) });
    expect(second.fromCache).toBe(true);
    expect(progress).toEqual([[9, 9]]);
    expect(Buffer.from(second.pixels).equals(Buffer.from(first.pixels))).toBe(true);
  });

  it('is invalidated by a changed setting', async () => {
    await load();
    for (const changed of [
      { ...settings, width: 11 },
      { ...settings, height: 9 },
      { ...settings, channels: 1 as const },
      { ...settings, fit: 'cover' as const },
    ]) {
      const ds = await load({ preprocessing: changed });
      expect(ds.fromCache, JSON.stringify(changed)).toBe(false);
      expect(ds.pixels.length).toBe(9 * changed.width * changed.height * changed.channels);
      expect((await load({ preprocessing: changed })).fromCache).toBe(true);
    }
    expect((await load({ limit: 4 })).fromCache).toBe(false);
    expect((await load()).fromCache).toBe(true);
  });

  it('is invalidated by a touched, replaced, added or removed file', async () => {
    expect((await load()).fromCache).toBe(true);
    const touched = join(data, 'dog.2.jpg');
    const later = new Date(statSync(touched).mtimeMs + 5000);
    utimesSync(touched, later, later);
    const afterTouch = await load();
    expect(afterTouch.fromCache).toBe(false);
    expect(afterTouch.cacheNote).toMatch(/cache rebuilt \(the images or settings changed/);
    expect((await load()).fromCache).toBe(true);

    // Same size, same mtime, different content would go unnoticed; a different size is noticed.
    await writeImage(join(data, 'cat.1.jpg'), 'jpeg', { width: 40, height: 40, seed: 9 });
    expect((await load()).fromCache).toBe(false);
    await writeImage(join(data, 'cat.9.jpg'), 'jpeg');
    const added = await load();
    expect(added.fromCache).toBe(false);
    expect(added.labels.length).toBe(10);
  });

  it('a truncated, corrupted or foreign cache file is rebuilt, never trusted', async () => {
    const good = await load();
    const file = cacheFile();
    const expected = Buffer.from(good.pixels);

    truncateSync(file, statSync(file).size - 100);
    const afterTruncation = await load();
    expect(afterTruncation.fromCache).toBe(false);
    expect(afterTruncation.cacheNote).toMatch(/truncated/);
    expect(Buffer.from(afterTruncation.pixels).equals(expected)).toBe(true);
    expect((await load()).fromCache).toBe(true);

    const bytes = readFileSync(file);
    bytes[bytes.length - 7]! ^= 0x40; // one bit of one pixel
    writeFileSync(file, bytes);
    const afterFlip = await load();
    expect(afterFlip.fromCache).toBe(false);
    expect(afterFlip.cacheNote).toMatch(/checksum/);
    expect(Buffer.from(afterFlip.pixels).equals(expected)).toBe(true);

    writeFileSync(file, 'PK\u0003\u0004 not a cache at all');
    const afterForeign = await load();
    expect(afterForeign.fromCache).toBe(false);
    expect(afterForeign.cacheNote).toMatch(/not an nn-train cache/);
    expect((await load()).fromCache).toBe(true);

    writeFileSync(file, new Uint8Array(0));
    expect((await load()).fromCache).toBe(false);
    expect((await load()).fromCache).toBe(true);
  });

  it('cacheDir null turns it off; an unwritable cache folder only costs a note', async () => {
    const off = await load({ cacheDir: null });
    expect(off.fromCache).toBe(false);
    expect(off.cacheFile).toBeNull();
    expect((await load({ cacheDir: null })).fromCache).toBe(false);

    const blocked = join(tmp, 'blocked-cache');
    writeFileSync(blocked, 'a file where the cache folder should be');
    const ds = await load({ cacheDir: blocked });
    expect(ds.fromCache).toBe(false);
    expect(ds.labels.length).toBe(10);
    expect(ds.cacheNote).toMatch(/could not save the cache/);
  });

  it('the default cache folder is under XDG_CACHE_HOME when set; one that cannot be made falls back to ~/.cache, then the temp folder', () => {
    const saved = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };
    try {
      process.env.XDG_CACHE_HOME = join(tmp, 'xdg');
      expect(defaultCacheDir()).toBe(join(tmp, 'xdg', 'nn-train'));
      expect(statSync(join(tmp, 'xdg', 'nn-train')).isDirectory()).toBe(true);
      // A file where a folder is needed cannot hold the cache, whoever runs this (root included).
      const notAFolder = join(tmp, 'not-a-folder');
      writeFileSync(notAFolder, 'x');
      process.env.XDG_CACHE_HOME = notAFolder;
      process.env.HOME = join(tmp, 'home');
      expect(defaultCacheDir()).toBe(join(tmp, 'home', '.cache', 'nn-train'));
      process.env.HOME = notAFolder;
      process.env.TMPDIR = join(tmp, 'temp');
      mkdirSync(join(tmp, 'temp'));
      const inTemp = defaultCacheDir();
      expect(dirname(inTemp)).toBe(join(tmp, 'temp'));
      expect(basename(inTemp)).toMatch(/^nn-train-cache-[A-Za-z0-9_.-]+$/);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

});

describe('loadDataset: limit and errors', () => {
  it('limit keeps a fixed subset with both classes (not the first names, which would all be cats)', async () => {
    const data = join(tmp, 'limited');
    await makeLabeledFolder(data, { cats: 20, dogs: 20, size: 8 });
    const a = await loadDataset({ dir: data, preprocessing: settings, cacheDir: null, limit: 10 });
    const b = await loadDataset({ dir: data, preprocessing: settings, cacheDir: null, limit: 10 });
    expect(a.labels.length).toBe(10);
    expect(a.relativePaths).toEqual(b.relativePaths);
    const dogs = Array.from(a.labels).filter((l) => l === 1).length;
    expect(dogs).toBeGreaterThan(0);
    expect(dogs).toBeLessThan(10);
    expect((await loadDataset({ dir: data, preprocessing: settings, cacheDir: null, limit: 1000 })).labels.length).toBe(40);
    expect(() => sampleFiles([], 0)).toThrow(RangeError);
  });

  it('limit is stratified: each class keeps its share, at least one image each', () => {
    const files = [
      ...Array.from({ length: 30 }, (_, i) => ({ relativePath: `cat.${i}.jpg`, label: 0 as const })),
      ...Array.from({ length: 10 }, (_, i) => ({ relativePath: `dog.${i}.jpg`, label: 1 as const })),
    ];
    const count = (sample: typeof files, label: number) => sample.filter((f) => f.label === label).length;
    for (const [limit, cats, dogs] of [[2, 1, 1], [3, 2, 1], [4, 3, 1], [8, 6, 2], [20, 15, 5], [39, 29, 10]] as const) {
      const sample = sampleFiles(files, limit);
      expect([limit, count(sample, 0), count(sample, 1)]).toEqual([limit, cats, dogs]);
    }
    // The same files whatever order they are listed in.
    const reversed = sampleFiles([...files].reverse(), 8).map((f) => f.relativePath).sort();
    expect(reversed).toEqual(sampleFiles(files, 8).map((f) => f.relativePath).sort());
  });

  it('a folder without labeled images, or with none decodable: a UserError naming it', async () => {
    const unlabeled = join(tmp, 'unlabeled');
    await writeImage(join(unlabeled, '1.jpg'), 'jpeg');
    await expect(loadDataset({ dir: unlabeled, preprocessing: settings, cacheDir: null })).rejects.toThrow(
      new UserError(`${unlabeled}: no labeled images (expected names like cat.1.jpg / dog.1.jpg, or cat/ and dog/ folders; found 1 image file without a label)`),
    );
    const broken = join(tmp, 'all-broken');
    mkdirSync(broken);
    await writeBrokenFile(join(broken, 'cat.1.jpg'), 'empty');
    await expect(loadDataset({ dir: broken, preprocessing: settings, cacheDir: null })).rejects.toThrow(
      `${broken}: none of the 1 labeled images could be decoded (first: ${join(broken, 'cat.1.jpg')}: empty file (0 bytes))`,
    );
    await expect(loadDataset({ dir: join(tmp, 'nope'), preprocessing: settings, cacheDir: null })).rejects.toThrow(UserError);
  });
});
