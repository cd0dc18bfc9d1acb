// The GPU core (src/core/gpu) on whatever WebGPU adapter this machine has (Mesa's lavapipe in CI and
// here), against the TypeScript reference core (kernel 'js'): the same network, data and seed.
// Outside CI these tests are skipped, visibly, without an adapter; with CI set they run and fail.
import { afterAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core/index.ts';
import type { LayerSpec, NetworkSpec } from '../src/nn/layers/spec.ts';
import { initParams } from '../src/nn/init.ts';
import type { OptimizerSpec } from '../src/optim/spec.ts';
import { Rng } from '../src/random/rng.ts';
import { weightGradSplits } from '../src/core/gpu/layers/conv.ts';
import { coreAssets, fillPattern, gpuTestSetup, normwiseError } from './core-helpers.ts';

const { found, adapter, needs, runGpu } = await gpuTestSetup();

const cores: Core[] = [];
afterAll(async () => void (await Promise.all(cores.map((c) => c.close()))));

async function make(network: NetworkSpec, device: 'gpu' | 'cpu', maxBatch = 8, loss: 'bce' | 'mse' = 'bce', seed = 3): Promise<Core> {
  const core = await createCore({ network, maxBatch, loss, device, kernel: device === 'cpu' ? 'js' : 'auto', assetDir: coreAssets(), seed });
  cores.push(core);
  return core;
}

/** 4x3x3 images; three dense layers of odd widths, each activation somewhere. */
function net(activations: string[] = ['tanh', 'leaky_relu'], units = [7, 5]): NetworkSpec {
  const layers: LayerSpec[] = [{ type: 'flatten' }];
  units.forEach((u, i) => layers.push({ type: 'dense', units: u, bias: true }, { type: activations[i % activations.length]! } as LayerSpec));
  layers.push({ type: 'dense', units: 1, bias: true });
  return { input: { height: 4, width: 3, channels: 3 }, layers };
}

/** 40 samples of fixed pattern data with labels from a fixed rule, cut into batches of 8 and 5 (a partial one). */
function data(inputSize: number): { x: Float32Array; y: Float32Array; batches: [number, number][] } {
  const n = 40;
  const x = new Float32Array(n * inputSize);
  fillPattern(x, 11);
  const y = new Float32Array(n);
  for (let s = 0; s < n; s++) y[s] = x[s * inputSize]! + x[s * inputSize + 1]! > 0 ? 1 : 0;
  const batches: [number, number][] = [];
  for (let start = 0; start < n; ) {
    const B = batches.length % 2 === 0 ? 8 : 5;
    batches.push([start, Math.min(B, n - start)]);
    start += B;
  }
  return { x, y, batches };
}

function load(core: Core, d: ReturnType<typeof data>, [start, B]: [number, number], inputSize: number): number {
  core.input.set(d.x.subarray(start * inputSize, (start + B) * inputSize));
  core.labels.set(d.y.subarray(start, start + B));
  return B;
}

/** Trains `steps` steps; the losses, read as the loop reads them (late, for the GPU core). */
function trainSteps(core: Core, d: ReturnType<typeof data>, steps: number, lr: number, from = 0): number[] {
  const inputSize = core.input.length / core.maxBatch;
  const losses: number[] = [];
  for (let s = from; s < from + steps; s++) {
    const B = load(core, d, d.batches[s % d.batches.length]!, inputSize);
    const loss = core.trainStep(B, lr, s);
    if (core.takeLosses) core.takeLosses(false, (l) => losses.push(l));
    else losses.push(loss);
  }
  core.takeLosses?.(true, (l) => losses.push(l));
  return losses;
}

const OPTIMIZERS: { name: string; spec: OptimizerSpec; lr: number; weightDecay?: number; clipNorm?: number }[] = [
  { name: 'sgd', spec: { type: 'sgd' }, lr: 0.1 },
  { name: 'momentum (averaging form, bias correction), weight decay', spec: { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: true }, lr: 0.1, weightDecay: 1e-3 },
  { name: 'momentum (classic form), clipping', spec: { type: 'momentum', beta: 0.8, form: 'classic', biasCorrection: false }, lr: 0.02, clipNorm: 0.3 },
  { name: 'nesterov', spec: { type: 'nesterov', beta: 0.9 }, lr: 0.02 },
  { name: 'rmsprop', spec: { type: 'rmsprop', rho: 0.9, epsilon: 1e-6 }, lr: 0.003 },
  { name: 'adam, weight decay and clipping', spec: { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, lr: 0.01, weightDecay: 1e-3, clipNorm: 0.5 },
];

function maxRelative(a: number[], b: number[]): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return worst;
}

async function pair(network: NetworkSpec, maxBatch = 8, loss: 'bce' | 'mse' = 'bce'): Promise<[Core, Core]> {
  const cpu = await make(network, 'cpu', maxBatch, loss);
  const gpu = await make(network, 'gpu', maxBatch, loss);
  initParams(cpu.plan, cpu.params, new Rng(7));
  gpu.params.set(cpu.params);
  return [cpu, gpu];
}

// Lavapipe on 2 shared vCPUs: a core starts in about 0.4 s and a test takes about 1 s, but the whole suite runs beside it.
describe.runIf(runGpu)(`the GPU core (${needs})`, { timeout: 60_000 }, () => {
  it('finds an adapter (in CI a missing one is a failure, not a skip)', () => {
    expect(adapter, `no WebGPU adapter: ${'missing' in found ? found.missing : ''}; CI installs one with src/tools/install-lavapipe.sh`).not.toBeNull();
  });

  it('refuses, before making a buffer, a maxBatch whose buffers exceed the adapter\'s limits (a RangeError naming the buffer)', async () => {
    // 64x64x32 floats of conv output a sample (512 KiB): one image more than the limit allows.
    const limit = 'limits' in found ? Math.min(found.limits.maxStorageBufferBindingSize, found.limits.maxBufferSize) : 128 * 2 ** 20;
    const network: NetworkSpec = { input: { height: 64, width: 64, channels: 3 }, layers: [{ type: 'conv', filters: 32, kernel: 3, stride: 1, padding: 'same', bias: false }, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }] };
    const maxBatch = Math.floor(limit / (512 * 1024)) + 1;
    await expect(make(network, 'gpu', maxBatch)).rejects.toThrow(new RangeError(`GPU core: the GPU buffer for layers[0] (conv) output needs ${((maxBatch * 512) / 1024).toFixed(1)} MiB (${maxBatch * 512 * 1024} bytes) at batch ${maxBatch}, over the adapter's limit of ${(limit / 2 ** 20).toFixed(1)} MiB (${limit} bytes, ${found && 'limits' in found && found.limits.maxBufferSize < found.limits.maxStorageBufferBindingSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize'}); a batch of at most ${maxBatch - 1} fits`));
  });

  for (const o of OPTIMIZERS) {
    it(`${o.name}: the loss of each of 100 steps within 1e-3 relative of the CPU core's, and the weights`, async () => {
      const network = net();
      const [cpu, gpu] = await pair(network);
      const d = data(cpu.input.length / cpu.maxBatch);
      const regularization = { weightDecay: o.weightDecay ?? 0, clipNorm: o.clipNorm ?? null };
      cpu.setOptimizer(o.spec, regularization);
      gpu.setOptimizer(o.spec, regularization);
      const expected = trainSteps(cpu, d, 100, o.lr);
      const got = trainSteps(gpu, d, 100, o.lr);
      expect(got).toHaveLength(100);
      expect(expected[99]!).toBeLessThan(expected[0]! * 0.9); // it learns: the comparison is of a moving curve
      expect(maxRelative(got, expected)).toBeLessThan(1e-3);
      expect(normwiseError(gpu.params, cpu.params)).toBeLessThan(1e-3);
      if (o.clipNorm) expect(Math.abs(gpu.lastGradientNorm - cpu.lastGradientNorm) / cpu.lastGradientNorm).toBeLessThan(1e-3);
      const [gs, cs] = [gpu.getOptimizerState(), cpu.getOptimizerState()];
      expect(gs.t).toBe(cs.t);
      for (const name of Object.keys(cs.buffers)) expect(normwiseError(gs.buffers[name]!, cs.buffers[name]!)).toBeLessThan(1e-3);
    });
  }

  it('mse: the same losses as the CPU core over 100 steps', async () => {
    const [cpu, gpu] = await pair(net(['relu']), 8, 'mse');
    const d = data(cpu.input.length / cpu.maxBatch);
    for (const c of [cpu, gpu]) c.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(maxRelative(trainSteps(gpu, d, 100, 0.01), trainSteps(cpu, d, 100, 0.01))).toBeLessThan(1e-3);
  });

  it('dropout draws the CPU core\'s masks (same seed, step and layer): 100 steps of losses within 1e-3; inference ignores it', async () => {
    const network: NetworkSpec = {
      input: { height: 4, width: 3, channels: 3 },
      layers: [{ type: 'dense', units: 9, bias: true }, { type: 'relu' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 6, bias: true }, { type: 'tanh' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 1, bias: true }],
    };
    const [cpu, gpu] = await pair(network);
    const other = await make(network, 'cpu', 8, 'bce', 4); // another seed: other masks
    other.params.set(cpu.params);
    const d = data(36);
    const spec: OptimizerSpec = { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    for (const c of [cpu, gpu, other]) c.setOptimizer(spec);
    const [expected, got, elsewise] = [trainSteps(cpu, d, 100, 0.01), trainSteps(gpu, d, 100, 0.01), trainSteps(other, d, 100, 0.01)];
    expect(maxRelative(got, expected)).toBeLessThan(1e-3);
    expect(maxRelative(elsewise, expected)).toBeGreaterThan(1e-2); // the masks matter: the check compares them
    const [p, q] = [new Float64Array(8), new Float64Array(8)];
    load(cpu, d, [0, 8], 36);
    load(gpu, d, [0, 8], 36);
    cpu.predict(8, p);
    gpu.predict(8, q);
    for (let s = 0; s < 8; s++) expect(Math.abs(q[s]! - p[s]!)).toBeLessThan(1e-4);
  });

  it('convolutions (3 and odd channel counts, 3x3 same, 3x3 stride 2 valid, 1x1, 2x2 stride 2 same; odd sizes, partial batches): 100 steps of losses within 1e-3', async () => {
    const network: NetworkSpec = {
      input: { height: 7, width: 6, channels: 3 },
      layers: [
        { type: 'conv', filters: 5, kernel: 3, stride: 1, padding: 'same', bias: false },
        { type: 'relu' },
        { type: 'conv', filters: 4, kernel: 3, stride: 2, padding: 'valid', bias: true },
        { type: 'tanh' },
        { type: 'conv', filters: 3, kernel: 1, stride: 1, padding: 'same', bias: true },
        { type: 'conv', filters: 2, kernel: 2, stride: 2, padding: 'same', bias: true },
        { type: 'flatten' },
        { type: 'dense', units: 1, bias: true },
      ],
    };
    const [cpu, gpu] = await pair(network);
    const d = data(7 * 6 * 3);
    // Every parameter's gradient first (a partial batch of 6): float32 rounding apart, the same.
    load(cpu, d, [0, 6], 7 * 6 * 3);
    load(gpu, d, [0, 6], 7 * 6 * 3);
    expect(Math.abs(gpu.gradient(6) - cpu.gradient(6))).toBeLessThan(1e-6);
    for (const s of cpu.plan.params) expect(normwiseError(gpu.grads, cpu.grads, s.offset, s.offset + s.length), `layer ${s.layer} ${s.name}`).toBeLessThan(1e-5);
    for (const c of [cpu, gpu]) c.setOptimizer({ type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false }, { weightDecay: 1e-3, clipNorm: 1 });
    const expected = trainSteps(cpu, d, 100, 0.1);
    expect(expected[99]!).toBeLessThan(expected[0]! * 0.9);
    expect(maxRelative(trainSteps(gpu, d, 100, 0.1), expected)).toBeLessThan(1e-3);
    expect(normwiseError(gpu.params, cpu.params)).toBeLessThan(1e-3);
  });

  it('the tiled convolution kernels (8 filters or channels or more: 9, 67 over two tiles of 64, 8 filters; K = 9, 81, 67, not multiples of 16; 1 channel, stride 2 valid; input gradients of 9 and 67 channels): gradients within 1e-5, 100 steps within 1e-3', async () => {
    const network: NetworkSpec = {
      input: { height: 9, width: 7, channels: 1 },
      layers: [
        { type: 'conv', filters: 9, kernel: 3, stride: 1, padding: 'same', bias: false },
        { type: 'relu' },
        { type: 'conv', filters: 67, kernel: 3, stride: 2, padding: 'valid', bias: true },
        { type: 'tanh' },
        { type: 'conv', filters: 8, kernel: 1, stride: 1, padding: 'same', bias: true },
        { type: 'flatten' },
        { type: 'dense', units: 1, bias: true },
      ],
    };
    const [cpu, gpu] = await pair(network);
    const size = 9 * 7;
    const d = data(size);
    load(cpu, d, [8, 5], size); // a partial batch
    load(gpu, d, [8, 5], size);
    expect(Math.abs(gpu.gradient(5) - cpu.gradient(5))).toBeLessThan(1e-6);
    for (const s of cpu.plan.params) expect(normwiseError(gpu.grads, cpu.grads, s.offset, s.offset + s.length), `layer ${s.layer} ${s.name}`).toBeLessThan(1e-5);
    const [p, q] = [new Float64Array(8), new Float64Array(8)];
    load(cpu, d, [0, 8], size);
    load(gpu, d, [0, 8], size);
    cpu.predict(8, p);
    gpu.predict(8, q);
    for (let s = 0; s < 8; s++) expect(Math.abs(q[s]! - p[s]!)).toBeLessThan(1e-4);
    // SGD: 7.8e-6 apart here. With momentum 0.9 at lr 0.02 the curves drifted 1.5e-2 apart, the
    // direct kernels' curve the same to the last bit: float32 against double, amplified by the network.
    for (const c of [cpu, gpu]) c.setOptimizer({ type: 'sgd' });
    const expected = trainSteps(cpu, d, 100, 0.05);
    expect(expected[99]!).toBeLessThan(expected[0]! * 0.9);
    const got = trainSteps(gpu, d, 100, 0.05);
    expect(maxRelative(got, expected)).toBeLessThan(1e-3);
  });

  it('sums over many rows: the tiled weight gradient in splits (32x32 outputs, 8 and a partial 5 images: 4 splits, the last empty), batch norm in blocks of rows (32 and 20 blocks): gradients within 1e-4, running statistics within 1e-5, the same bits twice', async () => {
    const network: NetworkSpec = {
      input: { height: 32, width: 32, channels: 3 },
      layers: [
        { type: 'conv', filters: 16, kernel: 3, stride: 1, padding: 'same', bias: true },
        { type: 'relu' },
        { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, // after the ReLU: the conv's bias keeps a gradient
        { type: 'maxpool', size: 2, stride: 2 },
        { type: 'conv', filters: 8, kernel: 3, stride: 1, padding: 'same', bias: false },
        { type: 'flatten' },
        { type: 'dense', units: 1, bias: true },
      ],
    };
    expect(weightGradSplits(8 * 32 * 32, 16, 28)).toEqual({ splits: 4, rows: 2048 });
    expect(weightGradSplits(8 * 16 * 16, 8, 72)).toEqual({ splits: 1, rows: 0 });
    const [cpu, gpu] = await pair(network);
    const size = 32 * 32 * 3;
    const d = data(size);
    for (const B of [8, 5]) {
      load(cpu, d, [0, B], size);
      load(gpu, d, [0, B], size);
      // float32 sums of thousands of rows (the CPU core adds batch norm's in double): 1e-4.
      const [lossGpu, lossCpu] = [gpu.gradient(B), cpu.gradient(B)];
      expect(Math.abs(lossGpu - lossCpu) / lossCpu).toBeLessThan(1e-5);
      for (const s of cpu.plan.params) expect(normwiseError(gpu.grads, cpu.grads, s.offset, s.offset + s.length), `batch ${B}, layer ${s.layer} ${s.name}`).toBeLessThan(1e-4);
      expect(normwiseError(gpu.stats, cpu.stats)).toBeLessThan(1e-5);
      const first = Float32Array.from(gpu.grads);
      gpu.gradient(B); // the same batch again (the running statistics move: the CPU core's too)
      cpu.gradient(B);
      expect(new Uint32Array(gpu.grads.buffer.slice(0))).toEqual(new Uint32Array(first.buffer));
    }
  });

  it('max, average and global average pooling (odd sizes, overlapping and gapped windows, ties): gradients within 1e-5, 100 steps within 1e-3', async () => {
    const network: NetworkSpec = {
      input: { height: 9, width: 7, channels: 3 },
      layers: [
        { type: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', bias: true },
        { type: 'relu' }, // zeros: ties inside the max windows
        { type: 'maxpool', size: 3, stride: 2 }, // overlapping windows
        { type: 'avgpool', size: 2, stride: 1 },
        { type: 'maxpool', size: 1, stride: 2 }, // gaps between windows
        { type: 'conv', filters: 3, kernel: 1, stride: 1, padding: 'same', bias: true },
        { type: 'globalavgpool' },
        { type: 'dense', units: 1, bias: true },
      ],
    };
    const [cpu, gpu] = await pair(network);
    const size = 9 * 7 * 3;
    const d = data(size);
    load(cpu, d, [8, 5], size);
    load(gpu, d, [8, 5], size);
    expect(Math.abs(gpu.gradient(5) - cpu.gradient(5))).toBeLessThan(1e-6);
    for (const s of cpu.plan.params) expect(normwiseError(gpu.grads, cpu.grads, s.offset, s.offset + s.length), `layer ${s.layer} ${s.name}`).toBeLessThan(1e-5);
    for (const c of [cpu, gpu]) c.setOptimizer({ type: 'sgd' });
    const expected = trainSteps(cpu, d, 100, 0.1);
    expect(expected[99]!).toBeLessThan(expected[0]! * 0.95);
    expect(maxRelative(trainSteps(gpu, d, 100, 0.1), expected)).toBeLessThan(1e-3);
  });

  it('batch norm after a convolution and after a dense layer: gradients, running statistics, 100 steps and inference as the CPU core', async () => {
    const network: NetworkSpec = {
      input: { height: 5, width: 6, channels: 3 },
      layers: [
        { type: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', bias: false },
        { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
        { type: 'relu' },
        { type: 'avgpool', size: 2, stride: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 6, bias: true },
        { type: 'batchnorm', momentum: 0.2, epsilon: 1e-3 },
        { type: 'gelu' },
        { type: 'dense', units: 1, bias: true },
      ],
    };
    const [cpu, gpu] = await pair(network);
    const size = 5 * 6 * 3;
    const d = data(size);
    load(cpu, d, [0, 8], size);
    load(gpu, d, [0, 8], size);
    expect(Math.abs(gpu.gradient(8) - cpu.gradient(8))).toBeLessThan(1e-6);
    // A bias before batch norm has a gradient of zero up to rounding (the norm removes the mean):
    // its error is measured against the whole gradient's size, not its own.
    const whole = Math.max(...Array.from(cpu.grads, Math.abs));
    for (const s of cpu.plan.params) {
      const [g, c] = [gpu.grads.subarray(s.offset, s.offset + s.length), cpu.grads.subarray(s.offset, s.offset + s.length)];
      const own = Math.max(...Array.from(c, Math.abs));
      const diff = Math.max(...Array.from(c, (v, i) => Math.abs(g[i]! - v)));
      expect(diff, `layer ${s.layer} ${s.name}`).toBeLessThan(Math.max(1e-4 * own, 1e-6 * whole));
    }
    expect(normwiseError(gpu.stats, cpu.stats)).toBeLessThan(1e-5); // gradient() is training mode: the statistics moved
    for (const c of [cpu, gpu]) c.setOptimizer({ type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: false });
    const expected = trainSteps(cpu, d, 100, 0.1);
    expect(expected[99]!).toBeLessThan(expected[0]! * 0.9);
    expect(maxRelative(trainSteps(gpu, d, 100, 0.1), expected)).toBeLessThan(1e-3);
    expect(normwiseError(gpu.stats, cpu.stats)).toBeLessThan(1e-3);
    // inference uses the running statistics
    const [p, q] = [new Float64Array(5), new Float64Array(5)];
    for (const c of [cpu, gpu]) load(c, d, [8, 5], size);
    cpu.predict(5, p);
    gpu.predict(5, q);
    for (let s = 0; s < 5; s++) expect(Math.abs(q[s]! - p[s]!)).toBeLessThan(1e-4);
  });

  it('predicts within 1e-4 of the CPU core with every activation, batch 1 and a partial batch, before and after training', async () => {
    const network = net(['relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu'], [9, 6, 5, 4, 3]);
    const [cpu, gpu] = await pair(network, 7);
    const inputSize = cpu.input.length / cpu.maxBatch;
    fillPattern(cpu.input, 21, 2);
    gpu.input.set(cpu.input);
    for (let s = 0; s < 7; s++) cpu.labels[s] = gpu.labels[s] = s % 2;
    for (const B of [7, 1, 4]) {
      const [p, q] = [new Float64Array(B), new Float64Array(B)];
      cpu.predict(B, p);
      gpu.predict(B, q);
      for (let s = 0; s < B; s++) expect(Math.abs(q[s]! - p[s]!)).toBeLessThan(1e-4);
      const [pe, qe] = [new Float32Array(B), new Float32Array(B)];
      expect(Math.abs(gpu.evaluate(B, qe) - cpu.evaluate(B, pe))).toBeLessThan(1e-4);
      for (let s = 0; s < B; s++) expect(Math.abs(qe[s]! - pe[s]!)).toBeLessThan(1e-4);
    }
    // the predictions vary with the input (not a constant): the check above compares something
    const out = new Float64Array(7);
    gpu.predict(7, out);
    expect(Math.max(...out) - Math.min(...out)).toBeGreaterThan(1e-3);
    expect(inputSize).toBe(36);
  });

  it('gives the gradient of the CPU core (gradient(), grads) within 1e-4, every activation', async () => {
    const [cpu, gpu] = await pair(net(['gelu', 'sigmoid', 'relu'], [6, 5, 4]), 8);
    fillPattern(cpu.input, 5);
    gpu.input.set(cpu.input);
    for (let s = 0; s < 8; s++) cpu.labels[s] = gpu.labels[s] = (s * 7) % 3 === 0 ? 1 : 0;
    expect(Math.abs(gpu.gradient(6) - cpu.gradient(6))).toBeLessThan(1e-5);
    expect(normwiseError(gpu.grads, cpu.grads)).toBeLessThan(1e-4);
  });

  it('the same seed twice gives bit-identical weights (no float atomics, fixed summation order)', async () => {
    const weights: Uint32Array[] = [];
    for (let run = 0; run < 2; run++) {
      const gpu = await make(net(), 'gpu');
      initParams(gpu.plan, gpu.params, new Rng(9));
      gpu.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 1e-3, clipNorm: 0.5 });
      trainSteps(gpu, data(36), 60, 0.01);
      weights.push(new Uint32Array(Float32Array.from(gpu.params).buffer));
      await gpu.close();
    }
    expect(weights[1]).toEqual(weights[0]);
  });

  it('a run moves between devices: weights and optimizer state from the GPU go on on the CPU, and back', async () => {
    const [cpu, gpu] = await pair(net(), 8);
    const d = data(36);
    const spec: OptimizerSpec = { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: true };
    for (const c of [cpu, gpu]) c.setOptimizer(spec);
    trainSteps(gpu, d, 30, 0.1);
    // GPU -> CPU: what a checkpoint holds (params, stats, optimizer state)
    cpu.params.set(gpu.params);
    cpu.stats.set(gpu.stats);
    cpu.setOptimizerState(gpu.getOptimizerState());
    const onCpu = trainSteps(cpu, d, 20, 0.1, 30);
    const onGpu = trainSteps(gpu, d, 20, 0.1, 30);
    expect(maxRelative(onGpu, onCpu)).toBeLessThan(1e-3);
    // CPU -> GPU: a fresh GPU core given the CPU's state continues as the CPU does
    const next = await make(net(), 'gpu');
    next.setOptimizer(spec);
    next.params.set(cpu.params);
    next.setOptimizerState(cpu.getOptimizerState());
    expect(maxRelative(trainSteps(next, d, 20, 0.1, 50), trainSteps(cpu, d, 20, 0.1, 50))).toBeLessThan(1e-3);
  });
});
