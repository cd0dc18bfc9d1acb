/**
 * `npm run bench [-- --data DIR] [--workers N] [--kernel K] [--runs R]`: the gradient core's speed.
 *
 * 1. The three products of the first layer of the reference network (B = 64, D = 12288,
 *    H = 256; 2·B·D·H = 402.7 MFLOP each), on one thread and on all threads: forward
 *    Z = X W^T + b, weight gradient dW = dZ^T X (with db), input gradient dX = dZ W. dZ is dense
 *    (random), so the figures count real multiply-adds. Then the whole first-layer step as in
 *    training (forward with the input packed into panels, then weight and bias gradients).
 * 2. Training images/s of 12288-256-64-1 (ReLU, BCE, batch 64) for each optimizer: whole steps
 *    (forward, loss, backward, fused update), with the data in memory: a few batches converted to
 *    float once, copied into the core's input buffer before each step (the copy is timed too).
 *    With --data DIR, 512 real images (decoded with the data pipeline, through its cache);
 *    without, random pixels in [0, 1) and random labels. The share of zeros in layer 0's dZ is
 *    printed: the core skips them, so the speed depends on it.
 * 3. Inference images/s (forward and sigmoid), same batches.
 * 4. Training with leaky ReLU (momentum and Adam): no zero gradients, the core's worst case.
 * Each figure is the median of R runs (default 9 for products, 7 runs of 20 steps for training).
 * Human-readable lines go to stderr; stdout gets one JSON object (the last line of the output).
 * Run it alone (e.g. under `flock /tmp/bench.lock`): other processes on the cores skew it.
 */
