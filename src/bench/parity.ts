/**
 * Step-for-step parity with PyTorch: the same network, the same initial weights and the same
 * batches, trained 200 steps by nn-train's gradient core and by PyTorch; the loss of every step and
 * the weights after the last one must agree.
 *
 *   npm run bench:parity -- --data DIR [--python "CMD"] [--config configs/shared-recipe/baseline.json] [--images 1280]
 *       [--batch 64] [--steps 200] [--out runs/parity] [--workers N] [--kernel auto|js] [--seed 1]
 *       [--precision float32|float64] [--skip-python]
 *
 * What it does:
 *   1. loads --images of the labelled photos in --data (a fixed stratified sample), decoded as the
 *      config decodes them, standardised per channel over that sample; no augmentation;
 *   2. writes to --out (which must lie under the current folder: PyTorch may run in a chroot that
 *      sees only it) the network (the config's layers without dropout), the initial weights of the
 *      config's init and seed, the preprocessed pixels, the labels, and which images make each step's
 *      batch (the seeded epoch order of nn-train over the sample, cycled);
 *   3. trains each run of RUNS for --steps steps with the gradient core (batch norm in training
 *      mode; the optimizer and schedule as nn-train's training loop builds them) and writes the
 *      per-step losses and the final weights and batch-norm statistics; then again from the initial
 *      weights nudged by one unit in the last place (`nudged`): the rounding noise floor;
 *   4. runs `CMD src/bench/pytorch_parity.py OUT` (CMD defaults to python3; on a machine with the
 *      project's modern PyTorch: --python "../shared/tools/modern-pytorch.sh run python3"), which
 *      does the same in PyTorch (float32) and writes its results beside;
 *   5. prints the table and exits 1 when a run is out of tolerance (compareRun says when).
 * --compare-only redoes step 5 on a finished folder; --runs a,b trains only those runs.
 *
 * --precision float64 trains both sides in double: nn-train's side on the TypeScript reference core
 * with float64 buffers (JsCore; --workers and --kernel do not apply), PyTorch's with float64
 * tensors, from the same float32 problem files (exact in double); results are written as .f64 and
 * the nudged run moves each weight by one float64 unit. Without float32 rounding to amplify, this
 * shows whether the two compute the same training step after step: the formulas, not the rounding.
 * The reference core is ~50x slower than the WebAssembly one, so use a narrow network
 * (src/bench/parity-narrow.json: the baseline's layers at a quarter of the width, 32x32).
 *
 * Files of --out (float32 and int32, little-endian, C order; described by manifest.json, whose
 * "precision" says whether the results are .f32 or .f64):
 *   images.f32 (N, H, W, C) network inputs after preprocessing   labels.f32 (N)   order.i32 (steps, batch)
 *   init.f32 the weights in nn-train's flat layout (manifest "params": each slice's layer, name,
 *   offset, length; conv weights (F, k, k, C), dense weights (units, inputs) with the inputs in
 *   H, W, C order)   <side>-<run>.json {"losses": [...]}   <side>-<run>-params.f32, -stats.f32
 *   (sides: nn, nn-nudged, torch)
 *
 * Why the noise floor: float32 sums in another order differ by ~1e-7 relative, and training
 * amplifies such differences; Adam most of all, since it scales every weight's step to about lr
 * whatever the size of its gradient, so a gradient that is mostly rounding noise still moves its
 * weight by a full step in a direction rounding decides. Two runs of nn-train itself, started one
 * unit in the last place apart, measure that amplification; PyTorch can be expected no closer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { reportError } from '../cli/common.ts';
import { loadConfigFile } from '../config/load.ts';
import { optimizerSchema, type GradientOptimizerConfig } from '../config/schema.ts';
import { createCore } from '../core/core.ts';
import { JsCore } from '../core/js-core.ts';
import { batchSource, channelStats, epochOrder, fillBatch } from '../data/batches.ts';
import { loadDataset } from '../data/dataset.ts';
import { EXIT, UserError } from '../errors.ts';
import { initParams } from '../nn/init.ts';
import type { FloatBuffer } from '../optim/optimizer.ts';
import type { LayerSpec, NetworkSpec } from '../nn/layers/spec.ts';
import { planNetwork, type NetworkPlan } from '../nn/plan.ts';
import { Rng } from '../random/rng.ts';
import { gradientMethod } from '../train/engine.ts';
import { positiveOption } from './common.ts';
import { compareRun, GROWTH_STEPS, LOSS_TOLERANCE, NOISE_FACTOR, nudged, WEIGHT_TOLERANCE, type Side } from './parity-compare.ts';

/**
 * The optimizers compared: each as its config section (the optimizer fields of nn-train's config).
 * The rates are those at which 200 steps of this network stay predictable: at Adam's usual 1e-3
 * without warm-up the first step throws the loss to ~8 and the run becomes chaotic, so that two
 * nn-train runs whose initial weights differ by one unit in the last place part by 30 % in loss
 * within 200 steps (README-parity.md); no two float32 implementations can agree step for step there.
 */
