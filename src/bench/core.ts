/**
 * `npm run bench [-- --model mlp|cnn] [--data DIR] [--workers N] [--kernel K] [--runs R] [--batch N]
 * [--device cpu|gpu]`: the gradient core's speed on a reference network, batch 64 (or N): the MLP 12288-256-64-1 (default) or the
 * reference CNN (--model cnn: input 64x64x3; 4 blocks of [conv 3x3 same, no bias -> batch norm ->
 * ReLU -> max pool 2x2] with 32, 64, 128, 256 filters; flatten 4x4x256; dense 256 -> ReLU -> dense 1;
 * about 0.12 GFLOP forward and 0.37 GFLOP per training image). pytorch_reference.py measures the
 * same in PyTorch.
 *
 * 1. Per layer of the reference network (B = 64): forward and backward GFLOP/s
 *    during training steps, from the core's own profile (Core.profile), on one thread and on all
 *    threads. Layer 0's forward also packs its input into panels; its backward is the weight
 *    gradient (and bias) only, as in training (nothing needs the gradient of the input batch).
 *    GFLOP/s count the multiply-adds of the layer's definition (a convolution's direct sums, also
 *    when the core computes it with fewer, by Winograd's method); every layer's milliseconds too.
 * 2. Training images/s of 12288-256-64-1 (ReLU, BCE, batch 64) for each optimizer: whole steps
 *    (forward, loss, backward, update), with the data in memory: a few batches converted to
 *    float once, copied into the core's input buffer before each step (the copy is timed too).
 *    With --data DIR, 512 real images (decoded with the data pipeline, through its cache);
 *    without, random pixels in [0, 1) and random labels.
 * 3. Inference images/s (forward and sigmoid), same batches.
 * 4. MLP only: training with leaky ReLU (momentum and Adam): no zero gradients, the core's worst
 *    case (the dense kernels skip the zeros that ReLU leaves in dZ).
 * With --device gpu, the GPU core (src/core/gpu) instead: 1. becomes per-layer milliseconds from
 *    timestamp queries (core-gpu-layers.ts; skipped, saying so, on an adapter without them), 2. and
 *    3. the same figures, the clock stopped only once the GPU has finished the steps; no 4.; then
 *    5. Adam training as nn-train runs it on a GPU: 2,048 images (80x80, random or from --data)
 *    held on the GPU, each batch described in rows (configs/cnn.json's augmentation: flips, shifts
 *    of up to 8, brightness and contrast) by the calling thread and formed by the GPU.
 * Each figure is the median of R runs (default 7 runs of 20 steps for the MLP, of 4 for the CNN).
 * Human-readable lines go to stderr; stdout gets one JSON object (the last line of the output).
 * Run it alone (e.g. under `flock /tmp/bench.lock`): other processes on the cores skew it.
 */
