/**
 * Test support for the gradient core. The worker script and the WebAssembly kernels are those of
 * dist/core, which `npm test` builds from the current sources before vitest runs.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { join } from 'node:path';
import { createCore, type Core, type CoreOptions } from '../src/core/index.ts';
import { describeAdapter, findAdapter } from '../src/core/gpu/adapter.ts';

/**
 * For the GPU test files: this machine's WebGPU adapter (`adapter`: its description, or null), whether
 * to run them (`runGpu`: with an adapter, or with CI set, where a missing adapter must fail rather than
 * skip) and the words for the describe block (`needs`).
 */
export async function gpuTestSetup() {
  const found = await findAdapter();
  const adapter = 'info' in found ? describeAdapter(found.info) : null;
  const needs = adapter ? `on ${adapter}` : `needs a WebGPU adapter: ${'missing' in found ? found.missing : ''}`;
  return { found, adapter, needs, runGpu: adapter !== null || Boolean(process.env.CI) };
}

const root = join(import.meta.dirname, '..');

/** The folder holding worker.js and the kernel .wasm files (fails clearly when dist/ is missing). */
export function coreAssets(): string {
  const dir = join(root, 'dist', 'core');
  if (!existsSync(join(dir, 'worker.js'))) throw new Error('dist/core is missing: run `npm run build` (npm test does it) before these tests');
  return dir;
}

/**
 * Makes cores from dist/core (every layer split between threads, so small test shapes exercise the
 * threaded paths) and remembers them; a test file closes them all in its afterAll.
 */
export function coreTracker(): { make(options: CoreOptions): Promise<Core>; closeAll(): Promise<void> } {
  const cores: Core[] = [];
  return {
    async make(options) {
      const core = await createCore({ minSplitWork: 0, assetDir: coreAssets(), ...options });
      cores.push(core);
      return core;
    },
    closeAll: async () => void (await Promise.all(cores.map((c) => c.close()))),
  };
}

/** Deterministic numbers in [-scale, scale) (a tiny LCG: tests must not depend on Math.random). */
export function fillPattern(a: Float32Array | Float64Array, seed: number, scale = 1): void {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
}

/** max |a - b| / max |b| over [from, to): a normwise relative error. */
export function normwiseError(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = b.length): number {
  let diff = 0;
  let size = 0;
  for (let i = from; i < to; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    size = Math.max(size, Math.abs(b[i]!));
  }
  return size === 0 ? diff : diff / size;
}


/** What a short training run through a core gives: its weights and the loss of each step. */
export interface Trained {
  params: Float32Array;
  losses: number[];
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/**
 * The core's promise, on a training function that starts from `start`: bit-identical weights and
 * losses with 1, 2 and 4 threads, close to the TypeScript reference, and weights that did move
 * (so the comparison is not between untouched copies).
 */
export async function expectSameTrainingOnAnyThreadCount(train: (options: { workers?: number; kernel?: 'js' }) => Promise<Trained>, start: Float32Array): Promise<void> {
  const one = await train({ workers: 1 });
  const two = await train({ workers: 2 });
  const four = await train({ workers: 4 });
  expect(bits(two.params)).toEqual(bits(one.params));
  expect(bits(four.params)).toEqual(bits(one.params));
  expect(two.losses).toEqual(one.losses);
  expect(four.losses).toEqual(one.losses);
  const js = await train({ kernel: 'js' });
  expect(normwiseError(one.params, js.params)).toBeLessThan(1e-4);
  one.losses.forEach((loss, i) => expect(loss).toBeCloseTo(js.losses[i]!, 4));
  expect(normwiseError(one.params, start)).toBeGreaterThan(1e-3);
}

export { mlp } from './helpers/networks.ts';
