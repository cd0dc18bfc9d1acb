/**
 * Adam against the genetic algorithm: best validation loss against wall-clock training time, on
 * the same network, data, seed and gradient core.
 *
 *   npm run build && flock /tmp/bench.lock node dist-bench/bench/genetic.js [--data DIR] [options]
 *
 * Problems:
 *   xor      synthetic, in memory: XOR as four Gaussian clusters around (+-1, +-1) (label 1 when the
 *            signs differ), 2048 training and 512 validation points; network 2-8-1, tanh.
 *   images   with --data DIR: --limit images of DIR (default 10000) through the training pipeline
 *            (src/train/data.ts: decode, cache, stratified split 80/20), --size x --size grayscale
 *            (default 32); network (size*size)-16-1, ReLU (the network of configs/genetic.json).
 * Each method trains for --seconds (images, default 10) or --xor-seconds (default 2) of training
 * time; validation is off the clock. At 20 checkpoints, each sqrt(2) times later than the one
 * before (seconds/1024, ..., seconds), the weights the method would save (Adam's weights, the GA's
 * best individual) are validated. Everything is repeated --runs times (default 3) with the same
 * seed, so the runs differ only by the machine's timing noise; the table gives, per checkpoint,
 * the median of the best validation loss reached so far, and the time each method took to reach
 * the worse of the two final losses (a loss both reach).
 *
 * Output: progress on stderr; on stdout the table (TSV: problem, seconds, adam, genetic), one
 * "# ..." line per problem, and last one JSON line:
 *   {"bench":"genetic","runs":R,"workers":W,"kernel":K,"problems":[{"name","parameters","train",
 *    "validation","seconds","timeToTarget":{"loss","adam","genetic"},"methods":{"adam":{"settings",
 *    "checkpoints":[[seconds,bestValLoss],...],"final":{...}},"genetic":{...}}}]}
 */
import { parseArgs } from 'node:util';
import { configSchema, networkSpec, type Config, type GeneticConfig, type GradientOptimizerConfig } from '../config/schema.ts';
import { createCore, type Core } from '../core/index.ts';
import { EXIT, UserError } from '../errors.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { denseStack, planNetwork } from '../nn/plan.ts';
import { initParams } from '../nn/init.ts';
import { Rng } from '../random/rng.ts';
import { reportError } from '../cli/common.ts';
import { epochOrder, fillBatch } from '../data/batches.ts';
import { prepareData } from '../train/data.ts';
import { gradientMethod, type TrainMethod } from '../train/engine.ts';
import { geneticMethod } from '../train/genetic-method.ts';
import { median } from './common.ts';
import { xorClusters } from '../data/xor.ts';

/** A classification problem as the bench sees it: sample indices and a batch writer. */
interface Problem {
  name: string;
  network: NetworkSpec;
  train: Uint32Array;
  validation: Uint32Array;
  /** Writes samples order[start, start + n) into input / labels. */
  fill(input: Float32Array, labels: Float32Array, order: Uint32Array, start: number, n: number): void;
}

/** A method and its settings on one problem. */
interface Contender {
  name: 'adam' | 'genetic';
  batchSize: number;
  optimizer: GradientOptimizerConfig | GeneticConfig;
}

interface RunResult {
  /** (training seconds, best validation loss so far) at each checkpoint. */
  checkpoints: [number, number][];
  valLoss: number;
  valAccuracy: number;
  batches: number;
  imagesPerSecond: number;
}

const SEED = 1;
const CHECKPOINTS = 20;

function xorProblem(): Problem {
  const count = 2560;
  const { x, y } = xorClusters(count, new Rng(SEED));
  const range = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  return {
    name: 'xor',
    network: { input: { height: 1, width: 1, channels: 2 }, layers: denseStack([8], 'tanh') },
    train: range(0, 2048),
    validation: range(2048, count),
    fill(input, labels, order, start, n) {
      for (let k = 0; k < n; k++) {
        const i = order[start + k]!;
        input[2 * k] = x[2 * i]!;
        input[2 * k + 1] = x[2 * i + 1]!;
        labels[k] = y[i]!;
      }
    },
  };
}

async function imageProblem(dir: string, size: number, limit: number): Promise<Problem> {
  const config: Config = configSchema.parse({
    data: { train: dir, width: size, height: size, channels: 1, validation: 0.2, limit },
    model: { hidden: [16], activation: 'relu' },
  });
  const started = performance.now();
  const data = await prepareData(config, () => {}, null);
  const p = data.preprocessing;
  process.stderr.write(`images: ${data.train.length} training, ${data.validation.length} validation (${((performance.now() - started) / 1000).toFixed(1)} s to load)\n`);
  return {
    name: `images ${p.width}x${p.height}x${p.channels}`,
    network: networkSpec(config),
    train: data.train,
    validation: data.validation,
    fill: (input, labels, order, start, n) => void fillBatch(data.source, order, start, n, input, labels, null),
  };
}

