// Augmentation of training batches (data.flip, data.shift, data.brightness, data.contrast): seeded draws,
// crops that stay inside the stored image, bounded jitter, nothing for validation and nn-eval (their
// centre window is the same bytes), batches unchanged when it is off, and the same model whatever
// the gradient core's thread count.
import { denseStack } from '../src/nn/plan.ts';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.ts';
import { EpochAugmentation, epochAugmentation, type AugmentationSettings } from '../src/data/augment.ts';
import { batchSource, epochFlips, epochOrder, fillBatch, fillInputs, pixelTable, type BatchAugmentation } from '../src/data/batches.ts';
import { findImages } from '../src/data/find.ts';
import { decodeInputs } from '../src/eval/decode-inputs.ts';
import { predictBatches } from '../src/eval/predict.ts';
import { imageGeometry, shiftedGeometry, type Preprocessing } from '../src/data/preprocessing.ts';
import { decodeModel, encodeModel, readModelFile } from '../src/io/model-file.ts';
import { prepareData } from '../src/train/data.ts';
import { EpochBatches } from '../src/train/epoch-batches.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const OFF: AugmentationSettings = { flip: false, shift: 0, brightness: 0, contrast: 0 };

let dir: string;
let images: string;
beforeAll(async () => {
  dir = makeTempDir('nn-train-augment-');
  images = join(dir, 'images');
  await makeLabeledFolder(images, { cats: 30, dogs: 30, size: 40 });
}, 60_000);
afterAll(() => removeTempDir(dir));

/** Index of the first element where a and b differ (bit for bit), or -1: a short message when they do. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) ? -1 : a.findIndex((v, i) => !Object.is(v, b[i]));
}

/** n stored images of sw x sh x 3 where every byte says where it is: image, row, column, channel. */
function labelledPixels(n: number, sw: number, sh: number): Uint8Array {
  const pixels = new Uint8Array(n * sw * sh * 3);
  for (let i = 0; i < n; i++) for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) for (let c = 0; c < 3; c++) {
    pixels[((i * sh + y) * sw + x) * 3 + c] = (i * 61 + y * 17 + x * 3 + c) % 256;
  }
  return pixels;
}