const RUNS: { name: string; optimizer: Record<string, unknown> }[] = [
  { name: 'adam', optimizer: { type: 'adam', lr: 0.0001, weightDecay: 0.0005 } },
  { name: 'momentum', optimizer: { type: 'momentum', form: 'classic', beta: 0.9, lr: 0.001, weightDecay: 0.0005 } },
  // OneCycleLR over the run's steps: the schedule and Adam's cycled beta1 against PyTorch's.
  { name: 'adam-one-cycle', optimizer: { type: 'adam', lr: 0.0005, schedule: { type: 'one-cycle', warmup: 0.3 } } },
];

type Precision = 'float32' | 'float64';

interface Manifest {
  /** Of the training on both sides and of the result files (.f32 or .f64); the problem files are float32. */
  precision: Precision;
  input: NetworkSpec['input'];
  layers: LayerSpec[];
  images: number;
  batch: number;
  steps: number;
  seed: number;
  params: { layer: number; type: string; name: string; offset: number; length: number; decay: boolean }[];
  stats: { layer: number; name: string; offset: number; length: number }[];
  runs: { name: string; optimizer: GradientOptimizerConfig }[];
}

const say = (line: string) => process.stderr.write(line + '\n');

/** The file name ending of results in a precision. */
const suffix = (precision: Precision) => (precision === 'float64' ? '.f64' : '.f32');

