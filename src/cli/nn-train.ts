/**
 * nn-train: the command. A thin layer over src/train: parse the command line, resolve the config,
 * open the run folder, wire Ctrl-C and the reporter, then call train() (or race several configs).
 */
import { basename, extname } from 'node:path';
import { validateConfig, loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EXIT, UserError } from '../errors.ts';
import { colorLevel, makeChalk } from '../report/color.ts';
import { TrainReporter } from '../report/train-reporter.ts';
import type { Architecture } from '../nn/architecture.ts';
import type { Engine } from '../train/engine.ts';
import type { TrainResult, TrainOptions } from '../train/loop.ts';
import { defaultRunDir, RunFolder } from '../train/run-folder.ts';
import { runCommand } from './common.ts';
import { parseTrainCli, type KernelChoice, type TrainArgs } from './train-options.ts';
import { describeConfigDifferences } from '../config/compare.ts';
import { createGeneticMethod } from '../train/genetic-method.ts';

export async function main(argv: string[]): Promise<number> {
  return runCommand('nn-train', async () => {
    const parsed = parseTrainCli(argv);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return EXIT.ok;
    }
    const args = parsed.args;
    if (args.configs.length > 1) {
      const { race } = await import('./race.ts');
      return race(args);
    }
    return trainOne(args);
  });
}

export function configName(path: string): string {
  return basename(path, extname(path)) || 'run';
}

/** Resolves the config of a run: a config file (+ overrides), or the run being resumed. */
export function resolveRun(args: TrainArgs): { config: Config; name: string; folder: RunFolder | null; resume: TrainOptions['resume'] } {
  if (args.resume !== null) {
    const folder = RunFolder.open(args.resume);
    const checkpoint = folder.readCheckpoint();
    const source = folder.checkpointPath;
    const stored = validateConfig(checkpoint.config, source);
    const config = args.configs[0] ? loadConfigFile(args.configs[0], args.overrides) : validateConfig(stored, source, args.overrides);
    // Only a longer run and another thread count may differ: everything else would change the result.
    const differences = describeConfigDifferences(stored, config, ['training.epochs', 'training.workers', 'out']);
    if (differences.length > 0) {
      throw new UserError(`${args.resume}: cannot resume with a different config (${differences.join('; ')}); only --epochs (larger) and --workers may change`);
    }
    if (config.training.epochs < checkpoint.epoch) {
      throw new UserError(`${args.resume}: --epochs ${config.training.epochs} is fewer than the ${checkpoint.epoch} epochs already trained`);
    }
    const name = basename(args.resume);
    return { config, name, folder, resume: { ...checkpoint, config } };
  }
  const file = args.configs[0]!;
  const config = loadConfigFile(file, args.overrides);
  return { config, name: configName(file), folder: null, resume: null };
}

/** The gradient core, loaded lazily (workers, WebAssembly). */
export function engineFactory(kernel: KernelChoice): TrainOptions['createEngine'] {
  return async (arch: Architecture, maxBatch: number, config: Config): Promise<Engine> => {
    const { createCore } = await import('../core/index.ts');
    return createCore({
      arch,
      maxBatch,
      loss: config.loss,
      kernel,
      ...(config.training.workers ? { workers: config.training.workers } : {}),
      // The genetic algorithm evaluates its whole population through the core.
      ...(config.optimizer.type === 'genetic' ? { population: config.optimizer.population } : {}),
    });
  };
}

/** Methods other than gradient descent: the genetic algorithm. */
export function methodFactory(): NonNullable<TrainOptions['createMethod']> {
  return createGeneticMethod;
}

/** Ctrl-C: the first one finishes the batch, checkpoints and exits 130; a second one exits at once. */
export function interruptFlag(onFirst: () => void): { stop: () => boolean; dispose: () => void } {
  let requested = false;
  const handler = () => {
    if (requested) process.exit(EXIT.interrupted); // files are written atomically: nothing is left half-written
    requested = true;
    onFirst();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stop: () => requested,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export function exitCodeOf(result: TrainResult): number {
  switch (result.status) {
    case 'completed':
    case 'early-stopped':
      return EXIT.ok;
    case 'interrupted':
      return EXIT.interrupted;
    case 'diverged':
      return EXIT.diverged;
  }
}

export function makeReporter(args: TrainArgs): TrainReporter {
  const isTTY = Boolean(process.stderr.isTTY);
  const level = colorLevel(isTTY, process.env, args.color);
  return new TrainReporter({
    stderr: process.stderr,
    stdout: process.stdout,
    chalk: makeChalk(level),
    bars: isTTY && !args.quiet && process.env.TERM !== 'dumb',
    json: args.json,
    quiet: args.quiet,
  });
}

async function trainOne(args: TrainArgs): Promise<number> {
  const run = resolveRun(args);
  if (args.printConfig) {
    process.stdout.write(JSON.stringify(run.config, null, 2) + '\n');
    return EXIT.ok;
  }
  const folder = run.folder ?? RunFolder.create(run.config.out ?? defaultRunDir(run.name));
  if (!run.resume) folder.writeConfig(run.config);
  const reporter = makeReporter(args);
  const interrupt = interruptFlag(() => reporter.handle({ event: 'warning', message: 'stopping after this batch (Ctrl-C again to quit at once)' }));
  const { train } = await import('../train/loop.ts');
  const { finishRun } = await import('./train-summary.ts');
  try {
    const result = await train({
      config: run.config,
      name: run.name,
      folder,
      resume: run.resume,
      onEvent: reporter.handle,
      shouldStop: interrupt.stop,
      createEngine: engineFactory(args.kernel),
      createMethod: methodFactory(),
    });
    finishRun(result, folder, reporter, args);
    return exitCodeOf(result);
  } finally {
    interrupt.dispose();
    reporter.close();
  }
}