describe('the draws', () => {
  it('are the same for the same (seed, epoch), and change with either', () => {
    const settings: AugmentationSettings = { flip: true, shift: 4, brightness: 0.1, contrast: 0.2 };
    const a = new EpochAugmentation(settings, 500).draw(7, 3);
    const b = new EpochAugmentation(settings, 500).draw(7, 3);
    for (const key of ['flips', 'offsets', 'jitter'] as const) {
      expect(Array.from(b[key]!)).toEqual(Array.from(a[key]!));
      expect(Array.from(new EpochAugmentation(settings, 500).draw(7, 4)[key]!)).not.toEqual(Array.from(a[key]!));
      expect(Array.from(new EpochAugmentation(settings, 500).draw(8, 3)[key]!)).not.toEqual(Array.from(a[key]!));
    }
    // Redrawing in place gives the same as fresh buffers: no state carries over between epochs.
    const reused = new EpochAugmentation(settings, 500).draw(7, 9).draw(7, 3);
    expect(Array.from(reused.offsets!)).toEqual(Array.from(a.offsets!));
  });

  it('flips are the flips of runs made before the other augmentations existed', () => {
    const a = new EpochAugmentation({ ...OFF, flip: true, shift: 3, contrast: 0.5 }, 200).draw(11, 2);
    expect(Array.from(a.flips!)).toEqual(Array.from(epochFlips(200, 11, 2)));
  });

  it('offsets cover 0..2*shift, every value, and no other', () => {
    const shift = 3;
    const a = new EpochAugmentation({ ...OFF, shift }, 2000).draw(1, 0);
    const seen = new Set(a.offsets);
    expect([...seen].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('jitter stays within its bounds and uses them', () => {
    const a = new EpochAugmentation({ ...OFF, brightness: 0.1, contrast: 0.25 }, 3000).draw(5, 1);
    const contrast = Array.from({ length: 3000 }, (_, p) => a.jitter![2 * p]!);
    const brightness = Array.from({ length: 3000 }, (_, p) => a.jitter![2 * p + 1]!);
    expect(Math.min(...contrast)).toBeGreaterThanOrEqual(Math.fround(0.75));
    expect(Math.max(...contrast)).toBeLessThanOrEqual(Math.fround(1.25));
    expect(Math.min(...contrast)).toBeLessThan(0.76);
    expect(Math.max(...contrast)).toBeGreaterThan(1.24);
    expect(Math.min(...brightness)).toBeGreaterThanOrEqual(-25.5);
    expect(Math.max(...brightness)).toBeLessThanOrEqual(25.5);
    expect(Math.max(...brightness) - Math.min(...brightness)).toBeGreaterThan(50);
  });

  it('nothing turned on gives no augmentation at all; bad settings are refused', () => {
    expect(epochAugmentation(OFF, 10)).toBeNull();
    expect(epochAugmentation({ ...OFF, brightness: 0.01 }, 10)).not.toBeNull();
    expect(() => new EpochAugmentation({ ...OFF, shift: 1.5 }, 10)).toThrow(RangeError);
    expect(() => new EpochAugmentation({ ...OFF, contrast: 2 }, 10)).toThrow(RangeError);
  });
});

describe('fillBatch with augmentation', () => {
  const width = 6;
  const height = 5;
  const shift = 2;
  const geometry = shiftedGeometry(width, height, shift); // stored 10 x 9, centre at (2, 2)
  const sw = geometry.decodeWidth;
  const sh = geometry.decodeHeight;
  const n = 40;
  const pixels = labelledPixels(n, sw, sh);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
  const prep = { width, height, channels: 3 as const, ...geometry, scale: 1 / 255, mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] };
  const table = pixelTable(prep);
  const stored = (i: number, x: number, y: number, c: number) => pixels[((i * sh + y) * sw + x) * 3 + c]!;

  it('each row is its window of the stored image, mirrored when flipped; every offset stays inside', () => {
    const src = batchSource(pixels, labels, prep);
    const order = Uint32Array.from({ length: n }, (_, i) => (i * 7) % n);
    const aug = new EpochAugmentation({ flip: true, shift, brightness: 0, contrast: 0 }, n).draw(3, 0);
    const x = new Float32Array(n * width * height * 3);
    fillBatch(src, order, 0, n, x, new Float32Array(n), aug);
    for (let r = 0; r < n; r++) {
      const left = aug.offsets![2 * r]!;
      const top = aug.offsets![2 * r + 1]!;
      expect(left + width).toBeLessThanOrEqual(sw);
      expect(top + height).toBeLessThanOrEqual(sh);
      for (let y = 0; y < height; y++) for (let col = 0; col < width; col++) for (let c = 0; c < 3; c++) {
        const sx = left + (aug.flips![r] ? width - 1 - col : col);
        expect(x[((r * height + y) * width + col) * 3 + c]).toBe(table[c * 256 + stored(order[r]!, sx, top + y, c)]);
      }
    }
  });

  it('the extreme windows reach the stored image corners exactly, and no further', () => {
    const src = batchSource(pixels, labels, prep);
    const corners: BatchAugmentation = { flips: null, offsets: Uint16Array.from([0, 0, 2 * shift, 2 * shift]), jitter: null };
    const x = new Float32Array(2 * width * height * 3);
    fillBatch(src, Uint32Array.from([5, 5]), 0, 2, x, new Float32Array(2), corners);
    expect(x[0]).toBe(table[stored(5, 0, 0, 0)]); // top-left pixel of the stored image
    const last = ((1 * height + height - 1) * width + width - 1) * 3;
    expect(x[last]).toBe(table[stored(5, sw - 1, sh - 1, 0)]); // its bottom-right one
  });

  it('jitter maps each value through clamp(round(c (v - 127.5) + 127.5 + b)) before the table', () => {
    const src = batchSource(pixels, labels, prep);
    const aug = new EpochAugmentation({ flip: false, shift: 0, brightness: 0.3, contrast: 0.5 }, n).draw(9, 4);
    const x = new Float32Array(n * width * height * 3);
    const order = Uint32Array.from({ length: n }, (_, i) => i);
    fillBatch(src, order, 0, n, x, new Float32Array(n), aug);
    for (let r = 0; r < n; r++) {
      const contrast = aug.jitter![2 * r]!;
      const brightness = aug.jitter![2 * r + 1]!;
      for (let y = 0; y < height; y++) for (let col = 0; col < width; col++) for (let c = 0; c < 3; c++) {
        const v = stored(r, geometry.cropLeft + col, geometry.cropTop + y, c);
        const j = Math.min(255, Math.max(0, Math.round(contrast * (v - 127.5) + 127.5 + brightness)));
        expect(x[((r * height + y) * width + col) * 3 + c]).toBe(table[c * 256 + j]);
      }
    }
  });

  it('off, or for validation (null), a batch is the centre window as it is: the bytes of a model without the fields', () => {
    const src = batchSource(pixels, labels, prep);
    const order = Uint32Array.from([3, 1, 4, 1, 5]);
    const none = new Float32Array(5 * width * height * 3);
    fillBatch(src, order, 0, 5, none, new Float32Array(5), null);
    const zeros = new Float32Array(none.length);
    fillBatch(src, order, 0, 5, zeros, new Float32Array(5), { flips: new Uint8Array(5), offsets: new Uint16Array(10).fill(shift), jitter: null });
    expect(Array.from(zeros)).toEqual(Array.from(none));
    // fillInputs (nn-eval) takes the same centre window.
    const eval5 = new Float32Array(none.length);
    const batch = new Uint8Array(5 * sw * sh * 3);
    order.forEach((i, k) => batch.set(pixels.subarray(i * sw * sh * 3, (i + 1) * sw * sh * 3), k * sw * sh * 3));
    fillInputs(batch, 5, imageGeometry(prep), table, eval5);
    expect(Array.from(eval5)).toEqual(Array.from(none));
    // Without data.shift the window is the whole image, as before the fields existed.
    const whole = { width: sw, height: sh, channels: 3 as const, scale: 1 / 255, mean: null, std: null };
    const old = batchSource(pixels, labels, whole);
    expect(imageGeometry(whole)).toEqual({ width: sw, height: sh, channels: 3, decodeWidth: sw, decodeHeight: sh, cropLeft: 0, cropTop: 0 });
    const a = new Float32Array(sw * sh * 3);
    fillBatch(old, Uint32Array.from([7]), 0, 1, a, new Float32Array(1));
    const t = pixelTable(whole);
    expect(Array.from(a)).toEqual(Array.from(pixels.subarray(7 * sw * sh * 3, 8 * sw * sh * 3), (v, k) => t[(k % 3) * 256 + v]));
  });

  it('refuses a window that leaves the image', () => {
    expect(() => batchSource(pixels, labels, { ...prep, cropLeft: 5 })).toThrow(RangeError);
  });
});

describe('validation and nn-eval see the same input', () => {
  it('the validation rows of an augmented run are, bit for bit, what nn-eval feeds the network for those files', async () => {
    const config = configSchema.parse({
      data: { train: images, width: 24, height: 24, validation: 0.25, cache: null, flip: true, shift: 3, brightness: 0.2, contrast: 0.2, standardize: true },
      training: { seed: 4 },
    });
    const data = await prepareData(config, () => {}, null);
    expect(data.preprocessing).toMatchObject({ width: 24, height: 24, decodeWidth: 30, decodeHeight: 30, cropLeft: 3, cropTop: 3, resize: 'linear' });
    expect(data.augmentation).not.toBeNull();
    const nVal = data.validation.length;
    const d = 24 * 24 * 3;
    const validation = new Float32Array(nVal * d);
    fillBatch(data.source, data.validation, 0, nVal, validation, new Float32Array(nVal), null);

    // nn-eval: the model file's preprocessing (written and read back), its decoder, its batches.
    const preprocessing: Preprocessing = decodeModel(
      encodeModel({
        network: { input: { height: 24, width: 24, channels: 3 }, layers: denseStack([2], 'relu') },
        preprocessing: data.preprocessing,
        params: new Float32Array(d * 2 + 2 + 2 + 1),
        stats: new Float32Array(0),
        meta: {},
      }),
    ).preprocessing;
    expect(preprocessing).toEqual(data.preprocessing);
    // Dataset image i is the i-th labeled file as findImages lists them (none is skipped here).
    const files = (await findImages(images)).files.filter((f) => f.label !== null);
    expect(files.length).toBe(data.pixelsCount);
    const paths = Array.from(data.validation, (i) => files[i]!.path);
    async function* items() {
      for (const path of paths) yield { kind: 'image' as const, image: { path, actual: null } };
    }
    const seen: Float32Array[] = [];
    const engine = {
      input: new Float32Array(8 * d),
      predict(B: number, out: Float32Array) {
        seen.push(this.input.slice(0, B * d));
        out.fill(0.5, 0, B);
      },
    };
    for await (const _ of predictBatches(decodeInputs(items(), preprocessing, { expected: paths.length, processes: 0 }), preprocessing, engine, 8)) void _;
    const evaluated = new Float32Array(nVal * d);
    let at = 0;
    for (const part of seen) (evaluated.set(part, at), (at += part.length));
    expect(at).toBe(nVal * d);
    expect(firstDifference(evaluated, validation)).toBe(-1);
  });
});

describe('the model file records the decoded size, the window and the resize', () => {
  const base = { width: 4, height: 4, channels: 3, fit: 'fill', scale: 1 / 255, mean: null, std: null };
  const model = (preprocessing: Record<string, unknown>) =>
    JSON.stringify({
      format: 'nn-train-model',
      version: 1,
      architecture: { inputSize: 48, hidden: [], activation: 'relu' },
      preprocessing,
      weights: { dtype: 'float32', encoding: 'base64-le', count: 49, data: Buffer.alloc(49 * 4).toString('base64') },
    });
  it('older files without the fields read as before: decoded at the input size, whole, lanczos3', () => {
    const p = decodeModel(model(base)).preprocessing;
    expect(p).toEqual(base);
    expect(imageGeometry(p)).toMatchObject({ decodeWidth: 4, decodeHeight: 4, cropLeft: 0, cropTop: 0 });
  });
  it('each field present is checked, naming it', () => {
    const ok = { ...base, resize: 'linear', decodeWidth: 8, decodeHeight: 6, cropLeft: 2, cropTop: 1 };
    expect(decodeModel(model(ok)).preprocessing).toEqual(ok);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...ok, resize: 'bicubic' }, /preprocessing\.resize: expected one of "linear", .*found "bicubic"/],
      [{ ...ok, decodeWidth: 3 }, /preprocessing\.decodeWidth: is 3, smaller than the input's 4/],
      [{ ...ok, cropLeft: 5 }, /preprocessing\.cropLeft: expected a whole number from 0 to 4/],
      [{ ...ok, cropTop: -1 }, /preprocessing\.cropTop/],
      [{ ...ok, cropTop: 1.5 }, /preprocessing\.cropTop/],
      [{ ...base, cropLeft: 1 }, /preprocessing\.cropLeft: expected a whole number from 0 to 0/],
    ];
    for (const [p, message] of bad) expect(() => decodeModel(model(p))).toThrow(message);
  });
});

