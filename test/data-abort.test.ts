// Ctrl-C while the images load: loadDataset stops between images (an AbortSignal), rejects with the
// signal's reason, and leaves no cache file behind.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/dataset.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

let dir: string;
beforeAll(async () => {
  dir = makeTempDir('nn-abort-');
  await makeLabeledFolder(join(dir, 'images'), { cats: 20, dogs: 20, size: 12 });
}, 30_000);
afterAll(() => removeTempDir(dir));

const preprocessing = { width: 8, height: 8, channels: 3 as const, fit: 'fill' as const };

describe('loadDataset with a signal', () => {
  it('stops after the image at which the signal is aborted, and writes no cache', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const cacheDir = join(dir, 'cache');
    const loading = loadDataset({
      dir: join(dir, 'images'),
      preprocessing,
      cacheDir,
      decode: { processes: 0 },
      signal: controller.signal,
      onProgress: (done) => {
        seen.push(done);
        if (done === 5) controller.abort(new Error('stop'));
      },
    });
    await expect(loading).rejects.toThrow('stop');
    expect(Math.max(...seen)).toBe(5); // not one image more
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
    // Without the signal the same call loads everything, and caches it.
    const all = await loadDataset({ dir: join(dir, 'images'), preprocessing, cacheDir, decode: { processes: 0 } });
    expect(all.labels.length).toBe(40);
    expect(readdirSync(cacheDir)).toHaveLength(1);
  });

  it('an already aborted signal stops before any decoding', async () => {
    let progress = 0;
    await expect(
      loadDataset({ dir: join(dir, 'images'), preprocessing, cacheDir: null, signal: AbortSignal.abort(new Error('early')), onProgress: () => progress++ }),
    ).rejects.toThrow('early');
    expect(progress).toBe(0);
  });
});
