/**
 * What a training run needs from the command line, for one run (nn-train.ts) and for a race of
 * several (race.ts): the gradient core and the training methods, the reporter, stdout watching,
 * Ctrl-C, and the exit code. Both commands import this module; neither imports the other's.
 */
import { basename, extname } from 'node:path';
import type { Config } from '../config/schema.ts';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import { networkSpec } from '../config/schema.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { colorLevel, makeChalk, progressStyle } from '../report/color.ts';
import { restoreTerminal } from '../report/status-line.ts';
import { TrainReporter } from './train-reporter.ts';
import type { Engine } from '../train/engine.ts';
import { createGeneticMethod } from '../train/genetic-method.ts';
import type { TrainOptions, TrainResult } from '../train/loop.ts';
import { STOP_SIGNALS, dieBySignal, type StopSignal } from './signals.ts';
import { planNetwork } from '../nn/plan.ts';
import { resolveDevice, type ResolvedDevice } from './device.ts';
import type { KernelChoice, TrainArgs } from './train-options.ts';

export function configName(path: string): string {
  return basename(path, extname(path)) || 'run';
}

/** The gradient core, loaded lazily (workers, WebAssembly; WebGPU for training.device gpu or auto). */
export function engineFactory(kernel: KernelChoice): TrainOptions['createEngine'] {
  return async (network: NetworkSpec, maxBatch: number, config: Config): Promise<Engine> => {
    const { createCore } = await import('../core/index.ts');
    const workers = config.training.workers; // at most the core's MAX_THREADS (validateConfig)
    const { device } = await resolveDevice(config.training.device, 'training.device');
    try {
      return await createCore({ network, maxBatch, loss: config.loss, kernel, device, seed: config.training.seed, ...(workers ? { workers } : {}) });
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
 * configured batch size cannot fit in the gradient core's 4 GiB (on the GPU: in the adapter's
 * limit on one buffer, src/core/gpu/memory.ts). (A batch of "full" is known only
 * once the images are counted; createCore checks it then.)
 */
export async function checkNetworkFits(config: Config): Promise<ResolvedDevice> {
  const device = await resolveDevice(config.training.device, 'training.device');
  if (device.device === 'gpu') {
    const { checkGpuLayers, GpuLayerError } = await import('../core/gpu/gpu-core.ts');
    const plan = planNetwork(networkSpec(config));
    try {
      checkGpuLayers(plan);
    } catch (err) {
      if (err instanceof GpuLayerError) throw new UserError(`model.${err.message}`);
      throw err;
    }
    // Validation batches hold up to 256 images (train/loop.ts); "full" is checked by the core once counted.
    const { batchSize } = config.training;
    if (batchSize !== 'full' && device.limits) {
      const { checkGpuMemory, describeShortfall } = await import('../core/gpu/memory.ts');
      const B = Math.max(batchSize, 256);
      const shortfall = checkGpuMemory(plan, B, device.limits);
      if (shortfall) {
        const why = B > batchSize ? ' (validation batches hold 256 images)' : '';
        throw new UserError(`training.batchSize: ${describeShortfall(shortfall)}${why}`);
      }
    }
  }
  const { batchSize, workers } = config.training;
  if (batchSize === 'full' || device.device === 'gpu') return device;
  const { checkCoreMemory } = await import('../core/index.ts');
  try {
    // Validation batches hold up to 256 images (train/loop.ts).
    checkCoreMemory({ network: networkSpec(config), maxBatch: Math.max(batchSize, 256), ...(workers ? { workers } : {}) });
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`training.batchSize: ${err.message}`);
    throw err;
  }
  return device;
}

/** Methods other than gradient descent: the genetic algorithm. */
export function methodFactory(): NonNullable<TrainOptions['createMethod']> {
  return createGeneticMethod;
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
  return new TrainReporter({
    stderr: process.stderr,
    stdout: process.stdout,
    chalk: makeChalk(colorLevel(isTTY, process.env, args.color)),
    progress: progressStyle(isTTY, process.env, { quiet: args.quiet, progress: args.progress }),
    json: args.json,
    quiet: args.quiet,
    verbose: args.verbose,
  });
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
export function watchOutput(): void {
  process.stderr.on('error', () => {});
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (stdoutError !== null) return;
    stdoutError = err;
    if (err.code !== 'EPIPE') process.stderr.write(`nn-train: cannot write to stdout: ${describeFsError(err)}\n`);
    for (const watcher of stdoutWatchers) watcher();
  });
}

/** The exit code, corrected for a stdout that could not be written (a full disk): a runtime failure, even if the run went well. */
export function withStdoutFailure(code: number): number {
  return stdoutError !== null && stdoutError.code !== 'EPIPE' && (code === EXIT.ok || code === EXIT.interrupted) ? EXIT.failure : code;
}

/** The signal that stopped the run (Ctrl-C, SIGTERM), once its checkpoint is written: main() ends the process by it. */
let stoppedBy: StopSignal | null = null;

/** Ends the process by the signal that stopped the run, if one did (see signals.ts); else returns. */
export function dieIfStoppedBySignal(): void {
  if (stoppedBy !== null) dieBySignal(stoppedBy);
}

export interface StopRequests {
  /** Polled after every batch: true once a stop was asked for (train's shouldStop). */
  stop: () => boolean;
  /** Aborted by the first stop request: stops the loading of the images at once (train's signal). */
  signal: AbortSignal;
  /** Tells the messages whether a batch can still be finished (training has started). */
  trainingStarted: () => void;
  dispose: () => void;
}

/**
 * Ctrl-C (or SIGTERM): the first one stops the run where it can stop cleanly: loading the images
 * at once, training after the current batch, with the checkpoint written; the process then ends by
 * that signal (dieIfStoppedBySignal). A second one ends it at once, by the signal: `onForcedExit`
 * cleans up first (files are written atomically, so nothing is left half-written). stdout failing
 * (see watchOutput) is a first request too, which ends with an exit code instead.
 */
export function interruptFlag(reporter: TrainReporter, onForcedExit: () => void = () => {}): StopRequests {
  const controller = new AbortController();
  let training = false;
  const request = (message: string) => {
    if (controller.signal.aborted) return;
    controller.abort();
    reporter.handle({ event: 'warning', message });
  };
  const handlers = STOP_SIGNALS.map((signal) => {
    const key = signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM';
    const handler = () => {
      if (controller.signal.aborted && stoppedBy !== null) {
        onForcedExit();
        restoreTerminal();
        process.stderr.write(`nn-train: ${key} again: stopped at once\n`);
        dieBySignal(signal);
      }
      stoppedBy = signal;
      request(training ? `stopping after this batch, with a checkpoint (${key} again to quit at once)` : `stopping (${key} again to quit at once)`);
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  const onStdoutError = () => {
    reporter.stopJson();
    request(`stdout ${stdoutError?.code === 'EPIPE' ? 'was closed' : 'cannot be written'}: stopping after this batch`);
  };
  stdoutWatchers.add(onStdoutError);
  if (stdoutError !== null) onStdoutError();
  return {
    stop: () => controller.signal.aborted,
    signal: controller.signal,
    trainingStarted: () => (training = true),
    dispose: () => {
      for (const off of handlers) off();
      stdoutWatchers.delete(onStdoutError);
    },
  };
}
