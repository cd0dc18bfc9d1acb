/**
 * When a worker throws, dies or stops responding, the call fails with a clear CoreError instead of
 * hanging, and the core stays failed (a later call cannot silently use half-updated weights).
 * And the choice of kernels: plain SIMD when asked or when relaxed SIMD does not validate.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initParams } from '../src/nn/init.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { Rng } from '../src/random/rng.ts';
import { createCore, CoreError, type Core } from '../src/core/index.ts';
import { coreAssets, coreTracker, fillPattern, mlp, normwiseError } from './core-helpers.ts';

const network = mlp(40, [12], 'relu');
const plan = planNetwork(network);
const cores = coreTracker();
const dirs: string[] = [];
afterAll(async () => {
  await cores.closeAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function readyCore(options: { workers: number; stallTimeoutMs?: number; kernel?: 'auto' | 'simd'; assetDir?: string }): Promise<Core> {
  const core = await cores.make({ network, maxBatch: 4, loss: 'bce', ...options });
  initParams(plan, core.params, new Rng(1));
  fillPattern(core.input, 2);
  core.labels.set([1, 0, 1, 0]);
  core.setOptimizer({ type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false });
  return core;
}

/**
 * A copy of dist/core whose worker.js is test/fixtures/faulty-worker.mjs (wrapping the real one),
 * and the file that tells it to fail: write "<throw|exit|hang> <thread>" into it.
 */
function faultyAssets(): { assetDir: string; inject(kind: 'throw' | 'exit' | 'hang', thread: number): void } {
  const source = coreAssets();
  const root = mkdtempSync(join(tmpdir(), 'nn-train-core-faulty-'));
  dirs.push(root);
  const dir = join(root, 'core');
  mkdirSync(dir);
  symlinkSync(join(source, '..', 'chunks'), join(root, 'chunks'));
  copyFileSync(join(source, 'worker.js'), join(dir, 'real-worker.js'));
  copyFileSync(join(import.meta.dirname, 'fixtures', 'faulty-worker.mjs'), join(dir, 'worker.js'));
  for (const f of ['kernels-relaxed.wasm', 'kernels-simd.wasm']) copyFileSync(join(source, f), join(dir, f));
  const faultFile = join(root, 'fault');
  process.env.NN_TEST_FAULT_FILE = faultFile; // the workers get a copy of the environment when they start
  return { assetDir: dir, inject: (kind, thread) => writeFileSync(faultFile, `${kind} ${thread}`) };
}

describe('a failing worker', () => {
  it('that throws makes the call throw a CoreError naming the worker, then every later call', async () => {
    const faulty = faultyAssets();
    const core = await readyCore({ workers: 3, assetDir: faulty.assetDir });
    expect(core.trainStep(4, 0.1)).toBeGreaterThan(0);
    faulty.inject('throw', 2);
    expect(() => core.trainStep(4, 0.1)).toThrow(CoreError);
    expect(() => core.evaluate(4)).toThrow(/worker 2 failed: Error: fault injected in thread 2/);
    await core.close();
  });

  it('that exits makes the call throw instead of waiting for it', async () => {
    const faulty = faultyAssets();
    const core = await readyCore({ workers: 2, assetDir: faulty.assetDir });
    faulty.inject('exit', 1);
    expect(() => core.evaluate(4)).toThrow(/worker 1 exited/);
    expect(() => core.trainStep(4, 0.1)).toThrow(CoreError);
    await core.close();
  });

  it('that hangs makes the call throw after the stall timeout', async () => {
    const faulty = faultyAssets();
    const core = await readyCore({ workers: 2, stallTimeoutMs: 300, assetDir: faulty.assetDir });
    faulty.inject('hang', 1);
    const start = performance.now();
    expect(() => core.trainStep(4, 0.1)).toThrow(/worker 1 did not finish a job within 300 ms/);
    expect(performance.now() - start).toBeLessThan(5000);
    await core.close();
  });

  it('cannot be used after close', async () => {
    const core = await readyCore({ workers: 2 });
    await core.close();
    expect(() => core.evaluate(4)).toThrow(/closed/);
  });
});

describe('kernel choice', () => {
  it('uses plain SIMD when asked, with the same results as relaxed SIMD within float32 rounding', async () => {
    const plain = await readyCore({ workers: 2, kernel: 'simd' });
    const auto = await readyCore({ workers: 2 });
    expect(plain.kernel).toBe('simd');
    expect(auto.kernel).toBe('relaxed-simd'); // Node 20 gets it through the V8 flag
    expect(plain.gradient(4)).toBeCloseTo(auto.gradient(4), 6);
    expect(normwiseError(plain.grads, auto.grads)).toBeLessThan(1e-5);
  });

  it('falls back to plain SIMD when the relaxed-SIMD module does not validate', async () => {
    const source = coreAssets();
    // A copy of dist/core (worker.js imports the shared chunks next to it) with a broken relaxed module.
    const root = mkdtempSync(join(tmpdir(), 'nn-train-core-fallback-'));
    dirs.push(root);
    const dir = join(root, 'core');
    mkdirSync(dir);
    symlinkSync(join(source, '..', 'chunks'), join(root, 'chunks'));
    for (const f of ['worker.js', 'kernels-simd.wasm']) copyFileSync(join(source, f), join(dir, f));
    writeFileSync(join(dir, 'kernels-relaxed.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99])); // not a valid module
    const core = await readyCore({ workers: 2, assetDir: dir });
    expect(core.kernel).toBe('simd');
    expect(core.trainStep(4, 0.1)).toBeGreaterThan(0);
  });

  it('says what to do when the kernels are missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nn-train-core-empty-'));
    dirs.push(dir);
    await expect(createCore({ network, maxBatch: 4, loss: 'bce', assetDir: dir })).rejects.toThrow(/cannot read the relaxed-simd kernels .* \(run `npm run build`\)/);
  });
});