import { cpus, availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { initParams } from '../nn/init.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import type { LayerSpec } from '../nn/layers/spec.ts';
import { denseStack, describeLayer } from '../nn/plan.ts';
import { Rng } from '../random/rng.ts';
import { shapeSize } from '../nn/shape.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { createCore, defaultWorkers, type Core, type KernelChoice } from '../core/index.ts';
import { coreLayer } from '../core/layers/index.ts';
import { median, positiveOption } from './common.ts';
import { gpuLayerTimes } from './core-gpu-layers.ts';

/** The batch size (--batch; 64 by default, as pytorch_reference.py). */
let B = 64;
const INPUT = { height: 64, width: 64, channels: 3 };
const MLP: NetworkSpec = { input: INPUT, layers: denseStack([256, 64], 'relu') };
const CNN: NetworkSpec = {
  input: INPUT,
  layers: [
    ...[32, 64, 128, 256].flatMap((filters): LayerSpec[] => [
      { type: 'conv', filters, kernel: 3, stride: 1, padding: 'same', bias: false },
      { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
      { type: 'relu' },
      { type: 'maxpool', size: 2, stride: 2 },
    ]),
    { type: 'flatten' },
    { type: 'dense', units: 256, bias: true },
    { type: 'relu' },
    { type: 'dense', units: 1, bias: true },
  ],
};
const MODELS = {
  mlp: { network: MLP, name: `${shapeSize(INPUT)}-256-64-1 (ReLU, BCE)`, steps: 20 },
  cnn: { network: CNN, name: 'the reference CNN (4 x [conv 3x3, batch norm, ReLU, max pool], dense 256, BCE)', steps: 4 },
} as const;
const D = shapeSize(INPUT);
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

interface LayerFigures {
  /** Per layer: GFLOP/s of its forward and backward jobs (null for layers without multiply-adds). */
  forward: (number | null)[];
  backward: (number | null)[];
  /** Per layer: milliseconds per batch of its forward and backward jobs. */
  forwardMs: number[];
  backwardMs: number[];
  stepMs: number;
}

/** Layers whose work() counts multiply-adds (the others count element operations). */
const PRODUCT_LAYERS = new Set(['dense', 'conv']);

/**
 * Per-layer GFLOP/s over training steps, from the core's profile: flops = 2 x the driver's work()
 * (multiply-adds) forward; backward twice that (weight and input gradients), once for layer 0.
 */
async function measureLayers(core: Core, batches: { inputs: Float32Array[]; labels: Float32Array[] }, runs: number): Promise<LayerFigures> {
  const { plan } = core;
  initParams(plan, core.params, new Rng(1));
  core.setOptimizer({ type: 'sgd' });
  const forward: number[][] = plan.layers.map(() => []);
  const backward: number[][] = plan.layers.map(() => []);
  const forwardMs: number[][] = plan.layers.map(() => []);
  const backwardMs: number[][] = plan.layers.map(() => []);
  const stepMs: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    core.resetProfile();
    const t0 = performance.now();
    for (let k = 0; k < BATCHES; k++) {
      core.input.set(batches.inputs[k]!);
      core.labels.set(batches.labels[k]!);
      core.trainStep(B, 1e-4, k);
    }
    if (r === 0) continue; // warm-up round
    stepMs.push((performance.now() - t0) / BATCHES);
    const profile = core.profile!;
    plan.layers.forEach((layer, l) => {
      const work = coreLayer(layer.spec).work(layer, B);
      forward[l]!.push((2 * work * BATCHES) / profile.forward[l]! / 1e9);
      backward[l]!.push(((l === 0 ? 2 : 4) * work * BATCHES) / profile.backward[l]! / 1e9);
      forwardMs[l]!.push((1000 * profile.forward[l]!) / BATCHES);
      backwardMs[l]!.push((1000 * profile.backward[l]!) / BATCHES);
    });
  }
  const gflops = (values: number[], l: number) => {
    const layer = plan.layers[l]!;
    return PRODUCT_LAYERS.has(layer.spec.type) && coreLayer(layer.spec).work(layer, B) >= B * 1000 ? median(values) : null;
  };
  return {
    forward: forward.map(gflops),
    backward: backward.map(gflops),
    forwardMs: forwardMs.map((v) => median(v)),
    backwardMs: backwardMs.map((v) => median(v)),
    stepMs: median(stepMs),
  };
}

/** Median images/s over `runs` runs of `steps` training steps, and the share of zeros in layer 0's dZ at the end. */
async function measureTraining(
  core: Core,
  spec: OptimizerSpec,
  lr: number,
  batches: { inputs: Float32Array[]; labels: Float32Array[] },
  runs: number,
  steps: number,
): Promise<{ rate: number }> {
  initParams(core.plan, core.params, new Rng(1));
  core.setOptimizer(spec);
  let k = 0;
  const step = (): void => {
    core.input.set(batches.inputs[k]!);
    core.labels.set(batches.labels[k]!);
    core.trainStep(B, lr, k);
    k = (k + 1) % BATCHES;
  };
  // The GPU core's trainStep returns once the step is submitted: the clock stops when its losses are back.
  const settle = () => core.takeLosses?.(true, () => {});
  for (let i = 0; i < 5; i++) step();
  settle();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    await new Promise((resolve) => setImmediate(resolve)); // as the training loop yields between batches
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    settle();
    rates.push((steps * B * 1000) / (performance.now() - t0));
  }
  return { rate: median(rates) };
}

