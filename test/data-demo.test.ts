import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSyntheticImage, ensureDemoImages, generateDemoImages } from '../src/data/demo.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

let tmp: string;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => removeTempDir(tmp));

/** Mean red minus mean blue, and the strength of horizontal vs vertical variation, of an RGB image. */
function cues(img: Uint8Array, size: number): { warmth: number; horizontalStripes: number } {
  let warmth = 0;
  let alongRows = 0; // differences between horizontal neighbours: large for vertical stripes
  let alongColumns = 0; // differences between vertical neighbours: large for horizontal stripes
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const at = (y * size + x) * 3;
      const lum = img[at]! + img[at + 1]! + img[at + 2]!;
      warmth += img[at]! - img[at + 2]!;
      if (x > 0) alongRows += Math.abs(lum - (img[at - 3]! + img[at - 2]! + img[at - 1]!));
      if (y > 0) alongColumns += Math.abs(lum - (img[at - size * 3]! + img[at - size * 3 + 1]! + img[at - size * 3 + 2]!));
    }
  }
  return { warmth: warmth / (size * size), horizontalStripes: alongColumns - alongRows };
}

describe('the demo image set', () => {
  it('draws the same picture for the same seed, and different ones otherwise', () => {
    expect(Array.from(drawSyntheticImage(0, 5, 32))).toEqual(Array.from(drawSyntheticImage(0, 5, 32)));
    expect(Array.from(drawSyntheticImage(0, 5, 32))).not.toEqual(Array.from(drawSyntheticImage(0, 6, 32)));
  });

  it('cats are mostly warm with horizontal stripes, dogs cool with vertical ones, but not all of them', () => {
    const n = 200;
    let warmCats = 0;
    let warmDogs = 0;
    let horizontalCats = 0;
    let horizontalDogs = 0;
    for (let i = 0; i < n; i++) {
      const cat = cues(drawSyntheticImage(0, 1000 + i, 32), 32);
      const dog = cues(drawSyntheticImage(1, 5000 + i, 32), 32);
      warmCats += cat.warmth > 0 ? 1 : 0;
      warmDogs += dog.warmth > 0 ? 1 : 0;
      horizontalCats += cat.horizontalStripes > 0 ? 1 : 0;
      horizontalDogs += dog.horizontalStripes > 0 ? 1 : 0;
    }
    // Each cue separates the classes clearly, and neither does it perfectly.
    expect(warmCats / n).toBeGreaterThan(0.7);
    expect(warmDogs / n).toBeLessThan(0.3);
    expect(horizontalCats / n).toBeGreaterThan(0.7);
    expect(horizontalDogs / n).toBeLessThan(0.3);
    expect(warmCats).toBeLessThan(n);
    expect(warmDogs).toBeGreaterThan(0);
  });

  it('generateDemoImages writes Kaggle-named JPEGs that load as a balanced data set', async () => {
    const dir = join(tmp, 'gen');
    expect(await generateDemoImages(dir, { perClass: 12, size: 24 })).toBe(24);
    const names = readdirSync(dir).sort();
    expect(names.length).toBe(24);
    expect(names.filter((n) => /^cat\.\d+\.jpg$/.test(n)).length).toBe(12);
    expect(names.filter((n) => /^dog\.\d+\.jpg$/.test(n)).length).toBe(12);
    const ds = await loadDataset({ dir, preprocessing: { width: 24, height: 24, channels: 3, fit: 'fill' }, cacheDir: null });
    expect(ds.labels.length).toBe(24);
    expect(ds.skipped).toEqual([]);
    // Deterministic: a second run writes the same bytes.
    const again = join(tmp, 'gen-again');
    await generateDemoImages(again, { perClass: 12, size: 24 });
    for (const name of names) expect(readFileSync(join(again, name)).equals(readFileSync(join(dir, name)))).toBe(true);
  });

  it('ensureDemoImages makes the folder once, keeps it afterwards, and refuses a folder of other things', async () => {
    const dir = join(tmp, 'data', 'demo');
    expect(await ensureDemoImages(dir, { perClass: 3, size: 16 })).toEqual({ created: true, count: 6 });
    expect(readdirSync(join(tmp, 'data'))).toEqual(['demo']); // no temporary folder left behind
    expect(await ensureDemoImages(dir, { perClass: 3, size: 16 })).toEqual({ created: false, count: 6 });
    const other = join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await expect(ensureDemoImages(other)).rejects.toThrow(`${other}: exists but holds no images`);
  });

  it('makeLabeledFolder (test helper) writes both layouts with the labels findImages gives', async () => {
    for (const layout of ['kaggle', 'folders'] as const) {
      const dir = join(tmp, `labeled-${layout}`);
      const made = await makeLabeledFolder(dir, { cats: 3, dogs: 2, size: 8, layout, ext: 'png' });
      const ds = await loadDataset({ dir, preprocessing: { width: 8, height: 8, channels: 1, fit: 'fill' }, cacheDir: null });
      expect(ds.paths).toEqual(made.paths);
      expect(Array.from(ds.labels)).toEqual(made.labels);
    }
  });
});
