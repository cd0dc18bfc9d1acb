// The data on the GPU (Core.holdImages): a GPU core that holds the stored images and forms each
// batch from its rows must compute exactly what a GPU core fed the inputs fillBatch writes computes,
// augmentation included (flips, crop and pad shifts, brightness and contrast jitter), in training,
// in inference and on partial batches. Same adapter rules as core-gpu.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core/index.ts';
import { batchSource, epochOrder, fillBatch, fillBatchRows, type BatchSource } from '../src/data/batches.ts';
import { EpochAugmentation, type ShiftMode } from '../src/data/augment.ts';
import type { NetworkSpec } from '../src/nn/layers/spec.ts';
import { initParams } from '../src/nn/init.ts';
import { Rng } from '../src/random/rng.ts';
import { heldImagesLayout, imagesPerBuffer } from '../src/core/gpu/held-images.ts';
import { coreAssets, gpuTestSetup } from './core-helpers.ts';

const { found, needs, runGpu } = await gpuTestSetup();

const cores: Core[] = [];
afterAll(async () => void (await Promise.all(cores.map((c) => c.close()))));

const IMAGES = 29;
const B = 8;

/** 6x5 windows of 8x7 stored images (the centre at (1, 1)), `channels` deep; random bytes and labels. */
function images(channels: 1 | 3): BatchSource {
  const rng = new Rng(21 + channels);
  const pixels = new Uint8Array(IMAGES * 8 * 7 * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  const labels = new Uint8Array(IMAGES);
  for (let i = 0; i < IMAGES; i++) labels[i] = rng.int(2);
  const mean = channels === 3 ? [0.5, 0.4, 0.45] : [0.47];
  const std = channels === 3 ? [0.25, 0.3, 0.2] : [0.27];
  return batchSource(pixels, labels, { width: 6, height: 5, channels, decodeWidth: 8, decodeHeight: 7, cropLeft: 1, cropTop: 1, scale: 1 / 255, mean, std });
}

function network(channels: 1 | 3): NetworkSpec {
  return {
    input: { height: 5, width: 6, channels },
    layers: [
      { type: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', bias: false },
      { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
      { type: 'relu' },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units: 1, bias: true },
    ],
  };
}

async function gpuCore(net: NetworkSpec): Promise<Core> {
  const core = await createCore({ network: net, maxBatch: B, loss: 'bce', device: 'gpu', assetDir: coreAssets(), seed: 4 });
  cores.push(core);
  return core;
}

const bits = (a: Float32Array) => new Uint32Array(Float32Array.from(a).buffer);

describe.runIf(runGpu)(`images held on the GPU (${needs})`, { timeout: 60_000 }, () => {
  for (const [channels, shiftMode] of [[3, 'crop'], [3, 'pad'], [1, 'pad']] as [1 | 3, ShiftMode][]) {
    it(`${channels} channel(s), ${shiftMode} shifts, flips and jitter: training and inference bit-identical to uploaded inputs, partial batches too`, async () => {
      const src = images(channels);
      const net = network(channels);
      const uploaded = await gpuCore(net);
      const held = await gpuCore(net);
      initParams(uploaded.plan, uploaded.params, new Rng(3));
      held.params.set(uploaded.params);
      expect(held.rows ?? null).toBeNull();
      const refusal = held.holdImages!({ pixels: src.pixels, count: IMAGES, width: 6, height: 5, channels, decodeWidth: 8, decodeHeight: 7, table: src.table });
      expect(refusal).toBeNull();
      expect(held.rows).not.toBeNull();
      for (const core of [uploaded, held]) core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

      const all = Uint32Array.from({ length: IMAGES }, (_, i) => i);
      // crop: windows anywhere inside the stored image (shift 1 = its margin); pad: up to 2 pixels past its edges.
      const augmentation = new EpochAugmentation({ flip: true, shift: shiftMode === 'crop' ? 1 : 2, shiftMode, brightness: 0.3, contrast: 0.4 }, IMAGES);
      const losses: [number[], number[]] = [[], []];
      let step = 0;
      for (let epoch = 0; epoch < 3; epoch++) {
        const order = epochOrder(all, 5, epoch);
        augmentation.draw(5, epoch);
        for (let start = 0; start < IMAGES; start += B) {
          const n = fillBatch(src, order, start, B, uploaded.input, uploaded.labels, augmentation);
          expect(fillBatchRows(src, order, start, B, held.rows!, held.labels, augmentation)).toBe(n);
          expect(held.labels.subarray(0, n)).toEqual(uploaded.labels.subarray(0, n));
          uploaded.trainStep(n, 0.01, step);
          held.trainStep(n, 0.01, step);
          step++;
        }
      }
      uploaded.takeLosses!(true, (l) => losses[0].push(l));
      held.takeLosses!(true, (l) => losses[1].push(l));
      expect(losses[1].length).toBe(step);
      expect(losses[1]).toEqual(losses[0]);
      expect(bits(held.params)).toEqual(bits(uploaded.params));
      expect(bits(held.stats)).toEqual(bits(uploaded.stats));

      // Inference (the validation path: the centre window, no augmentation), a partial batch of 5.
      const p = [new Float32Array(5), new Float32Array(5)];
      fillBatch(src, all, 3, 5, uploaded.input, uploaded.labels, null);
      fillBatchRows(src, all, 3, 5, held.rows!, held.labels, null);
      const loss = [uploaded.evaluate(5, p[0]), held.evaluate(5, p[1])];
      expect(loss[1]).toBe(loss[0]);
      expect(bits(p[1]!)).toEqual(bits(p[0]!));
    });
  }

  it('more images than one GPU buffer holds (lavapipe: 128 MiB) are spread over several: images at both ends of each read right', async () => {
    const limits = 'limits' in found ? found.limits : { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 2 ** 32 };
    const perBuffer = imagesPerBuffer(100 * 100 * 3, limits);
    const shape = { count: Math.min(3 * perBuffer, perBuffer + 700), decodeWidth: 100, decodeHeight: 100, channels: 3 as const };
    const layout = heldImagesLayout(shape, limits);
    if (typeof layout === 'string') throw new Error(layout);
    expect(layout.buffers).toBeGreaterThanOrEqual(2);
    const stored = 100 * 100 * 3;
    const pixels = new Uint8Array(shape.count * stored);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.imul(i, 0x9e3779b1) >>> 24;
    const labels = new Uint8Array(shape.count);
    const src = batchSource(pixels, labels, { width: 4, height: 3, channels: 3, decodeWidth: 100, decodeHeight: 100, cropLeft: 48, cropTop: 48, scale: 1 / 255, mean: null, std: null });
    const net: NetworkSpec = { input: { height: 3, width: 4, channels: 3 }, layers: [{ type: 'flatten' }, { type: 'dense', units: 1, bias: false }] };
    const uploaded = await gpuCore(net);
    const held = await gpuCore(net);
    expect(held.holdImages!({ pixels, count: shape.count, width: 4, height: 3, channels: 3, decodeWidth: 100, decodeHeight: 100, table: src.table })).toBeNull();
    // Each batch row's logit is one input value: weights one-hot on value k.
    const p = [new Float32Array(B), new Float32Array(B)];
    const per = layout.perBuffer;
    const ends = Uint32Array.from([0, 1, per - 1, per, per + 1, shape.count - 1, Math.min(2 * per, shape.count - 1), 2]);
    for (const k of [0, 5, 35]) {
      for (const core of [uploaded, held]) {
        core.params.fill(0);
        core.params[k] = 1;
      }
      fillBatch(src, ends, 0, B, uploaded.input, uploaded.labels, null);
      fillBatchRows(src, ends, 0, B, held.rows!, held.labels, null);
      uploaded.predict(B, p[0]!);
      held.predict(B, p[1]!);
      expect(bits(p[1]!)).toEqual(bits(p[0]!));
      expect(new Set(p[0]).size).toBeGreaterThan(4); // the images differ: the check can fail
    }
  });

  it('the rows decide the input: another window gives another prediction (the test can fail)', async () => {
    const src = images(3);
    const core = await gpuCore(network(3));
    initParams(core.plan, core.params, new Rng(3));
    core.holdImages!({ pixels: src.pixels, count: IMAGES, width: 6, height: 5, channels: 3, decodeWidth: 8, decodeHeight: 7, table: src.table });
    const p = new Float32Array(1);
    const predictions = new Set<number>();
    for (const [left, top, mirror] of [[1, 1, false], [1, 1, true], [0, 1, false], [1, 2, false], [-2, -1, false]] as const) {
      core.rows!.set(0, 4, left, top, mirror);
      core.rows!.levels(0).set(Uint8Array.from({ length: 256 }, (_, v) => v));
      core.predict(1, p);
      predictions.add(p[0]!);
    }
    expect(predictions.size).toBe(5);
  });
});
