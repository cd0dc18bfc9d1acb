// Test-time augmentation (src/data/tta.ts): the views, and nn-eval's averaging over them
// (src/eval/predict.ts) against a prediction made view by view.
import { describe, expect, it } from 'vitest';
import { batchSource, fillBatch, fillInputs } from '../src/data/batches.ts';
import { maxTtaViews, ttaViews, viewAugmentation } from '../src/data/tta.ts';
import type { Preprocessing } from '../src/data/preprocessing.ts';
import { predictBatches, type PredictEngine } from '../src/eval/predict.ts';
import type { DecodedInput } from '../src/eval/decode-inputs.ts';
import { Rng } from '../src/random/rng.ts';

/** 6x5 windows of 14x9 stored images: margins 4 across (cropLeft 4, 4 to the right), 2 down. */
const preprocessing: Preprocessing = { width: 6, height: 5, channels: 3, fit: 'fill', decodeWidth: 14, decodeHeight: 9, cropLeft: 4, cropTop: 2, scale: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] };
const geometry = { width: 6, height: 5, channels: 3 as const, decodeWidth: 14, decodeHeight: 9, cropLeft: 4, cropTop: 2 };
const D = 6 * 5 * 3;
const S = 14 * 9 * 3;

describe('test-time augmentation', () => {
  it('views: flip is the centre and its mirror; shifts move by half the margin each way (3 x 3), each mirrored; no margin, no shifts', () => {
    expect(ttaViews(null, geometry)).toEqual([{ dx: 0, dy: 0, mirror: false }]);
    expect(ttaViews('flip', geometry)).toEqual([{ dx: 0, dy: 0, mirror: false }, { dx: 0, dy: 0, mirror: true }]);
    const shifts = ttaViews('shifts', geometry);
    expect(shifts).toHaveLength(18);
    expect(new Set(shifts.map((v) => v.dx))).toEqual(new Set([-2, 0, 2]));
    expect(new Set(shifts.map((v) => v.dy))).toEqual(new Set([-1, 0, 1]));
    expect(new Set(shifts.map((v) => `${v.dx},${v.dy},${v.mirror}`)).size).toBe(18);
    // An uneven margin (1 left, 3 right): the smaller side decides; 1 / 2 rounds to no shift across.
    expect(ttaViews('shifts', { ...geometry, cropLeft: 1 }).map((v) => v.dx)).toEqual(Array(6).fill(0));
    expect(ttaViews('shifts', { ...geometry, decodeWidth: 6, decodeHeight: 5, cropLeft: 0, cropTop: 0 })).toEqual(ttaViews('flip', geometry));
  });

  it('maxTtaViews is the most views each mode gives, whatever the room', () => {
    const rooms = [geometry, { ...geometry, cropLeft: 1 }, { ...geometry, decodeWidth: 6, decodeHeight: 5, cropLeft: 0, cropTop: 0 }, { ...geometry, cropTop: 0 }];
    for (const mode of [null, 'flip', 'shifts'] as const) {
      expect(maxTtaViews(mode)).toBe(Math.max(...rooms.map((g) => ttaViews(mode, g).length)));
    }
  });

  it('a view is the same window through fillInputs (nn-eval) and through fillBatch with viewAugmentation (training\'s validation)', () => {
    const rng = new Rng(3);
    const pixels = Uint8Array.from({ length: 4 * S }, () => rng.int(256));
    const src = batchSource(pixels, new Uint8Array(4), preprocessing);
    const order = Uint32Array.of(0, 1, 2, 3);
    const [a, b] = [new Float32Array(4 * D), new Float32Array(4 * D)];
    const seen = new Set<string>();
    for (const view of ttaViews('shifts', geometry)) {
      fillInputs(pixels, 4, geometry, src.table, a, view);
      fillBatch(src, order, 0, 4, b, new Float32Array(4), viewAugmentation(view, 4, geometry));
      expect(b).toEqual(a);
      seen.add(Array.from(a.subarray(0, 8)).join());
    }
    expect(seen.size).toBe(18); // every view shows other pixels
  });

  it('nn-eval\'s answer is the mean of the views\' probabilities', async () => {
    const rng = new Rng(4);
    const weights = Float32Array.from({ length: D }, () => rng.uniform() - 0.5);
    const B = 3;
    const engine: PredictEngine = {
      input: new Float32Array(B * D),
      predict(n, out) {
        for (let r = 0; r < n; r++) {
          let z = 0;
          for (let k = 0; k < D; k++) z += weights[k]! * this.input[r * D + k]!;
          out[r] = 1 / (1 + Math.exp(-z));
        }
      },
    };
    const images = Array.from({ length: 5 }, () => Uint8Array.from({ length: S }, () => rng.int(256)));
    async function* decoded(): AsyncGenerator<DecodedInput> {
      for (const [i, pixels] of images.entries()) yield { kind: 'image', image: { path: `${i}.png`, actual: null }, pixels } as DecodedInput;
    }
    const got: number[] = [];
    for await (const batch of predictBatches(decoded(), preprocessing, engine, B, { tta: 'shifts' })) got.push(...batch.predictions.map((p) => p.pDog));
    const src = batchSource(images.reduce((all, p, i) => (all.set(p, i * S), all), new Uint8Array(5 * S)), new Uint8Array(5), preprocessing);
    const one = new Float32Array(1);
    images.forEach((pixels, i) => {
      let sum = 0;
      for (const view of ttaViews('shifts', geometry)) {
        fillInputs(pixels, 1, geometry, src.table, engine.input, view);
        engine.predict(1, one);
        sum += one[0]!;
      }
      expect(got[i]).toBeCloseTo(sum / 18, 12);
    });
    const plain: number[] = [];
    for await (const batch of predictBatches(decoded(), preprocessing, engine, B)) plain.push(...batch.predictions.map((p) => p.pDog));
    expect(plain.some((p, i) => Math.abs(p - got[i]!) > 1e-4)).toBe(true); // the views matter: the check can fail
  });
});
