/**
 * nn-eval: cat or dog for any number of images, one line per image on stdout, made for pipelines.
 *
 *   nn-eval model.json images/ > predictions.tsv
 *   find photos -name '*.jpg' | nn-eval model.json -
 *   nn-eval model.json test1/ --format kaggle > submission.csv
 *
 * A thin layer over src/eval: read the model, resolve the inputs (every command-line path is
 * checked before anything is written), start the core, then stream decode -> batch -> predict ->
 * write, one write per batch, in input order. People's output (skipped files, progress, the
 * summary) goes to stderr; data to stdout.
 *
 * Exit codes: 0 done, even if some images were broken (each is reported on stderr, counted in the
 * summary and left out of the output); 1 runtime failure; 2 usage error, unreadable or invalid
 * model file, missing path, empty folder, Kaggle names that are not N.jpg, a --metrics file whose
 * folder does not exist, or no image could be read at all.
 */
import { fstatSync, statSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { isImageName } from '../data/find.ts';
import { maxTtaViews } from '../data/tta.ts';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import { printable } from '../eval/formats.ts';
import { checkOutputFile, writeFileAtomic } from '../files.ts';
import type { Model } from '../io/model-file.ts';
import type { DecoderPool } from '../data/decode-pool.ts';
import type { CoreSplit } from '../eval/decode-inputs.ts';
import { colorLevel, makeChalk, progressStyle } from '../report/color.ts';
import { runCommand } from './common.ts';
import { dieOnStopSignals } from './signals.ts';
import { parseEvalCli, type EvalArgs } from './eval-options.ts';
import { resolveDevice } from './device.ts';
import { planNetwork } from '../nn/plan.ts';

export async function main(argv: string[]): Promise<number> {
  ignoreStderrErrors();
  failOnStdoutErrors();
  // Nothing to save on Ctrl-C: erase the progress line and end by the signal, so shells stop too.
  dieOnStopSignals();
  return runCommand('nn-eval', async () => {
    try {
      const parsed = parseEvalCli(argv);
      if (parsed.kind === 'help') {
        process.stdout.write(parsed.text);
        return EXIT.ok;
      }
      // Before the model is read: the decoder processes start up meanwhile (src/eval/decode-inputs.ts).
      const { evalCoreSplit, startDecodersEarly } = await import('../eval/decode-inputs.ts');
      // Test-time views on the CPU make the forward passes most of the work (on a GPU they are not ours).
      const views = parsed.args.device === 'cpu' ? maxTtaViews(parsed.args.tta) : 1;
      const split = evalCoreSplit(parsed.args.workers, views);
      const decoders = startDecodersEarly(parsed.args.inputs, split.decoderProcesses);
      try {
        const model = await readModel(parsed.args.model);
        if (parsed.args.metrics !== null) checkOutputFile(parsed.args.metrics, 'the metrics', parsed.args.model);
        return await evaluate(parsed.args, model, split, decoders);
      } finally {
        decoders?.close(); // closed already if decoding ran (the stream took them over)
        // Paths on stdin: stop reading, so an early end never waits for the producer.
        if (parsed.args.inputs.includes('-')) process.stdin.destroy();
      }
    } catch (err) {
      // Messages name paths and quote files: keep them one line, and keep escape codes off the terminal.
      if (err instanceof UserError) throw new UserError(printable(err.message), err.exitCode);
      throw err;
    }
  });
}

/**
 * stderr is for people: when it cannot be written (closed: `2> >(head -1)`; full: `2>/dev/full`),
 * the messages are dropped and the data on stdout goes on, with the exit code it would have had.
 */
function ignoreStderrErrors(): void {
  process.stderr.on('error', () => {});
}

/**
 * stdout carries the data. A reader that left (`| head`) ends the command quietly with 0; any other
 * write error (a full disk, an I/O error) is a runtime failure: one line, exit 1, no stack trace.
 * Registered before runCommand's own handler (which rethrows what is not EPIPE), so it runs first.
 */
function failOnStdoutErrors(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`nn-eval: cannot write the predictions to stdout: ${describeFsError(err)}\n`);
    process.exit(err.code === 'EPIPE' ? EXIT.ok : EXIT.failure);
  });
}