function writeValues(path: string, a: FloatBuffer | Int32Array): void {
  writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function readValues(path: string, precision: Precision): FloatBuffer {
  if (!existsSync(path)) throw new UserError(`${path}: missing (did the PyTorch side run?)`);
  const bytes = readFileSync(path);
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return precision === 'float64' ? new Float64Array(copy) : new Float32Array(copy);
}

/** Steps 1-2: the sample, the network, the initial weights and the batches, written to `out`. */
async function exportProblem(
  configPath: string,
  data: string | undefined,
  images: number,
  batch: number,
  steps: number,
  seed: number,
  out: string,
  only: string | undefined,
  precision: Precision,
): Promise<{ manifest: Manifest; plan: NetworkPlan; network: NetworkSpec; inputs: Float32Array; labels: Float32Array; order: Int32Array; init: Float32Array }> {
  const config = loadConfigFile(configPath);
  const names = only?.split(',') ?? RUNS.map((r) => r.name);
  const unknown = names.find((n) => !RUNS.some((r) => r.name === n));
  if (unknown !== undefined) throw new UserError(`--runs: no run "${unknown}" (there are ${RUNS.map((r) => r.name).join(', ')})`);
  if (images % batch !== 0) throw new UserError(`--images ${images} must be a multiple of --batch ${batch} (every step a full batch)`);
  const layers = (config.model.layers ?? []).filter((l) => l.type !== 'dropout');
  if (layers.length === 0) throw new UserError(`${configPath}: model.layers is empty; the parity bench needs a layer list`);
  const network: NetworkSpec = { input: { height: config.data.height, width: config.data.width, channels: config.data.channels }, layers };
  const plan = planNetwork(network);
  const { width, height, channels, fit, resize } = config.data;
  const dir = data ?? config.data.train;
  say(`loading ${images} images of ${dir} at ${width}x${height}`);
  const dataset = await loadDataset({ dir, preprocessing: { width, height, channels, fit, resize }, limit: images });
  const n = dataset.labels.length;
  if (n !== images) throw new UserError(`${dir}: found ${n} labelled images, --images asks for ${images}`);
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const { mean, std } = channelStats(dataset.pixels, all, channels, dataset.inputSize);
  const geometry = { width, height, channels, decodeWidth: width, decodeHeight: height, cropLeft: 0, cropTop: 0, scale: 1 / 255, mean, std };
  const source = batchSource(dataset.pixels, dataset.labels, geometry);
  const inputs = new Float32Array(n * dataset.inputSize);
  const labels = new Float32Array(n);
  fillBatch(source, all, 0, n, inputs, labels, null);

  // Step s takes batch s mod (n / batch) of epoch floor(s / (n / batch)) of nn-train's seeded order.
  const perEpoch = n / batch;
  const order = new Int32Array(steps * batch);
  const epochImages = new Uint32Array(n);
  for (let s = 0; s < steps; s++) {
    if (s % perEpoch === 0) epochOrder(all, seed, s / perEpoch, epochImages);
    const start = (s % perEpoch) * batch;
    for (let i = 0; i < batch; i++) order[s * batch + i] = epochImages[start + i]!;
  }

  const init = new Float32Array(plan.paramCount);
  initParams(plan, init, new Rng(seed), config.model.init);

  const manifest: Manifest = {
    precision,
    input: network.input,
    layers,
    images: n,
    batch,
    steps,
    seed,
    params: plan.params.map((p) => ({ layer: p.layer, type: layers[p.layer]!.type, name: p.name, offset: p.offset, length: p.length, decay: p.decay })),
    stats: plan.stats.map((s) => ({ layer: s.layer, name: s.name, offset: s.offset, length: s.length })),
    runs: RUNS.filter((r) => names.includes(r.name)).map((r) => ({ name: r.name, optimizer: optimizerSchema.parse(r.optimizer) as GradientOptimizerConfig })),
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  writeValues(join(out, 'images.f32'), inputs);
  writeValues(join(out, 'labels.f32'), labels);
  writeValues(join(out, 'order.i32'), order);
  writeValues(join(out, 'init.f32'), init);
  return { manifest, plan, network, inputs, labels, order, init };
}

/**
 * Step 3: nn-train's side of one run from `init`, written as <side>-<run>*: on the gradient core in
 * float32, on the reference core with float64 buffers in float64.
 */
async function trainNnTrain(
  p: Awaited<ReturnType<typeof exportProblem>>,
  run: Manifest['runs'][number],
  init: FloatBuffer,
  side: string,
  out: string,
  workers: number | undefined,
  kernel: 'auto' | 'js',
): Promise<void> {
  const { manifest, network, plan, inputs, labels, order } = p;
  const { batch, steps } = manifest;
  const d = inputs.length / manifest.images;
  const core =
    manifest.precision === 'float64'
      ? new JsCore({ maxBatch: batch, loss: 'bce', seed: manifest.seed, array: Float64Array }, plan)
      : await createCore({ network, maxBatch: batch, loss: 'bce', seed: manifest.seed, kernel, ...(workers !== undefined ? { workers } : {}) });
  try {
    core.params.set(init);
    const method = gradientMethod(core, run.optimizer, manifest.images / batch, steps);
    const losses: number[] = [];
    const started = performance.now();
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < batch; i++) {
        const image = order[s * batch + i]!;
        core.input.set(inputs.subarray(image * d, (image + 1) * d), i * d);
        core.labels[i] = labels[image]!;
      }
      losses.push(method.trainBatch(batch, s));
    }
    const seconds = (performance.now() - started) / 1000;
    const how = `${manifest.precision}, ${core.kernel}, ${core.workers} worker${core.workers === 1 ? '' : 's'}`;
    say(`${side} ${run.name}: ${steps} steps in ${seconds.toFixed(1)} s (${how}); loss ${losses[0]!.toFixed(4)} -> ${losses.at(-1)!.toFixed(4)}`);
    writeFileSync(join(out, `${side}-${run.name}.json`), JSON.stringify({ losses }) + '\n');
    const end = suffix(manifest.precision);
    writeValues(join(out, `${side}-${run.name}-params${end}`), core.params);
    writeValues(join(out, `${side}-${run.name}-stats${end}`), core.stats);
  } finally {
    await core.close();
  }
}