const ADAM = (lr: number): GradientOptimizerConfig => ({
  type: 'adam',
  lr,
  schedule: { type: 'constant' },
  warmupSteps: 0,
  weightDecay: 0,
  clipNorm: null,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
});

/** configs/genetic.json's settings, with the population and mutation given. */
const GENETIC = (population: number, mutationRate: number, mutationScale: number): GeneticConfig => ({
  type: 'genetic',
  population,
  elite: 4,
  selection: 'tournament',
  tournamentSize: 3,
  crossover: 'uniform',
  crossoverRate: 0.7,
  mutationRate,
  mutationScale,
  mutationDecay: 1,
});

function contenders(problem: Problem): Contender[] {
  return problem.name === 'xor'
    ? [
        { name: 'adam', batchSize: 64, optimizer: ADAM(0.01) },
        { name: 'genetic', batchSize: 64, optimizer: GENETIC(40, 0.1, 0.1) },
      ]
    : [
        { name: 'adam', batchSize: 64, optimizer: ADAM(0.001) },
        { name: 'genetic', batchSize: 256, optimizer: GENETIC(64, 0.02, 0.02) },
      ];
}

/** One method on one problem for `seconds` of training time, validated at seconds * 2^((k - CHECKPOINTS) / 2), k = 1..CHECKPOINTS. */
async function race(problem: Problem, who: Contender, seconds: number, workers: number | undefined): Promise<RunResult & { core: Core }> {
  const { network, train, validation } = problem;
  const plan = planNetwork(network);
  const B = Math.min(who.batchSize, train.length);
  const evalBatch = Math.max(B, Math.min(256, validation.length));
  const genetic = who.optimizer.type === 'genetic' ? who.optimizer : null;
  const core = await createCore({ network, maxBatch: Math.max(B, evalBatch), loss: 'bce', seed: SEED, ...(workers ? { workers } : {}) });
  const batchesPerEpoch = Math.ceil(train.length / B);
  const method: TrainMethod = genetic
    ? geneticMethod(core, genetic, { plan, scheme: 'auto' }, new Rng(SEED ^ 0x6a09e667))
    : gradientMethod(core, who.optimizer as GradientOptimizerConfig, batchesPerEpoch, Number.MAX_SAFE_INTEGER);
  initParams(plan, core.params, new Rng(SEED), 'auto');

  const probabilities = new Float32Array(evalBatch);
  const validate = (): { loss: number; accuracy: number } => {
    let sum = 0;
    let correct = 0;
    for (let start = 0; start < validation.length; start += evalBatch) {
      const n = Math.min(evalBatch, validation.length - start);
      problem.fill(core.input, core.labels, validation, start, n);
      sum += core.evaluate(n) * n;
      core.predict(n, probabilities);
      for (let i = 0; i < n; i++) if (probabilities[i]! >= 0.5 === core.labels[i]! >= 0.5) correct++;
    }
    return { loss: sum / validation.length, accuracy: correct / validation.length };
  };

  const order = new Uint32Array(train.length);
  const checkpoints: [number, number][] = [];
  let best = validate().loss;
  checkpoints.push([0, best]);
  let last = { loss: best, accuracy: NaN };
  let clock = 0; // training seconds
  let images = 0;
  let step = 0;
  let next = 1;
  for (let epoch = 0; next <= CHECKPOINTS; epoch++) {
    epochOrder(train, SEED, epoch, order); // the training loop's shuffle
    for (let batch = 0; batch < batchesPerEpoch && next <= CHECKPOINTS; batch++) {
      const start = batch * B;
      const n = Math.min(B, train.length - start);
      problem.fill(core.input, core.labels, order, start, n);
      const t0 = performance.now();
      method.trainBatch(n, step++);
      clock += (performance.now() - t0) / 1000;
      images += n;
      if (clock >= seconds * 2 ** ((next - CHECKPOINTS) / 2)) {
        last = validate();
        best = Math.min(best, last.loss);
        checkpoints.push([clock, best]);
        next++;
      }
    }
  }
  return { core, checkpoints, valLoss: last.loss, valAccuracy: last.accuracy, batches: step, imagesPerSecond: images / clock };
}