/**
 * Reads the model file (a run folder gets a pointer to its model.json); a folder of images or an
 * image given first (the model was forgotten) gets a reminder of the argument order.
 */
async function readModel(path: string): Promise<Model> {
  // zod, which checks the file, takes a tenth of a second to load: after the decoders have started.
  const { readModelFileOrRunFolder } = await import('../io/model-file.ts');
  try {
    return readModelFileOrRunFolder(path);
  } catch (err) {
    if (!(err instanceof UserError) || err.message.includes("(the run's model is")) throw err;
    if (isFolder(path) || isImageName(basename(path))) {
      throw new UserError(`${err.message}; the first argument is the model file (model.json of an nn-train run), the images come after it`, err.exitCode);
    }
    throw err;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes the metrics. A regular file is replaced atomically (through its real path, so that a
 * symbolic link stays a link); a device or a pipe, such as /dev/null, is written to as it is:
 * renaming a temporary file over it would replace the device itself. Our own stdout or stderr
 * (/dev/stdout) is written through the stream, after the lines already queued there, and also
 * when it is a socket, which cannot be opened by name.
 */
async function writeMetrics(path: string, text: string): Promise<void> {
  let target: Stats | null = null;
  try {
    target = statSync(path);
  } catch {
    // a new file
  }
  if (target === null || target.isFile()) return writeFileAtomic(path, text);
  const same = (fd: number): boolean => {
    try {
      const s = fstatSync(fd);
      return s.dev === target.dev && s.ino === target.ino;
    } catch {
      return false;
    }
  };
  // Our own stdout or stderr (/dev/stdout): through the stream, in order with what it carries.
  if (same(1)) return writeOut(text);
  if (same(2)) return void process.stderr.write(text);
  writeFileAtomic(path, text); // another device or a pipe: written as it is
}

/** Writes to stdout, waiting when the reader is slower than us (bounded memory in any case). */
function writeOut(text: string): Promise<void> | void {
  if (text === '' || process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** `split`: the core's threads and the decoder processes; `decoders`: those processes, started early (or null). */
async function evaluate(args: EvalArgs, model: Model, split: CoreSplit, decoders: DecoderPool | null): Promise<number> {
  const started = performance.now();
  // The heavy parts (sharp, the core's workers) load only once the command line and model are good.
  const device = await resolveDevice(args.device);
  if (device.device === 'gpu') {
    const { checkGpuLayers, GpuLayerError } = await import('../core/gpu/gpu-core.ts');
    const plan = planNetwork(model.network);
    try {
      checkGpuLayers(plan);
    } catch (err) {
      if (err instanceof GpuLayerError) throw new UserError(`${args.model}: ${err.message}`);
      throw err;
    }
    const { checkGpuMemory, describeShortfall } = await import('../core/gpu/memory.ts');
    const shortfall = device.limits ? checkGpuMemory(plan, args.batchSize, device.limits) : null;
    if (shortfall) throw new UserError(`--batch-size: ${describeShortfall(shortfall)}`);
  }
  const { planInputs, plannedCount, inputItems, listImageFolder, labelOfFile } = await import('../eval/inputs.ts');
  const { createFormatter } = await import('../eval/formats.ts');
  const { MetricsAccumulator } = await import('../eval/metrics.ts');
  const sources = { listFolder: listImageFolder, labelFile: labelOfFile, stdin: () => process.stdin };
  const plan = await planInputs(args.inputs, sources);

  const formatter = createFormatter(args.format, { threshold: args.threshold, clip: args.clip });
  const accept = formatter.accept?.bind(formatter);
  if (accept) {
    // Kaggle ids: check the names given on the command line before decoding anything.
    const check = createFormatter('kaggle', { threshold: args.threshold, clip: args.clip });
    for (const part of plan) if (part !== 'stdin') for (const item of part) if (item.kind === 'image') check.accept!(item.image.path);
  }

  const { decodeInputs, evalDecoding } = await import('../eval/decode-inputs.ts');
  const { predictBatches } = await import('../eval/predict.ts');
  const { ProgressLine } = await import('../eval/progress.ts');
  const { createCore } = await import('../core/index.ts');
  const { formatSummary } = await import('../eval/summary.ts');

  const chalk = makeChalk(colorLevel(Boolean(process.stderr.isTTY), process.env, args.color));
  const total = plannedCount(plan);
  const live = progressStyle(Boolean(process.stderr.isTTY), process.env, { quiet: args.quiet, progress: args.progress }) === 'live';
  const progress = new ProgressLine(process.stderr, total, live && !process.stdout.isTTY);
  const metrics = new MetricsAccumulator(args.threshold, args.clip);

  async function* checkedItems() {
    for await (const item of inputItems(plan, sources)) {
      if (accept && item.kind === 'image') accept(item.image.path);
      yield item;
    }
  }

  // The core starts (workers, kernel warm-up) while the first batch decodes; a core that only
  // predicts warms up the inference pass alone. It starts one turn of the event loop later, once the
  // loop below has started the decoder processes: their start-up (a Node process loading sharp)
  // then runs on another core while the kernels compile and warm up, which holds this thread.
  const engine = new Promise((resolve) => setImmediate(resolve)).then(() => createCore({
    network: model.network,
    maxBatch: args.batchSize,
    loss: 'bce',
    kernel: args.kernel,
    device: device.device,
    warmUp: 'inference',
    workers: split.coreThreads,
  })).then((core) => {
    core.params.set(model.params);
    core.stats.set(model.stats);
    return core;
  });
  engine.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  try {
    await writeOut(formatter.header());
    const decoded = decodeInputs(checkedItems(), model.preprocessing, {
      expected: total,
      ...evalDecoding(args.batchSize, split.decoderProcesses),
      ...(decoders !== null ? { started: decoders } : {}),
    });
    for await (const batch of predictBatches(decoded, model.preprocessing, engine, args.batchSize, { tta: args.tta })) {
      for (const s of batch.skipped) {
        metrics.skip(s.path, s.reason);
        if (!args.quiet) progress.print(`nn-eval: ${chalk.yellow('skipped')} ${printable(`${s.path}: ${s.reason}`)}`);
      }
      for (const p of batch.predictions) metrics.add(p.pDog, p.actual);
      progress.clear(); // the data may reach this terminal (`| head`): onto a clean line
      await writeOut(formatter.batch(batch.predictions));
      progress.update(metrics.predicted + metrics.skipped);
    }
    await writeOut(formatter.end());
  } finally {
    progress.stop();
    const core = await engine.catch(() => null);
    if (core !== null) await core.close();
  }

  const result = metrics.result();
  const seconds = (performance.now() - started) / 1000;
  if (args.metrics !== null) {
    try {
      await writeMetrics(args.metrics, JSON.stringify(result, null, 2) + '\n');
    } catch (err) {
      throw new UserError(`${args.metrics}: cannot write the metrics: ${describeFsError(err)}`);
    }
  }
  if (!args.quiet) {
    process.stderr.write(formatSummary(result, seconds, chalk));
    if (args.format === 'kaggle' && result.skipped > 0) {
      process.stderr.write(`nn-eval: ${chalk.yellow('warning')}: the submission lacks the ${result.skipped} image(s) that could not be read\n`);
    }
  }
  if (result.images === 0) {
    throw new UserError(result.skipped > 0 ? `no image could be read (${result.skipped} skipped)` : 'no images to predict');
  }
  return EXIT.ok;
}
