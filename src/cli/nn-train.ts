/**
 * nn-train: the command. A thin layer over src/train: parse the command line, resolve the config,
 * open the run folder, wire Ctrl-C and the reporter, then call train() (or race several configs).
 */
import { basename, extname, resolve } from 'node:path';
import { validateConfig, loadConfigFile } from '../config/load.ts';
import { networkSpec, type Config } from '../config/schema.ts';
import { planNetwork } from '../nn/plan.ts';
import { layerRows, layerTable } from '../report/layer-table.ts';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import { colorLevel, makeChalk, showProgress } from '../report/color.ts';
import { TrainReporter } from '../report/train-reporter.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import type { Engine } from '../train/engine.ts';
import type { TrainResult, TrainOptions } from '../train/loop.ts';
import type { Checkpoint } from '../io/checkpoint.ts';
import { defaultRunDir, RunFolder } from '../train/run-folder.ts';
import { runCommand } from './common.ts';
import { parseTrainCli, type KernelChoice, type TrainArgs } from './train-options.ts';
import { describeConfigDifferences } from '../config/compare.ts';
import { createGeneticMethod } from '../train/genetic-method.ts';

export async function main(argv: string[]): Promise<number> {
  watchOutput();
  const code = await runCommand('nn-train', () => command(argv), { ownStdoutErrors: true });
  await new Promise((resolve) => setImmediate(resolve)); // a failed last write reports itself on the next tick
  // stdout that could not be written (a full disk): a runtime failure, even if the run went well.
  return stdoutError !== null && stdoutError.code !== 'EPIPE' && (code === EXIT.ok || code === EXIT.interrupted) ? EXIT.failure : code;
}

async function command(argv: string[]): Promise<number> {
  const parsed = parseTrainCli(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return EXIT.ok;
  }
  const args = parsed.args;
  if (args.findLr) {
    const { findLr } = await import('./find-lr.ts');
    return findLr(args);
  }
  if (args.configs.length > 1) {
    const { race } = await import('./race.ts');
    return race(args);
  }
  return trainOne(args);
}

/** The first error writing stdout, or null while it works. */
let stdoutError: NodeJS.ErrnoException | null = null;
const stdoutWatchers = new Set<() => void>();

/**
 * stdout carries the --json lines, stderr the lines for people; a run must survive either going
 * away. stderr errors are dropped (`2>/dev/full`, `2>&1 | head -1`: the run goes on unseen). A
 * stdout error is recorded once (every later write fails again) and stops a run the way Ctrl-C does
 * (interruptFlag): the batch ends, the checkpoint is written, exit 130 when the reader left
 * (`--json | head -3`) and 1 for another error. Left to runCommand, a closed pipe ended the process
 * with exit 0 at the next JSON line: a run that never trained, reported as done.
 */
function watchOutput(): void {
  process.stderr.on('error', () => {});
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (stdoutError !== null) return;
    stdoutError = err;
    if (err.code !== 'EPIPE') process.stderr.write(`nn-train: cannot write to stdout: ${describeFsError(err)}\n`);
    for (const watcher of stdoutWatchers) watcher();
  });
}

export function configName(path: string): string {
  return basename(path, extname(path)) || 'run';
}

