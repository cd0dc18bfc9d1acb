// The layer registry (src/nn/layers/registry.ts) and the parts the compiler cannot check: the
// kernel files an entry names (AssemblyScript), the kernel files the build writes, initialisation
// by each activation's own rule, and the config schema taking every activation.
import { GPU_LAYERS } from '../src/core/gpu/layers/index.ts';
import { WGSL } from '../src/core/gpu/kernels/index.ts';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import { layerSchema } from '../src/config/schema.ts';
import { KERNEL_FILES } from '../src/core/kernels.ts';
import { ACTIVATION_LAYER_TYPES, ACTIVATION_NAMES, ACTIVATIONS, autoInit, LAYER_TYPES, LAYERS, type LayerSpec } from '../src/nn/index.ts';

const kernels = join(__dirname, '..', 'src', 'core', 'kernels');
/** Kernel files that belong to no layer kind: the entry file, SIMD helpers, the optimizers' update. */
const SHARED_KERNEL_FILES = ['index', 'simd', 'update'];

describe('the layer registry', () => {
  it('names, for every kind, kernel files that exist; every kernel file belongs to a kind or is shared', () => {
    const named = new Set<string>(LAYER_TYPES.flatMap((type) => LAYERS[type].kernels));
    for (const name of named) expect(existsSync(join(kernels, `${name}.as.ts`)), `src/core/kernels/${name}.as.ts`).toBe(true);
    const files = readdirSync(kernels).filter((f) => f.endsWith('.as.ts')).map((f) => f.slice(0, -'.as.ts'.length));
    expect(files.filter((f) => !named.has(f) && !SHARED_KERNEL_FILES.includes(f))).toEqual([]);
  });

  it('has every activation but linear as a layer, each with the GPU core\'s activation part', () => {
    expect(ACTIVATION_LAYER_TYPES).toEqual(ACTIVATION_NAMES.filter((name) => name !== 'linear'));
    for (const type of ACTIVATION_LAYER_TYPES) expect(LAYERS[type]).toMatchObject({ cpu: 'activation', onnx: type, gpu: 'activation' });
  });

  it('names a GPU part only where src/core/gpu/layers has one, and the GPU kernels are one file each', () => {
    const parts = new Set(Object.keys(GPU_LAYERS));
    const named = new Set(LAYER_TYPES.map((type) => LAYERS[type].gpu).filter((g) => g !== null));
    expect([...named].sort()).toEqual([...parts].sort());
    // Every kind runs on the GPU (a kind added without its GPU part would be refused before training, by name).
    expect(LAYER_TYPES.filter((type) => LAYERS[type].gpu === null)).toEqual([]);
    const gpuKernels = join(kernels, '..', 'gpu', 'kernels');
    const files = readdirSync(gpuKernels).filter((f) => f.endsWith('.wgsl.ts')).map((f) => f.slice(0, -'.wgsl.ts'.length));
    expect(files.sort()).toEqual(Object.keys(WGSL).sort());
  });

  it('the build writes the kernel files the core loads', async () => {
    const { KERNEL_FLAVOURS } = (await import(join(kernels, 'build.mjs'))) as { KERNEL_FLAVOURS: Record<string, { file: string }> };
    expect(Object.fromEntries(Object.entries(KERNEL_FLAVOURS).map(([name, f]) => [name, f.file]))).toEqual(KERNEL_FILES);
    expect(readFileSync(join(kernels, 'activation.as.ts'), 'utf8')).not.toMatch(/LEAKY_SLOPE\s*[:=]/);
  });
});

describe('init "auto" reads each activation\'s own rule', () => {
  const dense = (units: number): LayerSpec => ({ type: 'dense', units, bias: true });
  for (const type of ACTIVATION_LAYER_TYPES) {
    it(`${type}: ${ACTIVATIONS[type].init}, also past batch norm, dropout, pooling and flatten`, () => {
      expect(autoInit([dense(4), { type }, dense(1)], 0)).toBe(ACTIVATIONS[type].init);
      const passing: LayerSpec[] = [
        { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
        { type: 'dropout', rate: 0.5 },
        { type: 'maxpool', size: 1, stride: 1 },
        { type: 'avgpool', size: 1, stride: 1 },
        { type: 'flatten' },
      ];
      expect(autoInit([dense(4), ...passing, { type }, dense(1)], 0)).toBe(ACTIVATIONS[type].init);
      // The next layer with weights comes first: Xavier, whatever follows it.
      expect(autoInit([dense(4), dense(3), { type }, dense(1)], 0)).toBe('xavier');
    });
  }
});

describe('the config schema takes every activation', () => {
  for (const type of ACTIVATION_LAYER_TYPES) {
    it(`${type}: as a layer and as model.activation`, () => {
      expect(layerSchema.parse({ type })).toEqual({ type });
      const config = validateConfig({ model: { hidden: [8], activation: type } }, 'test.json');
      expect(config.model.activation).toBe(type);
      const withLayers = validateConfig({ model: { layers: [{ type: 'dense', units: 8 }, { type }, { type: 'dense', units: 1 }] } }, 'test.json');
      expect(withLayers.model.layers![1]).toEqual({ type });
    });
  }
});