describe('the training loop\'s batches (EpochBatches) carry the augmentation', () => {
  const settings = { train: '', width: 16, height: 16, validation: 0.25, flip: true, shift: 2, brightness: 0.2, contrast: 0.2 };
  /** Every training batch of `epoch` as EpochBatches writes it, and the same rows with no augmentation. */
  async function epochRows(data: { flip: boolean; shift: number; brightness: number; contrast: number }, epoch: number) {
    const config = configSchema.parse({ data: { ...settings, ...data, train: images, cache: join(dir, 'cache-batches') }, training: { seed: 5 } });
    const prepared = await prepareData(config, () => {}, null);
    const B = 8;
    const d = 16 * 16 * 3;
    const batches = new EpochBatches(prepared, config, B);
    batches.start(epoch);
    const order = epochOrder(prepared.train, 5, epoch);
    const trained = new Float32Array(B * d);
    const plain = new Float32Array(B * d);
    const labels = new Float32Array(B);
    const plainLabels = new Float32Array(B);
    let rows = 0;
    let changed = 0;
    for (let b = 0; b < batches.perEpoch; b++) {
      const n = batches.fill(b, { input: trained, labels });
      fillBatch(prepared.source, order, b * B, n, plain, plainLabels, null);
      expect(labels).toEqual(plainLabels); // the same images, in the same order
      for (let r = 0; r < n; r++, rows++) if (firstDifference(trained.subarray(r * d, (r + 1) * d), plain.subarray(r * d, (r + 1) * d)) !== -1) changed++;
    }
    expect(rows).toBe(prepared.train.length);
    return { rows, changed };
  }

  it('with flips, crops and jitter on, most training rows differ from the plain centre window', async () => {
    for (const epoch of [0, 1]) {
      const { rows, changed } = await epochRows({ flip: true, shift: 2, brightness: 0.2, contrast: 0.2 }, epoch);
      // A row stays plain only when it drew no flip, the centre offset and (almost) no jitter.
      expect(changed).toBeGreaterThan(rows * 0.8);
    }
  });

  it('with each augmentation alone, some training rows change; with all off, none does', async () => {
    for (const one of [{ flip: true }, { shift: 2 }, { brightness: 0.2 }, { contrast: 0.2 }]) {
      const { changed } = await epochRows({ flip: false, shift: 0, brightness: 0, contrast: 0, ...one }, 0);
      expect(changed, JSON.stringify(one)).toBeGreaterThan(0);
    }
    const { rows, changed } = await epochRows({ flip: false, shift: 0, brightness: 0, contrast: 0 }, 0);
    expect(rows).toBeGreaterThan(30);
    expect(changed).toBe(0);
  });
});