/** Resolves the config of a run: a config file (+ overrides), or the run being resumed. */
export function resolveRun(args: TrainArgs): { config: Config; name: string; folder: RunFolder | null; resume: TrainOptions['resume'] } {
  if (args.resume !== null) {
    const out = args.overrides.find((o) => o.path === 'out');
    if (out && resolve(String(out.value)) !== resolve(args.resume)) {
      throw new UserError(`--out ${String(out.value)}: a resumed run goes on in its own folder (${args.resume}); leave out --out`);
    }
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

/**
 * Whether a checkpoint's run has nothing left to do: all its epochs trained, or stopped early (the
 * loop checks patience at an epoch's end, so a checkpoint at an epoch boundary with `stale` at the
 * patience is one the run stopped at). Resuming it would otherwise train epochs it never asked for.
 */
export function finishedRun(checkpoint: Checkpoint, config: Config): Pick<TrainResult, 'status' | 'message'> | null {
  const { epochs, patience } = config.training;
  if (checkpoint.batch === 0 && checkpoint.epoch >= epochs) {
    return { status: 'completed', message: `nothing to do: all ${epochs} epochs are trained (resume with a larger --epochs to train longer)` };
  }
  if (checkpoint.batch === 0 && patience !== null && checkpoint.stale >= patience) {
    return { status: 'early-stopped', message: `no better validation loss for ${checkpoint.stale} epochs (patience ${patience}) after epoch ${checkpoint.epoch}; nothing left to resume` };
  }
  return null;
}

/** The gradient core, loaded lazily (workers, WebAssembly). */
export function engineFactory(kernel: KernelChoice): TrainOptions['createEngine'] {
  return async (network: NetworkSpec, maxBatch: number, config: Config): Promise<Engine> => {
    const { createCore } = await import('../core/index.ts');
    const workers = config.training.workers; // at most the core's MAX_THREADS (validateConfig)
    try {
      return await createCore({ network, maxBatch, loss: config.loss, kernel, seed: config.training.seed, ...(workers ? { workers } : {}) });
    } catch (err) {
      // Every argument of createCore comes from the config, so a RangeError (the buffers of this
      // network and batch do not fit in WebAssembly's 4 GiB) is a config error: exit 2.
      if (err instanceof RangeError) throw new UserError(`the config asks for too much: ${err.message}`);
      throw err;
    }
  };
}

/**
 * Refuses, before any image is decoded or any file written, a network whose buffers at the
 * configured batch size cannot fit in the gradient core's 4 GiB. (A batch of "full" is known only
 * once the images are counted; createCore checks it then.)
 */
export async function checkNetworkFits(config: Config): Promise<void> {
  const { batchSize, workers } = config.training;
  if (batchSize === 'full') return;
  const { checkCoreMemory } = await import('../core/index.ts');
  try {
    // Validation batches hold up to 256 images (train/loop.ts).
    checkCoreMemory({ network: networkSpec(config), maxBatch: Math.max(batchSize, 256), ...(workers ? { workers } : {}) });
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`training.batchSize: ${err.message}`);
    throw err;
  }
}

/** Methods other than gradient descent: the genetic algorithm. */
export function methodFactory(): NonNullable<TrainOptions['createMethod']> {
  return createGeneticMethod;
}

/**
 * Ctrl-C (or SIGTERM): the first one finishes the batch, checkpoints and exits 130; a second one
 * exits at once. stdout failing (see watchOutput) is a first one too.
 */
export function interruptFlag(reporter: TrainReporter): { stop: () => boolean; dispose: () => void } {
  let requested = false;
  const request = (message: string) => {
    if (requested) return;
    requested = true;
    reporter.handle({ event: 'warning', message });
  };
  const onSignal = () => {
    if (requested) process.exit(EXIT.interrupted); // files are written atomically: nothing is left half-written
    request('stopping after this batch (Ctrl-C again to quit at once)');
  };
  const onStdoutError = () => {
    reporter.stopJson();
    request(`stdout ${stdoutError?.code === 'EPIPE' ? 'was closed' : 'cannot be written'}: stopping after this batch`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  stdoutWatchers.add(onStdoutError);
  if (stdoutError !== null) onStdoutError();
  return {
    stop: () => requested,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stdoutWatchers.delete(onStdoutError);
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
    bars: showProgress(isTTY, process.env, args.quiet),
    json: args.json,
    quiet: args.quiet,
    verbose: args.verbose,
  });
}

async function trainOne(args: TrainArgs): Promise<number> {
  const run = resolveRun(args);
  if (args.printConfig) {
    process.stdout.write(JSON.stringify(run.config, null, 2) + '\n');
    // The network the config describes, for people (stderr), so that stdout stays the JSON.
    if (!args.quiet) {
      const plan = planNetwork(networkSpec(run.config));
      process.stderr.write(layerTable(layerRows(plan), plan.statCount).join('\n') + '\n');
    }
    return EXIT.ok;
  }
  await checkNetworkFits(run.config);
  const folder = run.folder ?? (run.config.out !== null ? RunFolder.create(run.config.out) : RunFolder.createUnique(defaultRunDir(run.name)));
  if (!run.resume) folder.writeConfig(run.config);
  const reporter = makeReporter(args);
  const { finishRun } = await import('./train-summary.ts');
  const finished = run.resume ? finishedRun(run.resume, run.config) : null;
  if (run.resume && finished) {
    finishRun({ ...finished, history: run.resume.history, best: run.resume.best, seconds: 0 }, folder, reporter, args);
    reporter.close();
    return EXIT.ok;
  }
  const interrupt = interruptFlag(reporter);
  const { train } = await import('../train/loop.ts');
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
  } catch (err) {
    if (!run.resume) folder.discardIfUnused();
    throw err;
  } finally {
    interrupt.dispose();
    reporter.close();
  }
}