const USAGE = 'usage: node dist-bench/bench/genetic.js [--data DIR] [--limit N] [--size S] [--seconds S] [--xor-seconds S] [--runs R] [--workers N]';

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        limit: { type: 'string', default: '10000' },
        size: { type: 'string', default: '32' },
        seconds: { type: 'string', default: '10' },
        'xor-seconds': { type: 'string', default: '2' },
        runs: { type: 'string', default: '3' },
        workers: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv);
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return EXIT.ok;
  }
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= min)) throw new UserError(`--${name}: expected a whole number >= ${min}, got "${v}"\n${USAGE}`);
    return n;
  };
  const positive = (name: string, v: string) => {
    const n = Number(v);
    if (!(n > 0 && n < Infinity)) throw new UserError(`--${name}: expected a number of seconds > 0, got "${v}"\n${USAGE}`);
    return n;
  };
  const runs = int('runs', values.runs, 1);
  const workers = values.workers !== undefined ? int('workers', values.workers, 1) : undefined;
  const problems: { problem: Problem; seconds: number }[] = [{ problem: xorProblem(), seconds: positive('xor-seconds', values['xor-seconds']) }];
  if (values.data !== undefined) {
    const problem = await imageProblem(values.data, int('size', values.size, 1), int('limit', values.limit, 10));
    problems.push({ problem, seconds: positive('seconds', values.seconds) });
  }

  let kernel = '';
  let threads = 0;
  const report: unknown[] = [];
  process.stdout.write('problem\tseconds\tadam_best_val_loss\tgenetic_best_val_loss\n');
  for (const { problem, seconds } of problems) {
    const methods: Record<string, MethodSummary> = {};
    for (const who of contenders(problem)) {
      const results: RunResult[] = [];
      for (let r = 0; r < runs; r++) {
        const { core, ...result } = await race(problem, who, seconds, workers);
        kernel = core.kernel;
        threads = core.workers;
        await core.close();
        results.push(result);
        process.stderr.write(
          `${problem.name} ${who.name} run ${r + 1}/${runs}: ${result.batches} batches, best validation loss ${result.checkpoints.at(-1)![1].toFixed(4)}, ` +
            `last accuracy ${(100 * result.valAccuracy).toFixed(1)}%, ${Math.round(result.imagesPerSecond)} images/s\n`,
        );
      }
      methods[who.name] = summarize(who, results);
    }
    const adam = methods.adam!;
    const genetic = methods.genetic!;
    adam.checkpoints.forEach(([, loss], k) => {
      const nominal = k === 0 ? 0 : seconds * 2 ** ((k - CHECKPOINTS) / 2);
      process.stdout.write(`${problem.name}\t${nominal.toPrecision(3)}\t${loss.toFixed(4)}\t${genetic.checkpoints[k]![1].toFixed(4)}\n`);
    });
    // A loss both methods reach: the worse of the two final ones; when each got there first.
    const target = Math.max(adam.final.bestValLoss, genetic.final.bestValLoss);
    const reach = (m: MethodSummary) => m.checkpoints.find(([, loss]) => loss <= target)![0];
    const timeToTarget = { loss: target, adam: reach(adam), genetic: reach(genetic) };
    process.stdout.write(
      `# ${problem.name}: validation loss ${target.toFixed(4)} reached after ${timeToTarget.adam.toFixed(3)} s (adam) and ${timeToTarget.genetic.toFixed(3)} s (genetic)\n`,
    );
    report.push({ name: problem.name, parameters: planNetwork(problem.network).paramCount, train: problem.train.length, validation: problem.validation.length, seconds, timeToTarget, methods });
  }
  process.stdout.write(JSON.stringify({ bench: 'genetic', runs, workers: threads, kernel, problems: report }) + '\n');
  return EXIT.ok;
}

interface MethodSummary {
  settings: Record<string, unknown>;
  /** Medians over the runs: (training seconds, best validation loss so far) per checkpoint. */
  checkpoints: [number, number][];
  final: { bestValLoss: number; valAccuracy: number; batches: number; imagesPerSecond: number };
}

function summarize(who: Contender, results: RunResult[]): MethodSummary {
  const checkpoints = results[0]!.checkpoints.map((_, k): [number, number] => [
    +median(results.map((r) => r.checkpoints[k]![0])).toFixed(3),
    +median(results.map((r) => r.checkpoints[k]![1])).toFixed(5),
  ]);
  return {
    settings: { batchSize: who.batchSize, ...who.optimizer },
    checkpoints,
    final: {
      bestValLoss: checkpoints.at(-1)![1],
      valAccuracy: median(results.map((r) => r.valAccuracy)),
      batches: median(results.map((r) => r.batches)),
      imagesPerSecond: Math.round(median(results.map((r) => r.imagesPerSecond))),
    },
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportError('bench:genetic', err)),
);
