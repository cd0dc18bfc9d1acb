/**
 * nn-eval's command line, declared as data and parsed by a pure function that tests call.
 *
 *   nn-eval [options] <model.json> <inputs...>
 *
 * Inputs are image files, folders (searched recursively, sorted) or `-` for newline-separated
 * paths on stdin. Every value is checked here, so a typo is a one-line usage error (exit 2)
 * before the model is even read.
 */
import { NN_TRAIN_VERSION } from '../version.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { KERNEL_CHOICES, type KernelChoice } from '../core/kernels.ts';
import { DEVICE_CHOICES, type DeviceChoice } from './device.ts';
import { UserError } from '../errors.ts';
import { FORMAT_NAMES, type FormatName } from '../eval/formats.ts';
import type { TtaMode } from '../data/tta.ts';
import { parseOrHelp } from './common.ts';

export interface EvalArgs {
  model: string;
  /** Files, folders and at most one "-" (paths on stdin), in the order given. */
  inputs: string[];
  format: FormatName;
  /** p_dog >= threshold is labelled dog. */
  threshold: number;
  /** Kaggle probabilities are clipped to [clip, 1 - clip]; the summary also reports the log loss at this clip. */
  clip: number;
  /** Where to write the metrics as JSON, or null. */
  metrics: string | null;
  batchSize: number;
  /** Threads of the core, or null for nn-eval's share of the cores (src/eval/decode-inputs.ts, evalCoreSplit). */
  workers: number | null;
  kernel: KernelChoice;
  device: DeviceChoice;
  /** Test-time augmentation (src/data/tta.ts): --tta is 'flip', --tta-shifts 'shifts'; null without. */
  tta: TtaMode | null;
  quiet: boolean;
  /** false with --no-progress. */
  progress: boolean;
  color: boolean | undefined;
}

export type ParsedEvalCli = { kind: 'help'; text: string } | { kind: 'run'; args: EvalArgs };

export const EVAL_DEFAULTS = {
  format: 'tsv' as FormatName,
  threshold: 0.5,
  clip: 0.005,
  /** Measured with `npm run bench:eval -- --data DIR --batch-sizes 8,16,32,64` (fresh starts, the
   * sizes alternating) on 2,000 photos of 200x200 with configs/cnn.json's network, 2 vCPUs, shared:
   * 423, 431, 441 and 405 images/s (medians of 5). 16 and 32 are within the noise, ahead of 64: small batches keep
   * a layer's activations in the caches (cnn.json's first layer at batch 64: 32 MB) and touch less
   * new memory at start-up; 16 holds half of 32's. A slow producer on stdin does not wait for a full
   * batch (see src/eval/predict.ts). */
  batchSize: 16,
  /** With --tta or --tta-shifts (2 or 18 forward passes an image, the core on more cores): 64.
   * `npm run bench:eval -- --data DIR --tta shifts --workers 2 --batch-size B` (fresh starts, medians
   * of 3, same photos and machine): 58 images/s at 16, 65 at 64 and at 256; `--tta flip`: 273 at 16,
   * 297 at 64. Each layer's job is split between the threads, and larger jobs repay the split. */
  ttaBatchSize: 64,
};

/** The batch nn-eval uses when --batch-size is not given: larger with test-time views (see EVAL_DEFAULTS). */
export function defaultEvalBatchSize(tta: TtaMode | null): number {
  return tta !== null ? EVAL_DEFAULTS.ttaBatchSize : EVAL_DEFAULTS.batchSize;
}

/** Largest batch accepted: 1024 images of 64x64x3 floats are 50 MB of input buffer. */
const MAX_BATCH = 1024;

function numberIn(min: number, max: number, maxInclusive: boolean) {
  return (text: string): number => {
    const x = Number(text);
    const ok = text.trim() !== '' && Number.isFinite(x) && x >= min && (maxInclusive ? x <= max : x < max);
    if (!ok) throw new InvalidArgumentError(`expected a number in [${min}, ${max}${maxInclusive ? ']' : ')'}`);
    return x;
  };
}

function integerIn(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!(text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max)) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function nonEmpty(text: string): string {
  if (text.trim() === '') throw new InvalidArgumentError('expected a file name');
  return text;
}

const EXAMPLES = [
  '',
  'Examples:',
  '  nn-eval runs/momentum/model.json data/test1/ > predictions.tsv',
  "  find photos -name '*.jpg' | nn-eval model.json - | sort -t$'\\t' -k2 -g | tail",
  '  nn-eval model.json data/test1 --format kaggle > submission.csv',
  '  nn-eval model.json data/validation --metrics metrics.json > /dev/null   how good is it?',
  '  nn-eval model.json photo.jpg --tta',
  '  nn-eval model.json data/validation --tta-shifts --metrics m.json   18 views an image',
  '',
  'Labels (for the summary) come from names cat.N.jpg / dog.N.jpg or folders cat(s)/ dog(s)/.',
  'Paths on stdin are relative to the current folder, like those on the command line.',
  'A file or folder named -: write ./-. Names that start with -: put -- before them.',
  'Exit codes: 0 done (broken images are skipped and counted), 1 runtime failure,',
  '2 usage error, unreadable model file, missing path, or no image could be read;',
  'Ctrl-C ends it by SIGINT (130 in a shell).',
].join('\n');