import { cpus, availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { initParams } from '../nn/init.ts';
import type { Architecture } from '../nn/architecture.ts';
import { Rng } from '../nn/rng.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { createCore, defaultWorkers, type Core, type KernelChoice } from '../core/index.ts';
import { JOB } from '../core/sync.ts';
import { BACKWARD_INPUT, BACKWARD_WEIGHTS } from '../core/thread.ts';
import type { WasmCore } from '../core/wasm-core.ts';
import { median } from './common.ts';

const B = 64;
const ARCH: Architecture = { inputSize: 64 * 64 * 3, hidden: [256, 64], activation: 'relu' };
const D = ARCH.inputSize;
const H = ARCH.hidden[0]!;
const FLOP = 2 * B * D * H;
const BATCHES = 8;

/**
 * Learning rates small enough that the ReLU units stay alive during the benchmark: the core skips
 * zero gradients, so a network whose units died would make the weight gradient look free.
 * Momentum is the classic form (v = beta v + g), PyTorch's; the same numbers are in
 * pytorch_reference.py.
 */
const OPTIMIZERS: [string, OptimizerSpec, number][] = [
  ['sgd', { type: 'sgd' }, 1e-3],
  ['momentum', { type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: false }, 1e-4],
  ['nesterov', { type: 'nesterov', beta: 0.9 }, 1e-4],
  ['rmsprop', { type: 'rmsprop', rho: 0.9, epsilon: 1e-8 }, 1e-4],
  ['adam', { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 1e-4],
];

const say = (line: string): void => void process.stderr.write(line + '\n');


/** Median milliseconds of `runs` calls of f, after `warm` untimed calls. */
function timeMs(f: () => void, runs: number, warm = 3): number {
  for (let i = 0; i < warm; i++) f();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function randomFill(a: Float32Array, rng: Rng, lo: number, hi: number): void {
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * rng.uniform();
}

/** BATCHES batches of inputs and labels, from the data folder or random. */
async function loadBatches(dir: string | undefined): Promise<{ inputs: Float32Array[]; labels: Float32Array[]; source: string }> {
  const inputs = Array.from({ length: BATCHES }, () => new Float32Array(B * D));
  const labels = Array.from({ length: BATCHES }, () => new Float32Array(B));
  if (dir === undefined) {
    const rng = new Rng(7);
    for (let k = 0; k < BATCHES; k++) {
      randomFill(inputs[k]!, rng, 0, 1);
      for (let s = 0; s < B; s++) labels[k]![s] = rng.uniform() < 0.5 ? 1 : 0;
    }
    return { inputs, labels, source: 'random pixels' };
  }
  const { loadDataset, batchSource, fillBatch } = await import('../data/index.ts');
  const preprocessing = { width: 64, height: 64, channels: 3 as const, fit: 'cover' as const, scale: 1 / 255, mean: null, std: null };
  const data = await loadDataset({ dir, preprocessing, limit: BATCHES * B });
  const source = batchSource(data.pixels, data.labels, preprocessing);
  const order = Uint32Array.from({ length: data.labels.length }, (_, i) => i);
  for (let k = 0; k < BATCHES; k++) fillBatch(source, order, (k * B) % Math.max(1, order.length - B + 1), B, inputs[k]!, labels[k]!);
  return { inputs, labels, source: `${data.labels.length} images of ${dir}` };
}

interface ProductFigures {
  forward: number;
  weightGradient: number;
  inputGradient: number;
  stepMs: number;
}

/** GFLOP/s of the three first-layer products, and the first-layer step time, on 1 or all threads. */
function measureProducts(core: WasmCore, split: boolean, runs: number): ProductFigures {
  const { memory, layout, job } = core._benchmarkAccess();
  const layer = layout.layers[0]!;
  const dZ = new Float32Array(memory.buffer, layer.dZ, B * H);
  const rng = new Rng(3);
  randomFill(dZ, rng, -1e-3, 1e-3); // dense: every multiply-add is done
  const saved = Float32Array.from(core.input);
  const gflops = (ms: number): number => FLOP / ms / 1e6;
  const forward = timeMs(() => job(JOB.FORWARD, 0, B, 0, split), runs);
  job(JOB.FORWARD, 0, B, 1, split); // packs the input panels the weight gradient reads
  const weightGradient = timeMs(() => job(JOB.BACKWARD, 0, B, BACKWARD_WEIGHTS, split), runs);
  const inputGradient = timeMs(() => job(JOB.BACKWARD, 0, B, BACKWARD_INPUT, split), runs); // writes dX over the batch
  core.input.set(saved);
  const stepMs = timeMs(() => {
    job(JOB.FORWARD, 0, B, 1, split);
    job(JOB.BACKWARD, 0, B, BACKWARD_WEIGHTS, split);
  }, runs);
  return { forward: gflops(forward), weightGradient: gflops(weightGradient), inputGradient: gflops(inputGradient), stepMs };
}

/** Median images/s over `runs` runs of `steps` training steps, and the share of zeros in layer 0's dZ at the end. */
async function measureTraining(
  core: Core,
  spec: OptimizerSpec,
  lr: number,
  batches: { inputs: Float32Array[]; labels: Float32Array[] },
  runs: number,
  steps: number,
): Promise<{ rate: number; zeros: number | null }> {
  initParams(core.arch, core.params, new Rng(1));
  core.setOptimizer(spec);
  let k = 0;
  const step = (): void => {
    core.input.set(batches.inputs[k]!);
    core.labels.set(batches.labels[k]!);
    core.trainStep(B, lr);
    k = (k + 1) % BATCHES;
  };
  for (let i = 0; i < 5; i++) step();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    await new Promise((resolve) => setImmediate(resolve)); // as the training loop yields between batches
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    rates.push((steps * B * 1000) / (performance.now() - t0));
  }
  let zeros: number | null = null;
  if (core.kernel !== 'js') {
    const { memory, layout } = (core as WasmCore)._benchmarkAccess();
    const dZ = new Float32Array(memory.buffer, layout.layers[0]!.dZ, B * H);
    zeros = dZ.reduce((n, v) => (v === 0 ? n + 1 : n), 0) / dZ.length;
  }
  return { rate: median(rates), zeros };
}

async function measureInference(core: Core, batches: { inputs: Float32Array[] }, runs: number, steps: number): Promise<number> {
  initParams(ARCH, core.params, new Rng(1));
  const out = new Float32Array(B);
  const rates: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      core.input.set(batches.inputs[i % BATCHES]!);
      core.predict(B, out);
    }
    if (r > 0) rates.push((steps * B * 1000) / (performance.now() - t0));
  }
  return median(rates);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      workers: { type: 'string' },
      kernel: { type: 'string', default: 'auto' },
      runs: { type: 'string' },
    },
  });
  const workers = values.workers === undefined ? defaultWorkers() : Number(values.workers);
  const runs = values.runs === undefined ? 7 : Number(values.runs);
  const batches = await loadBatches(values.data);
  const core = await createCore({ arch: ARCH, maxBatch: B, loss: 'bce', workers, kernel: values.kernel as KernelChoice });
  try {
    const threads = `${core.workers} thread${core.workers === 1 ? '' : 's'}`;
    say(`nn-train gradient core benchmark: kernel ${core.kernel}, ${threads} (the calling thread + ${core.workers - 1} worker${core.workers === 2 ? '' : 's'})`);
    say(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, Node ${process.versions.node}`);

    let one: ProductFigures | null = null;
    let all: ProductFigures | null = null;
    if (core.kernel !== 'js') {
      say(`\nfirst layer, B=${B}, D=${D}, H=${H}: ${(FLOP / 1e6).toFixed(1)} MFLOP per product, dense dZ, median of ${runs + 2} calls`);
      randomFill(core.input, new Rng(2), 0, 1);
      initParams(ARCH, core.params, new Rng(1));
      one = measureProducts(core as WasmCore, false, runs + 2);
      all = core.workers > 1 ? measureProducts(core as WasmCore, true, runs + 2) : one;
      const row = (name: string, shape: string, key: 'forward' | 'weightGradient' | 'inputGradient'): void =>
        say(`  ${name.padEnd(16)} ${shape.padEnd(34)} 1 thread ${one![key].toFixed(1).padStart(6)} GFLOP/s   ${threads} ${all![key].toFixed(1).padStart(6)} GFLOP/s`);
      row('forward', `Z[${B},${H}] = X[${B},${D}] W^T + b`, 'forward');
      row('weight gradient', `dW[${H},${D}] = dZ^T X, db`, 'weightGradient');
      row('input gradient', `dX[${B},${D}] = dZ[${B},${H}] W`, 'inputGradient');
      say(`  first-layer step (input packing, forward, weight and bias gradients): ${one.stepMs.toFixed(2)} ms on 1 thread, ${all.stepMs.toFixed(2)} ms on ${threads}`);
    }

    const trainRuns = core.kernel === 'js' ? 3 : runs;
    const steps = core.kernel === 'js' ? 2 : 20;
    say(`\ntraining ${ARCH.inputSize}-${ARCH.hidden.join('-')}-1 (ReLU, BCE), batch ${B}, ${batches.source} in memory, median of ${trainRuns} runs of ${steps} steps`);
    const train: Record<string, number> = {};
    const trainLine = (name: string, lr: number, r: { rate: number; zeros: number | null }): void => {
      const zeros = r.zeros === null ? '' : `   ${(100 * r.zeros).toFixed(0).padStart(3)}% of layer-0 dZ zero`;
      say(`  ${name.padEnd(10)} lr ${lr.toExponential(0).padEnd(5)} ${r.rate.toFixed(0).padStart(6)} images/s ${((B * 1000) / r.rate).toFixed(2).padStart(7)} ms per batch${zeros}`);
    };
    for (const [name, spec, lr] of OPTIMIZERS) {
      const r = await measureTraining(core, spec, lr, batches, trainRuns, steps);
      train[name] = r.rate;
      trainLine(name, lr, r);
    }
    const inference = await measureInference(core, batches, trainRuns, steps * 2);
    say(`\ninference (forward and sigmoid), batch ${B}: ${inference.toFixed(0)} images/s`);

    // The core skips zero gradients (after ReLU); leaky ReLU has none: the worst case.
    const leakyArch: Architecture = { ...ARCH, activation: 'leaky_relu' };
    const leaky = await createCore({ arch: leakyArch, maxBatch: B, loss: 'bce', workers, kernel: values.kernel as KernelChoice });
    const leakyTrain: Record<string, number> = {};
    try {
      say(`\nthe same with leaky ReLU (no zero gradients to skip), median of ${trainRuns} runs of ${steps} steps`);
      for (const [name, spec, lr] of OPTIMIZERS.filter(([n]) => n === 'momentum' || n === 'adam')) {
        const r = await measureTraining(leaky, spec, lr, batches, trainRuns, steps);
        leakyTrain[name] = r.rate;
        trainLine(name, lr, r);
      }
    } finally {
      await leaky.close();
    }

    const round = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 10) / 10);
    const result = {
      workers: core.workers,
      kernel: core.kernel,
      gflops: { forward: round(all?.forward), weightGradient: round(all?.weightGradient), inputGradient: round(all?.inputGradient) },
      gflopsOneThread: { forward: round(one?.forward), weightGradient: round(one?.weightGradient), inputGradient: round(one?.inputGradient) },
      firstLayerStepMs: round(all?.stepMs),
      trainImagesPerSecond: Object.fromEntries(Object.entries(train).map(([k, v]) => [k, Math.round(v)])),
      inferenceImagesPerSecond: Math.round(inference),
      leakyReluTrainImagesPerSecond: Object.fromEntries(Object.entries(leakyTrain).map(([k, v]) => [k, Math.round(v)])),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await core.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
