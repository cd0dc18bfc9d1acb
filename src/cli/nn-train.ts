/**
 * nn-train: the command. A thin layer over src/train: parse the command line, resolve the config,
 * open the run folder, wire Ctrl-C and the reporter, then call train() (or race several configs).
 */
import { basename, resolve } from 'node:path';
import { validateConfig, loadConfigFile } from '../config/load.ts';
import { networkSpec, type Config } from '../config/schema.ts';
import { LEGACY_RESIZE } from '../data/preprocessing.ts';
import { planNetwork } from '../nn/plan.ts';
import { layerRows, layerTable } from '../report/layer-table.ts';
import { EXIT, UserError } from '../errors.ts';
import type { TrainResult, TrainOptions } from '../train/loop.ts';
import type { Checkpoint } from '../io/checkpoint.ts';
import { defaultRunDir, RunFolder } from '../train/run-folder.ts';
import { runCommand } from './common.ts';
import { parseTrainCli, type TrainArgs } from './train-options.ts';
import { describeConfigDifferences } from '../config/compare.ts';
import { checkNetworkFits, configName, dieIfStoppedBySignal, engineFactory, exitCodeOf, interruptFlag, makeReporter, methodFactory, watchOutput, withStdoutFailure } from './train-run.ts';

export async function main(argv: string[]): Promise<number> {
  watchOutput();
  const code = await runCommand('nn-train', () => command(argv), { ownStdoutErrors: true });
  await new Promise((resolve) => setImmediate(resolve)); // a failed last write reports itself on the next tick
  dieIfStoppedBySignal(); // Ctrl-C or SIGTERM, once everything is saved: let the shell know (see signals.ts)
  return withStdoutFailure(code);
}

async function command(argv: string[]): Promise<number> {
  const parsed = parseTrainCli(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return EXIT.ok;
  }
  const args = parsed.args;
  if (args.findLr) {
    if (args.resume !== null) throw new UserError('--find-lr starts from a config, not from a run: leave out --resume');
    const { findLr } = await import('./find-lr.ts');
    return findLr(args, resolveRun(args));
  }
  if (args.configs.length > 1) {
    const { race } = await import('./race.ts');
    return race(args);
  }
  return trainOne(args);
}

/**
 * A run started before data.resize existed decoded its images with sharp's lanczos3: its stored
 * config gets that value (not today's default), so that the resumed run sees the very same pixels.
 */
function withLegacyResize(stored: unknown): unknown {
  const data = (stored as { data?: Record<string, unknown> } | null)?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || 'resize' in data) return stored;
  return { ...(stored as object), data: { ...data, resize: LEGACY_RESIZE } };
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
    const stored = validateConfig(withLegacyResize(checkpoint.config), source);
    const config = args.configs[0] ? loadConfigFile(args.configs[0], args.overrides) : validateConfig(stored, source, args.overrides);
    // Only a longer run and another thread count may differ: everything else would change the result.
    const differences = describeConfigDifferences(stored, config, ['training.epochs', 'training.workers', 'training.device', 'out']);
    if (differences.length > 0) {
      throw new UserError(`${args.resume}: cannot resume with a different config (${differences.join('; ')}); only --epochs (larger), --workers and --device may change`);
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
  const device = await checkNetworkFits(run.config);
  const folder = run.folder ?? (run.config.out !== null ? RunFolder.create(run.config.out) : RunFolder.createUnique(defaultRunDir(run.name)));
  if (!run.resume) folder.writeConfig(run.config);
  const reporter = makeReporter(args);
  const { finishRun, RunPosition } = await import('./train-summary.ts');
  const position = new RunPosition();
  const finished = run.resume ? finishedRun(run.resume, run.config) : null;
  if (run.resume && finished) {
    finishRun({ ...finished, history: run.resume.history, best: run.resume.best, seconds: 0 }, folder, reporter, args, position);
    reporter.close();
    return EXIT.ok;
  }
  // A fresh run stopped before its first checkpoint keeps nothing: not even its folder.
  const discardUnused = () => {
    if (!run.resume) folder.discardIfUnused();
  };
  const interrupt = interruptFlag(reporter, discardUnused);
  const started = performance.now();
  const { train } = await import('../train/loop.ts');
  try {
    const result = await train({
      config: run.config,
      name: run.name,
      folder,
      resume: run.resume,
      onEvent: (e) => {
        position.track(e);
        if (e.event === 'start') interrupt.trainingStarted();
        reporter.handle(e);
      },
      shouldStop: interrupt.stop,
      signal: interrupt.signal,
      createEngine: engineFactory(args.kernel),
      createMethod: methodFactory(),
      device: device.description,
    }).catch((err: unknown): TrainResult => {
      // Stopped while loading the images or starting the core: nothing was trained.
      if (interrupt.signal.aborted && err === interrupt.signal.reason) {
        return { status: 'interrupted', history: run.resume?.history ?? [], best: run.resume?.best ?? null, seconds: (performance.now() - started) / 1000 };
      }
      throw err;
    });
    if (!position.trained) discardUnused();
    finishRun(result, folder, reporter, args, position);
    return exitCodeOf(result);
  } catch (err) {
    discardUnused();
    throw err;
  } finally {
    interrupt.dispose();
    reporter.close();
  }
}