describe('nn-train with augmentation', () => {
  const BIN = join(__dirname, '..', 'bin', 'nn-train.js');
  it('gives the same model with 1 or 2 gradient-core threads, and records the centre window', () => {
    const config = {
      data: { train: images, width: 16, height: 16, validation: 0.25, cache: join(dir, 'cache'), flip: true, shift: 2, brightness: 0.1, contrast: 0.1 },
      model: { hidden: [8] },
      optimizer: { type: 'adam', lr: 0.01 },
      training: { batchSize: 8, epochs: 2, seed: 3 },
    };
    const file = join(dir, 'augment.json');
    writeFileSync(file, JSON.stringify(config));
    const run = (workers: string, out: string) =>
      spawnSync(process.execPath, [BIN, '--config', file, '--workers', workers, '--out', join(dir, out), '--quiet'], { encoding: 'utf8', timeout: 120_000 });
    const one = run('1', 'w1');
    const two = run('2', 'w2');
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    const a = readModelFile(join(dir, 'w1', 'model.json'));
    const b = readModelFile(join(dir, 'w2', 'model.json'));
    expect(Buffer.from(b.params.buffer).equals(Buffer.from(a.params.buffer))).toBe(true);
    expect(a.preprocessing).toMatchObject({ width: 16, height: 16, decodeWidth: 20, decodeHeight: 20, cropLeft: 2, cropTop: 2, resize: 'linear' });
  }, 120_000);
});