function readSide(out: string, side: string, run: string, precision: Precision): Side {
  const json = join(out, `${side}-${run}.json`);
  if (!existsSync(json)) throw new UserError(`${json}: missing (did the ${side === 'torch' ? 'PyTorch' : 'nn-train'} side run?)`);
  const { losses } = JSON.parse(readFileSync(json, 'utf8')) as { losses: number[] };
  const end = suffix(precision);
  return { losses, params: readValues(join(out, `${side}-${run}-params${end}`), precision), stats: readValues(join(out, `${side}-${run}-stats${end}`), precision) };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', default: 'configs/shared-recipe/baseline.json' },
      data: { type: 'string' },
      images: { type: 'string' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', default: join('runs', 'parity') },
      python: { type: 'string', default: 'python3' },
      workers: { type: 'string' },
      kernel: { type: 'string', default: 'auto' },
      precision: { type: 'string', default: 'float32' },
      'skip-python': { type: 'boolean', default: false },
      runs: { type: 'string' },
      'compare-only': { type: 'boolean', default: false },
    },
  });
  const images = positiveOption('images', values.images, 1280);
  const batch = positiveOption('batch', values.batch, 64);
  const steps = positiveOption('steps', values.steps, 200);
  const seed = positiveOption('seed', values.seed, 1);
  const workers = values.workers === undefined ? undefined : positiveOption('workers', values.workers, 1);
  if (values.kernel !== 'auto' && values.kernel !== 'js') throw new UserError(`--kernel: expected auto or js, found ${JSON.stringify(values.kernel)}`);
  const precision = values.precision;
  if (precision !== 'float32' && precision !== 'float64') throw new UserError(`--precision: expected float32 or float64, found ${JSON.stringify(precision)}`);
  const out = relative(process.cwd(), values.out);
  if (out.startsWith('..') || isAbsolute(out)) throw new UserError(`--out ${values.out}: must lie under the current folder (PyTorch may run in a chroot that sees only it)`);

  let manifest: Manifest;
  if (values['compare-only']) {
    const path = join(out, 'manifest.json');
    if (!existsSync(path)) throw new UserError(`${path}: missing (--compare-only reads a finished bench's folder)`);
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } else {
    const problem = await exportProblem(values.config, values.data, images, batch, steps, seed, out, values.runs, precision);
    manifest = problem.manifest;
    const init = precision === 'float64' ? Float64Array.from(problem.init) : problem.init;
    for (const run of manifest.runs) {
      await trainNnTrain(problem, run, init, 'nn', out, workers, values.kernel);
      await trainNnTrain(problem, run, nudged(init), 'nn-nudged', out, workers, values.kernel);
    }
  }
  if (!values['skip-python'] && !values['compare-only']) {
    const command = `${values.python} src/bench/pytorch_parity.py ${JSON.stringify(out)}`;
    say(`running ${command}`);
    const r = spawnSync(command, { shell: true, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new UserError(`${command}: exit ${r.status ?? r.signal}`);
  }

  const rows = manifest.runs.map((run) =>
    compareRun(
      run.name,
      readSide(out, 'nn', run.name, manifest.precision),
      readSide(out, 'torch', run.name, manifest.precision),
      readSide(out, 'nn-nudged', run.name, manifest.precision),
      manifest,
    ),
  );
  const e = (x: number) => x.toExponential(2);
  process.stdout.write(
    'run\tloss diff (max rel)\tat step\trounding noise\tdiff / noise envelope (max)\tweight diff / RMS\tin\trounding noise\tBN stat diff / RMS\trounding noise\tverdict\n',
  );
  for (const r of rows) {
    const cells = [r.name, e(r.lossDiff), r.lossStep, e(r.lossNoise), r.lossOverNoise.toFixed(2), e(r.weightDiff), r.weightWhere, e(r.weightNoise), e(r.statDiff), e(r.statNoise), r.pass ? 'pass' : 'FAIL'];
    process.stdout.write(cells.join('\t') + '\n');
  }
  // How the differences grow: nn-train against PyTorch beside nn-train against itself from the nudged weights.
  const shown = GROWTH_STEPS.filter((s) => s <= manifest.steps);
  say(`largest relative loss difference up to step ${shown.join(', ')} (first step above ${LOSS_TOLERANCE})`);
  for (const r of rows) {
    say(`  ${r.name.padEnd(16)} vs PyTorch  ${r.growth.map(e).join(' ')}  (${r.firstApart ?? '-'})`);
    say(`  ${''.padEnd(16)} vs nudged   ${r.growthNoise.map(e).join(' ')}  (${r.firstApartNoise ?? '-'})`);
  }
  const tolerances = { loss: LOSS_TOLERANCE, weights: WEIGHT_TOLERANCE, noiseFactor: NOISE_FACTOR };
  process.stdout.write(JSON.stringify({ bench: 'parity', precision: manifest.precision, images: manifest.images, batch: manifest.batch, steps: manifest.steps, seed: manifest.seed, tolerances, runs: rows }) + '\n');
  return rows.every((r) => r.pass) ? EXIT.ok : EXIT.failure;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => (process.exitCode = reportError('parity', err)),
);