function buildProgram(): Command {
  return new Command('nn-eval')
    .description('Predict cat or dog for images with a model trained by nn-train: one line per image on stdout, in input order; a summary on stderr.')
    .usage('[options] <model.json> <images, folders or - ...>')
    .argument('<model>', 'model file written by nn-train (model.json in a run folder)')
    .argument('[inputs...]', 'image files, folders (recursive, sorted) or - for newline-separated paths on stdin')
    .optionsGroup('Output:')
    .addOption(new Option('-f, --format <name>', 'tsv (path, p_dog, label), csv (with header), jsonl, kaggle (submission: id,label sorted by id)').choices(FORMAT_NAMES).default(EVAL_DEFAULTS.format))
    .addOption(new Option('-t, --threshold <p>', 'p_dog at or above which an image is called dog').argParser(numberIn(0, 1, true)).default(EVAL_DEFAULTS.threshold))
    .addOption(new Option('--clip <c>', 'kaggle: clip probabilities to [c, 1-c] (log loss punishes confident mistakes)').argParser(numberIn(0, 0.5, false)).default(EVAL_DEFAULTS.clip))
    .addOption(new Option('--metrics <file>', 'write the summary (accuracy, per class, log loss, confusion matrix, counts) as JSON').argParser(nonEmpty))
    .optionsGroup('Prediction:')
    .option('--tta', 'test-time augmentation: average the prediction of each image and of its mirror image')
    .option('--tta-shifts', "test-time augmentation: average over 18 views, the window moved by half the model's shift room each way (3 x 3) and mirrored; 18 forward passes an image")
    .addOption(new Option('--batch-size <n>', `images per forward pass (default: ${EVAL_DEFAULTS.batchSize}; ${EVAL_DEFAULTS.ttaBatchSize} with --tta or --tta-shifts)`).argParser(integerIn(1, MAX_BATCH)))
    .addOption(new Option('--workers <n>', 'threads of the core (default: half the cores, rounded up, decoder processes getting the others; with --tta or --tta-shifts more, by the work)').argParser(integerIn(1, 64)))
    .addOption(new Option('--kernel <name>', 'core kernels').choices(KERNEL_CHOICES).default('auto'))
    .addOption(new Option('--device <name>', 'where the network runs: cpu, gpu (WebGPU; exit 2 without an adapter) or auto (a hardware GPU if there is one)').choices(DEVICE_CHOICES).default('cpu'))
    .optionsGroup('Display:')
    .option('-q, --quiet', 'print only errors on stderr (no summary, no skipped-file lines)')
    .option('--no-progress', 'no progress line on stderr')
    .option('--color', 'force colour on stderr')
    .option('--no-color', 'no colour on stderr (also: NO_COLOR=1)')
    .optionsGroup('Other:')
    .version(NN_TRAIN_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', EXAMPLES)
    .exitOverride();
}

/** Parses nn-eval's arguments (argv without node and the script); pure, for tests. */
export function parseEvalCli(argv: readonly string[]): ParsedEvalCli {
  const program = buildProgram();
  let help: string | null;
  try {
    help = parseOrHelp(program, argv, 'nn-eval');
  } catch (err) {
    // commander puts its suggestion on a second line ("(Did you mean --threshold?)"): keep one line.
    if (err instanceof UserError) throw new UserError(err.message.replace(/\s*\n\s*/g, ' '), err.exitCode);
    throw err;
  }
  if (help !== null) return { kind: 'help', text: help };
  const [model, inputs] = program.processedArgs as [string, string[]];
  if (inputs.length === 0) {
    // One argument: the model without images, or (more often) images without the model.
    throw new UserError(
      /\.json$/i.test(model)
        ? `give the images or folders to predict after the model: nn-eval ${model} <images, folders or ->`
        : `${model}: the first argument is the model file (model.json of an nn-train run), then the images: nn-eval runs/NAME/model.json ${model}`,
    );
  }
  if (inputs.filter((i) => i === '-').length > 1) throw new UserError('"-" (paths on stdin) may be given only once');
  const opts = program.opts();
  const colorSource = program.getOptionValueSource('color');
  const tta: TtaMode | null = opts.ttaShifts ? 'shifts' : opts.tta ? 'flip' : null;
  return {
    kind: 'run',
    args: {
      model,
      inputs,
      format: opts.format as FormatName,
      threshold: opts.threshold as number,
      clip: opts.clip as number,
      metrics: (opts.metrics as string | undefined) ?? null,
      batchSize: (opts.batchSize as number | undefined) ?? defaultEvalBatchSize(tta),
      workers: (opts.workers as number | undefined) ?? null,
      kernel: opts.kernel as KernelChoice,
      device: opts.device as DeviceChoice,
      tta,
      quiet: Boolean(opts.quiet),
      progress: opts.progress as boolean,
      color: colorSource === 'cli' ? (opts.color as boolean) : undefined,
    },
  };
}
