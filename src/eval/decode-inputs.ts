/**
 * Decoding nn-eval's inputs: its items (src/eval/inputs.ts: files, and paths that cannot be used)
 * through the training pipeline's decoding stream (src/data/decode-stream.ts), which keeps input
 * order, bounds memory, says when a source such as stdin is waiting ('idle'), and keeps its decoder
 * processes working ahead of the consumer while the core predicts.
 */
import { decodeSettingsOf } from '../data/decode.ts';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { builtDecoderScript, DecoderPool } from '../data/decode-pool.ts';
import { decodeStream, type DecodeImagesOptions } from '../data/decode-stream.ts';
import type { Preprocessing } from '../data/preprocessing.ts';
import type { InputImage, InputItem } from './inputs.ts';

export type DecodedInput =
  | { kind: 'image'; image: InputImage; pixels: Uint8Array }
  | { kind: 'skipped'; path: string; reason: string }
  /** Every input read so far has been handed out and the source has nothing new yet. */
  | { kind: 'idle' };

export interface DecodeInputsOptions extends Pick<DecodeImagesOptions, 'processes' | 'autoProcesses' | 'concurrency' | 'ahead' | 'decoderScript' | 'started'> {
  /** Number of inputs when known in advance (a folder), or null (stdin). */
  expected: number | null;
}

const IDLE: DecodedInput = { kind: 'idle' };

/** nn-eval's cores: the core's threads, and the decoder processes beside them. */
export interface CoreSplit {
  coreThreads: number;
  decoderProcesses: number;
}

/**
 * CPU milliseconds per image on one core, measured on 2 vCPUs with `npm run bench:eval`'s parts (a
 * 200x200 photo decoded in a decoder process; one forward pass of configs/cnn.json's network).
 */
const DECODE_MS = 1.45;
const FORWARD_MS = 1.25;

/**
 * How nn-eval shares the cores, for `views` forward passes an image on the CPU (1, or 2 and 18 with
 * test-time augmentation; 1 when the passes run on a GPU).
 *  - One pass: half of the cores (rounded up) compute in the core, the others decode, as decoder
 *    processes. Decoding and inference run at once, so more threads than cores only make them take
 *    turns: on 2 cores, `npm run bench:eval` measured 1 core thread and 1 decoder process as fast as
 *    any other split, at the least CPU time (see EVAL_DEFAULTS for the figures).
 *  - Several: the decoders get the cores their share of the work needs (DECODE_MS against views x
 *    FORWARD_MS), one at least, and the core the rest plus one, shared: on 2 cores that is 2 core
 *    threads and 1 decoder process, which measured faster than 1 + 1 (with EVAL_DEFAULTS.ttaBatchSize,
 *    `npm run bench:eval -- --tta shifts --compare`, alternating: `--tta-shifts` 60 against 41
 *    images/s, `--tta` 294 against 248).
 * `coreThreads` given (--workers): the decoders get the rest, one at least.
 */
export function evalCoreSplit(coreThreads: number | null, views: number, cores = availableParallelism()): CoreSplit {
  if (coreThreads === null && views > 1) {
    const decoders = Math.max(1, Math.round((cores * DECODE_MS) / (DECODE_MS + views * FORWARD_MS)));
    return { coreThreads: Math.max(1, cores - decoders + 1), decoderProcesses: decoders };
  }
  const threads = coreThreads ?? Math.ceil(cores / 2);
  return { coreThreads: threads, decoderProcesses: Math.max(1, cores - threads) };
}

/**
 * nn-eval's decoder processes, started before anything else is read (the model, the folders), when
 * the inputs may well be many images (a folder, or paths on stdin): a Node process loading sharp
 * takes a good tenth of a second, which then runs on another core while this one reads the model
 * and compiles the kernels. Null when decoding would happen in this process anyway. The decoding
 * stream takes them over (`started`): it closes them when it decodes here after all (few images).
 */
export function startDecodersEarly(inputs: readonly string[], decoderProcesses: number): DecoderPool | null {
  const script = builtDecoderScript();
  if (script === null || availableParallelism() < 2) return null;
  const many = inputs.some((input) => {
    if (input === '-') return true;
    try {
      return statSync(input).isDirectory();
    } catch {
      return false; // reported when the inputs are resolved
    }
  });
  return many ? new DecoderPool(script, decoderProcesses) : null;
}

/**
 * How nn-eval decodes with batches of `batchSize`: `decoderProcesses` processes (once there are
 * enough images to repay starting them: see decode-stream.ts), kept two batches ahead, so that the
 * next batch is decoded while the core predicts this one (the forward pass holds this thread, so
 * the work must already be in the processes), with a batch to spare for a slow image.
 */
export function evalDecoding(batchSize: number, decoderProcesses: number): Pick<DecodeInputsOptions, 'processes' | 'autoProcesses' | 'ahead'> {
  return { processes: 'auto', autoProcesses: decoderProcesses, ahead: 2 * batchSize };
}

export async function* decodeInputs(
  items: AsyncIterable<InputItem>,
  preprocessing: Preprocessing,
  options: DecodeInputsOptions,
): AsyncGenerator<DecodedInput, void, undefined> {
  async function* inputs() {
    for await (const item of items) {
      yield item.kind === 'image' ? { path: item.image.path, reason: null, image: item.image } : { path: item.path, reason: item.reason, image: null };
    }
  }
  // The model's decoded size and resize: exactly the bytes training cached (the window comes later, in fillInputs).
  for await (const event of decodeStream(inputs(), decodeSettingsOf(preprocessing), options)) {
    if (event === 'idle') yield IDLE;
    else if (event.reason !== null) yield { kind: 'skipped', path: event.path, reason: event.reason };
    else yield { kind: 'image', image: event.input.image!, pixels: event.pixels }; // decoded, so made from an image item
  }
}
