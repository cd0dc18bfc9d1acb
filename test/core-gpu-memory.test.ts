// The GPU core's memory check (src/core/gpu/memory.ts): pure arithmetic on the plan and made-up
// adapter limits, so it runs without a GPU. The commands' use of it is in nn-train-gpu.test.ts.
import { describe, expect, it } from 'vitest';
import { heldImagesLayout, imagesPerBuffer } from '../src/core/gpu/held-images.ts';
import { checkGpuMemory, describeShortfall, gpuBufferSizes } from '../src/core/gpu/memory.ts';
import type { NetworkSpec } from '../src/nn/layers/spec.ts';
import { planNetwork } from '../src/nn/plan.ts';

/** 64x64x3; a 3x3 conv of 32 filters (64x64x32 out: 512 KiB a sample), pooling, dense. */
const network: NetworkSpec = {
  input: { height: 64, width: 64, channels: 3 },
  layers: [{ type: 'conv', filters: 32, kernel: 3, stride: 1, padding: 'same', bias: false }, { type: 'relu' }, { type: 'maxpool', size: 2, stride: 2 }, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }],
};
const plan = planNetwork(network);
const MiB = 2 ** 20;
const lavapipe = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 4 * 1024 * MiB - 1 };

describe('checkGpuMemory', () => {
  it('lists the input and each layer output per sample (a flatten has no buffer of its own), the parameters as fixed', () => {
    const sizes = gpuBufferSizes(plan);
    expect(sizes.map((s) => s.name)).toEqual(['the parameters', 'the running statistics', 'the input batch', 'layers[0] (conv) output', 'layers[1] (relu) output', 'layers[2] (maxpool) output', 'layers[4] (dense) output']);
    expect(sizes.find((s) => s.name === 'layers[0] (conv) output')!.perSample).toBe(64 * 64 * 32 * 4);
    expect(sizes[0]!.fixed).toBe(plan.paramCount * 4);
  });

  it('a batch whose largest buffer is exactly the limit fits; one more image does not, and the largest batch that fits is named', () => {
    expect(checkGpuMemory(plan, 256, lavapipe)).toBeNull();
    const s = checkGpuMemory(plan, 257, lavapipe)!;
    expect(s).toEqual({ buffer: 'layers[0] (conv) output', bytes: 257 * 512 * 1024, limit: 128 * MiB, limitName: 'maxStorageBufferBindingSize', batch: 257, fittingBatch: 256 });
    expect(describeShortfall(s)).toBe(
      "the GPU buffer for layers[0] (conv) output needs 128.5 MiB (134742016 bytes) at batch 257, over the adapter's limit of 128.0 MiB (134217728 bytes, maxStorageBufferBindingSize); a batch of at most 256 fits",
    );
  });

  it('takes the smaller of the two limits, and says when no batch fits (fixed buffers over the limit)', () => {
    const s = checkGpuMemory(plan, 64, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 8 * MiB })!;
    expect([s.limitName, s.limit, s.fittingBatch]).toEqual(['maxBufferSize', 8 * MiB, 16]);
    const none = checkGpuMemory(plan, 1, { maxStorageBufferBindingSize: 1024, maxBufferSize: 1024 })!;
    expect(none.fittingBatch).toBe(0);
    expect(describeShortfall(none)).toMatch(/; no batch fits: the network must shrink$/);
  });
});

describe('heldImagesLayout (images kept on the GPU)', () => {
  const shape = { decodeWidth: 80, decodeHeight: 80, channels: 3 as const };
  it('cuts the images into buffers of whole images under the limit: configs/cnn.json\'s 10,000 images take two on lavapipe', () => {
    const per = imagesPerBuffer(80 * 80 * 3, lavapipe);
    expect(per).toBe(Math.floor((128 * MiB - 3) / (80 * 80 * 3)));
    expect(heldImagesLayout({ ...shape, count: 10_000 }, lavapipe)).toEqual({ perBuffer: per, buffers: 2 });
    expect(heldImagesLayout({ ...shape, count: 30 }, lavapipe)).toEqual({ perBuffer: 30, buffers: 1 });
    // 32-bit byte offsets: a device with a larger limit still gets buffers under 4 GiB.
    expect(imagesPerBuffer(80 * 80 * 3, { maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: 2 ** 40 }) * 80 * 80 * 3).toBeLessThan(2 ** 32);
  });

  it('refuses, in one line naming the size and the limit, more images than four buffers hold, or one image larger than a buffer', () => {
    const per = imagesPerBuffer(80 * 80 * 3, lavapipe);
    expect(heldImagesLayout({ ...shape, count: 4 * per }, lavapipe)).toEqual({ perBuffer: per, buffers: 4 });
    expect(heldImagesLayout({ ...shape, count: 4 * per + 1 }, lavapipe)).toBe(
      `the ${4 * per + 1} images take ${((4 * per + 1) * 80 * 80 * 3 / MiB).toFixed(1)} MiB, over 4 buffers of the GPU's limit of 128.0 MiB (maxStorageBufferBindingSize)`,
    );
    expect(heldImagesLayout({ decodeWidth: 4096, decodeHeight: 4096, channels: 3, count: 2 }, { maxStorageBufferBindingSize: 32 * MiB, maxBufferSize: 64 * MiB })).toBe(
      "one image takes 48.0 MiB, over the GPU's limit of 32.0 MiB for one buffer (maxStorageBufferBindingSize)",
    );
  });
});