async function measureInference(core: Core, batches: { inputs: Float32Array[] }, runs: number, steps: number): Promise<number> {
  initParams(core.plan, core.params, new Rng(1));
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
      model: { type: 'string', default: 'mlp' },
      batch: { type: 'string' },
      device: { type: 'string', default: 'cpu' },
    },
  });
  if (values.device !== 'cpu' && values.device !== 'gpu') throw new Error(`--device: expected cpu or gpu, found ${JSON.stringify(values.device)}`);
  B = positiveOption('batch', values.batch, 64);
  if (values.device === 'gpu') return benchGpu(values.model!, values.data, values.runs);
  if (!(values.model! in MODELS)) throw new Error(`--model: expected mlp or cnn, found ${JSON.stringify(values.model)}`);
  const modelName = values.model as keyof typeof MODELS;
  const model = MODELS[modelName];
  const workers = values.workers === undefined ? defaultWorkers() : Number(values.workers);
  const runs = values.runs === undefined ? 7 : Number(values.runs);
  const batches = await loadBatches(values.data);
  const core = await createCore({ network: model.network, maxBatch: B, loss: 'bce', workers, kernel: values.kernel as KernelChoice });
  try {
    const threads = `${core.workers} thread${core.workers === 1 ? '' : 's'}`;
    say(`nn-train gradient core benchmark: kernel ${core.kernel}, ${threads} (the calling thread + ${core.workers - 1} worker${core.workers === 2 ? '' : 's'})`);
    say(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, Node ${process.versions.node}`);

    let one: LayerFigures | null = null;
    let all: LayerFigures | null = null;
    if (core.kernel !== 'js') {
      say(`\nper layer, training steps at batch ${B}, GFLOP/s from the core's profile, median of ${runs} rounds of ${BATCHES} steps`);
      const profiled = async (threads: number) => {
        const c = await createCore({ network: model.network, maxBatch: B, loss: 'bce', workers: threads, kernel: values.kernel as KernelChoice, profile: true });
        try {
          return await measureLayers(c, batches, runs);
        } finally {
          await c.close();
        }
      };
      one = await profiled(1);
      all = core.workers > 1 ? await profiled(core.workers) : one;
      const cell = (x: number | null) => (x === null ? '-' : x.toFixed(1)).padStart(6);
      const ms = (x: number) => x.toFixed(2).padStart(7);
      core.plan.layers.forEach((layer, l) => {
        if (modelName === 'mlp' && one!.forward[l] === null) return;
        say(
          `  [${String(l).padStart(2)}] ${describeLayer(layer.spec).padEnd(modelName === 'mlp' ? 22 : 42)} ` +
            `forward 1 thread ${cell(one!.forward[l]!)}  ${threads} ${cell(all!.forward[l]!)}   backward 1 thread ${cell(one!.backward[l]!)}  ${threads} ${cell(all!.backward[l]!)} GFLOP/s` +
            (modelName === 'mlp' ? '' : `   ${threads}: ${ms(all!.forwardMs[l]!)} + ${ms(all!.backwardMs[l]!)} ms`),
        );
      });
      say(`  training step: ${one.stepMs.toFixed(2)} ms on 1 thread, ${all.stepMs.toFixed(2)} ms on ${threads}`);
    }

    const trainRuns = core.kernel === 'js' ? 3 : runs;
    const steps = core.kernel === 'js' ? 2 : model.steps;
    say(`\ntraining ${model.name}, batch ${B}, ${batches.source} in memory, median of ${trainRuns} runs of ${steps} steps`);
    const train: Record<string, number> = {};
    const trainLine = (name: string, lr: number, r: { rate: number }): void => {
      say(`  ${name.padEnd(10)} lr ${lr.toExponential(0).padEnd(5)} ${r.rate.toFixed(0).padStart(6)} images/s ${((B * 1000) / r.rate).toFixed(2).padStart(7)} ms per batch`);
    };
    for (const [name, spec, lr] of OPTIMIZERS) {
      const r = await measureTraining(core, spec, lr, batches, trainRuns, steps);
      train[name] = r.rate;
      trainLine(name, lr, r);
    }
    const inference = await measureInference(core, batches, trainRuns, steps * 2);
    say(`\ninference (forward and sigmoid), batch ${B}: ${inference.toFixed(0)} images/s`);

    // The core skips zero gradients (after ReLU); leaky ReLU has none: the worst case.
    const leakyTrain: Record<string, number> = {};
    const leaky = modelName === 'mlp' ? await createCore({ network: { input: INPUT, layers: denseStack([256, 64], 'leaky_relu') }, maxBatch: B, loss: 'bce', workers, kernel: values.kernel as KernelChoice }) : null;
    if (leaky) {
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
    }

    const round = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 10) / 10);
    const result = {
      model: modelName,
      workers: core.workers,
      kernel: core.kernel,
      layerGflops: all && { forward: all.forward.map((x) => round(x ?? undefined)), backward: all.backward.map((x) => round(x ?? undefined)) },
      layerGflopsOneThread: one && { forward: one.forward.map((x) => round(x ?? undefined)), backward: one.backward.map((x) => round(x ?? undefined)) },
      layerMs: all && { forward: all.forwardMs.map((x) => Math.round(x * 100) / 100), backward: all.backwardMs.map((x) => Math.round(x * 100) / 100) },
      trainStepMs: round(all?.stepMs),
      trainImagesPerSecond: Object.fromEntries(Object.entries(train).map(([k, v]) => [k, Math.round(v)])),
      inferenceImagesPerSecond: Math.round(inference),
      ...(leaky && { leakyReluTrainImagesPerSecond: Object.fromEntries(Object.entries(leakyTrain).map(([k, v]) => [k, Math.round(v)])) }),
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

/** --device gpu: per-layer milliseconds (timestamp queries), training images/s per optimizer, inference images/s on the GPU core. */
async function benchGpu(modelOption: string, dataDir: string | undefined, runsOption: string | undefined): Promise<void> {
  if (!(modelOption in MODELS)) throw new Error(`--model: expected mlp or cnn, found ${JSON.stringify(modelOption)}`);
  const modelName = modelOption as keyof typeof MODELS;
  const model = MODELS[modelName];
  const runs = positiveOption('runs', runsOption, 7);
  const batches = await loadBatches(dataDir);
  say(`nn-train GPU core benchmark: ${model.name}, batch ${B}, ${batches.source}; machine ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`);
  const layers = await gpuLayerTimes(model.network, B, batches.inputs[0]!, batches.labels[0]!, runs);
  const core = await createCore({ network: model.network, maxBatch: B, loss: 'bce', device: 'gpu' });
  try {
    say(`device: ${core.kernel}`);
    if ('skipped' in layers) say(`\nper layer: skipped (${layers.skipped})`);
    else {
      say(`\nper layer, one SGD training step at batch ${B}, each layer in a compute pass of its own, from timestamp queries, median of ${runs} steps`);
      const ms = (x: number) => x.toFixed(3).padStart(8);
      core.plan.layers.forEach((layer, l) => say(`  [${String(l).padStart(2)}] ${describeLayer(layer.spec).padEnd(42)} forward ${ms(layers.forwardMs[l]!)} ms   backward ${ms(layers.backwardMs[l]!)} ms`));
      say(`  loss ${ms(layers.lossMs)} ms, SGD update ${ms(layers.updateMs)} ms`);
    }
    say(`\ntraining, batch ${B}, ${batches.source} in memory, median of ${runs} runs of ${model.steps} steps (timed until the GPU has finished them)`);
    const train: Record<string, number> = {};
    for (const [name, spec, lr] of OPTIMIZERS) {
      const r = await measureTraining(core, spec, lr, batches, runs, model.steps);
      train[name] = r.rate;
      say(`  ${name.padEnd(10)} lr ${lr.toExponential(0).padEnd(5)} ${r.rate.toFixed(0).padStart(7)} images/s ${((B * 1000) / r.rate).toFixed(2).padStart(8)} ms per batch`);
    }
    const inference = await measureInference(core, batches, runs, model.steps * 2);
    say(`\ninference (forward and sigmoid; one readback per batch), batch ${B}: ${inference.toFixed(0)} images/s`);
    // Last: once the images are held, every call reads its batch through the rows.
    const held = await measureHeldTraining(core, dataDir, runs, model.steps);
    say(`\ntraining (adam) from ${HELD_IMAGES} images held on the GPU, cnn.json's augmentation formed there, batch ${B}: ` + (typeof held === 'string' ? `skipped (${held})` : `${held.toFixed(0)} images/s`));
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const result = {
      model: modelName,
      device: 'gpu',
      kernel: core.kernel,
      batch: B,
      layerMs: 'skipped' in layers ? null : { forward: layers.forwardMs.map(round3), backward: layers.backwardMs.map(round3), loss: round3(layers.lossMs), update: round3(layers.updateMs) },
      layerMsSkipped: 'skipped' in layers ? layers.skipped : null,
      trainImagesPerSecond: Object.fromEntries(Object.entries(train).map(([k, v]) => [k, Math.round(v)])),
      inferenceImagesPerSecond: Math.round(inference),
      heldTrainImagesPerSecond: typeof held === 'string' ? null : Math.round(held),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await core.close();
  }
}

/** Images the held-images measurement keeps on the GPU. */
const HELD_IMAGES = 2048;

/**
 * Median images/s of Adam training steps whose batches the GPU forms from held images (5. of the
 * module comment), or why the images could not be held. Each step: the rows of a batch written on
 * this thread (fillBatchRows, as the training loop does), then trainStep.
 */
async function measureHeldTraining(core: Core, dataDir: string | undefined, runs: number, steps: number): Promise<number | string> {
  const { batchSource, epochOrder, fillBatchRows } = await import('../data/batches.ts');
  const { EpochAugmentation } = await import('../data/augment.ts');
  const geometry = { width: 64, height: 64, channels: 3 as const, decodeWidth: 80, decodeHeight: 80, cropLeft: 8, cropTop: 8 };
  let pixels: Uint8Array;
  let labels: Uint8Array;
  if (dataDir === undefined) {
    const rng = new Rng(5);
    pixels = new Uint8Array(HELD_IMAGES * 80 * 80 * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
    labels = Uint8Array.from({ length: HELD_IMAGES }, () => rng.int(2));
  } else {
    const { loadDataset } = await import('../data/index.ts');
    const data = await loadDataset({ dir: dataDir, preprocessing: { width: 80, height: 80, channels: 3, fit: 'cover' }, limit: HELD_IMAGES });
    ({ pixels, labels } = data);
  }
  const count = labels.length;
  if (count < B) return `${count} images, fewer than a batch`;
  const source = batchSource(pixels, labels, { ...geometry, scale: 1 / 255, mean: [0.49, 0.45, 0.41], std: [0.25, 0.24, 0.24] });
  const why = core.holdImages!({ pixels, count, ...geometry, table: source.table });
  if (why !== null) return why;
  const augmentation = new EpochAugmentation({ flip: true, shift: 8, brightness: 0.3, contrast: 0.3 }, count).draw(1, 0);
  const order = epochOrder(Uint32Array.from({ length: count }, (_, i) => i), 1, 0);
  initParams(core.plan, core.params, new Rng(1));
  core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  let k = 0;
  const step = (): void => {
    fillBatchRows(source, order, (k * B) % (count - B + 1), B, core.rows!, core.labels, augmentation);
    core.trainStep(B, 1e-3, k++);
  };
  const settle = () => core.takeLosses?.(true, () => {});
  for (let i = 0; i < 5; i++) step();
  settle();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    settle();
    rates.push((steps * B * 1000) / (performance.now() - t0));
  }
  return median(rates);
}
