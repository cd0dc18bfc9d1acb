/**
 * The decoding pipeline of nn-train (building the pixel cache) and nn-eval (predicting): files go in
 * as a list or as a stream that may still be arriving (paths on stdin), decoded pixels come out in
 * input order as soon as they are ready, with a bounded number in flight, so that 25,000 images
 * stream through in a few megabytes.
 *
 * Two engines, same results:
 *   - in this process: `concurrency` images at once through sharp;
 *   - a DecoderPool of processes (decode-pool.ts), about 1.6 times as fast on 2 cores, used by default
 *     when there are enough images to repay starting the processes and the built decoder script exists.
 *
 * The pool is kept `ahead` images ahead of the consumer: chunks of POOL_CHUNK files are sent to the
 * processes as soon as they are within that distance, not when the consumer asks. So a consumer
 * that holds this thread for a while (nn-eval's forward pass, which blocks it for a whole batch)
 * finds the next images decoded when it comes back: decoding overlaps its work. A slow image (a
 * 4000x3000 photo) holds back the output, not the work around it, and a consumer that stops pulling
 * stops the decoding.
 *
 * A source that may be waiting (stdin) is read ahead into a bounded queue. When everything read so
 * far is out and the source has nothing new yet, the stream says 'idle', so that a consumer that
 * groups images (nn-eval's batches) can answer what it has instead of waiting.
 */
import { availableParallelism } from 'node:os';
import { bytesPerImage, checkDecodeSettings, decodeImage, ImageDecodeError, type DecodeSettings } from './decode.ts';
import { builtDecoderScript, DecoderPool, type ChunkResult } from './decode-pool.ts';

/** One image's outcome: its bytes (width * height * channels, HWC), or why it was skipped. */
export type DecodeOutcome =
  | { index: number; path: string; pixels: Uint8Array; reason: null }
  | { index: number; path: string; pixels: null; reason: string };

export interface DecodeImagesOptions {
  /**
   * Decoder processes: 0 decodes in this process; a number starts that many; 'auto' (default) starts one
   * per core when there are at least AUTO_POOL_MIN_IMAGES images, 2 or more cores and a built decoder script.
   */
  processes?: number | 'auto';
  /** The processes 'auto' starts (default: one per core). */
  autoProcesses?: number;
  /** Images decoded at once when decoding in this process (default 4). */
  concurrency?: number;
  /**
   * With decoder processes: images sent to them ahead of the consumer, at most (default: two
   * chunks per process and one more). A consumer that stops for a batch of B images wants B or more.
   */
  ahead?: number;
  /** The decoder process script; default builtDecoderScript(). Tests pass a freshly built one. */
  decoderScript?: string | null;
  /** Called with the pool's process ids once started (benchmarks sample their memory). */
  onPool?: (pids: number[]) => void;
  /**
   * Decoder processes the caller started earlier (nn-eval starts them before it reads the model, so
   * that their start-up runs meanwhile on another core). The stream takes them over: it uses them
   * when it decides on processes, and closes them in any case when it ends.
   */
  started?: DecoderPool;
}

/** One input of the stream: a file to decode, or one already known to be unusable (reason set: passed on in place). */
export interface StreamInput {
  path: string;
  reason: string | null;
}

/** An input's outcome, with the input itself; or 'idle': all read so far is out and the source is waiting. */
export type StreamEvent<T extends StreamInput> = (DecodeOutcome & { input: T }) | 'idle';

export interface DecodeStreamOptions extends DecodeImagesOptions {
  /** Inputs expected (a list), or null (a stream: decoder processes start once AUTO_POOL_MIN_IMAGES have arrived). */
  expected: number | null;
}

/** Below this many images, starting decoder processes (about 0.1 s each) costs more than it saves. */
export const AUTO_POOL_MIN_IMAGES = 500;
/** Images per chunk sent to a decoder process: amortises messaging, keeps the output flowing. */
export const POOL_CHUNK = 16;
/** Inputs read ahead of the decoders at least: paths only, so a few kilobytes. */
const READ_AHEAD = 256;

/** How the images will be decoded: in-process, or by how many processes. */
export function decoderProcessCount(imageCount: number, options: DecodeImagesOptions = {}): number {
  const script = options.decoderScript === undefined ? builtDecoderScript() : options.decoderScript;
  const requested = options.processes ?? 'auto';
  if (script === null || requested === 0) return 0;
  if (requested !== 'auto') return Math.max(0, Math.floor(requested));
  const cores = availableParallelism();
  return cores >= 2 && imageCount >= AUTO_POOL_MIN_IMAGES ? Math.max(1, options.autoProcesses ?? cores) : 0;
}

function failureReason(err: unknown): string {
  return err instanceof ImageDecodeError ? err.reason : `decoder failure: ${(err as Error)?.message ?? String(err)}`;
}

/**
 * Decodes `paths` with the given settings, yielding one DecodeOutcome per path in input order.
 * Never throws for a bad image (it yields a reason instead). Breaking out of the loop stops the
 * decoder processes.
 */
export async function* decodeImages(
  paths: readonly string[],
  settings: DecodeSettings,
  options: DecodeImagesOptions = {},
): AsyncGenerator<DecodeOutcome, void, undefined> {
  const inputs = paths.map((path) => ({ path, reason: null }));
  for await (const event of decodeStream(inputs, settings, { ...options, expected: paths.length })) {
    if (event === 'idle') continue;
    const { input: _, ...outcome } = event;
    yield outcome as DecodeOutcome;
  }
}

/**
 * The pipeline: decodes each input of `source` (a list, or an async stream such as paths on stdin)
 * and yields its outcome in input order, with 'idle' when the source is waiting. Never throws for
 * a bad image; an error of the source itself is thrown after the outcomes of the inputs before it.
 * Breaking out of the loop stops the decoder processes and the source.
 */
export async function* decodeStream<T extends StreamInput>(
  source: Iterable<T> | AsyncIterable<T>,
  settings: DecodeSettings,
  options: DecodeStreamOptions,
): AsyncGenerator<StreamEvent<T>, void, undefined> {
  checkDecodeSettings(settings);
  const script = options.decoderScript === undefined ? builtDecoderScript() : options.decoderScript;
  const d = bytesPerImage(settings);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const syncSource = Symbol.iterator in source ? (source as Iterable<T>)[Symbol.iterator]() : null;
  const asyncSource = syncSource === null ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : null;
  const queue: T[] = [];
  let seen = 0; // inputs read from the source
  let next = 0; // index of the next input to start decoding
  let inputDone = false;
  let readError: { error: unknown } | null = null;
  let stopped = false;
  let pool: DecoderPool | null = null;
  let poolDecided = false;
  let ahead = 0;
  let readAhead = READ_AHEAD;
  // Wakes the consumer when input arrives or ends; wakes the reader when the queue has room.
  let wakeConsumer: (() => void) | null = null;
  let wakeReader: (() => void) | null = null;
  const notifyConsumer = (): void => {
    const wake = wakeConsumer;
    wakeConsumer = null;
    wake?.();
  };
  const notifyReader = (): void => {
    const wake = wakeReader;
    wakeReader = null;
    wake?.();
  };

  /** A list is read as far as needed, at once; a stream by readAsync, concurrently. */
  function readSync(): void {
    if (syncSource === null) return;
    while (!inputDone && queue.length < readAhead) {
      const item = syncSource.next();
      if (item.done) inputDone = true;
      else (queue.push(item.value), seen++);
    }
  }

  async function readAsync(iterator: AsyncIterator<T>): Promise<void> {
    try {
      while (!stopped) {
        if (queue.length >= readAhead) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
          continue;
        }
        const item = await iterator.next();
        if (item.done) break;
        queue.push(item.value);
        seen++;
        startChunks(false); // the decoders need not wait for the consumer to come back
        notifyConsumer();
      }
    } catch (error) {
      readError = { error };
    } finally {
      inputDone = true;
      notifyConsumer();
    }
  }

  function choosePool(): void {
    if (poolDecided) return;
    const count = options.expected ?? seen;
    const processes = decoderProcessCount(count, { ...options, decoderScript: script });
    if (processes > 0 && script !== null) {
      pool = options.started ?? new DecoderPool(script, processes);
      ahead = Math.max(1, options.ahead ?? (processes * 2 + 1) * POOL_CHUNK);
      readAhead = Math.max(READ_AHEAD, ahead);
      poolDecided = true;
      options.onPool?.(pool.pids());
    } else if (options.expected !== null || inputDone || options.processes === 0 || script === null) {
      poolDecided = true; // the count is final: decode in this process
    }
  }

  const outcome = (input: T, index: number, pixels: Uint8Array | null, reason: string | null): DecodeOutcome & { input: T } =>
    (pixels !== null ? { index, path: input.path, pixels, reason: null, input } : { index, path: input.path, pixels: null, reason: reason!, input });

  async function inProcess(chunk: T[], first: number): Promise<(DecodeOutcome & { input: T })[]> {
    const out: (DecodeOutcome & { input: T })[] = [];
    for (const [k, input] of chunk.entries()) {
      if (input.reason !== null) {
        out.push(outcome(input, first + k, null, input.reason));
        continue;
      }
      if (stopped) break;
      try {
        out.push(outcome(input, first + k, await decodeImage(input.path, settings), null));
      } catch (err) {
        out.push(outcome(input, first + k, null, failureReason(err)));
      }
    }
    return out;
  }

  async function inPool(p: DecoderPool, chunk: T[], first: number): Promise<(DecodeOutcome & { input: T })[]> {
    const files = chunk.filter((input) => input.reason === null);
    let result: ChunkResult;
    try {
      result = files.length > 0 ? await p.decode(files.map((f) => f.path), settings) : { pixels: new Uint8Array(0), reasons: [] };
    } catch {
      // The pool was closed (we stopped) or could not keep a process alive: decode here instead.
      return stopped ? [] : inProcess(chunk, first);
    }
    let f = 0;
    return chunk.map((input, k) => {
      if (input.reason !== null) return outcome(input, first + k, null, input.reason);
      const reason = result.reasons[f] ?? null;
      const pixels = reason === null ? result.pixels.subarray(f * d, (f + 1) * d) : null;
      f++;
      return outcome(input, first + k, pixels, reason);
    });
  }

  // Chunks started and not yet handed out, in input order, and how many images they hold.
  const pending: { size: number; outcomes: Promise<(DecodeOutcome & { input: T })[]> }[] = [];
  let inFlight = 0;
  /** Starts chunks of the queued inputs while there is room; a short last chunk only if `partial`. */
  function startChunks(partial = true): void {
    if (stopped) return;
    readSync();
    choosePool();
    const p = pool as DecoderPool | null;
    const size = p !== null ? POOL_CHUNK : 1;
    for (;;) {
      if (queue.length === 0) readSync();
      if (queue.length === 0 || (!partial && queue.length < size) || (p !== null ? inFlight >= ahead : pending.length >= concurrency)) break;
      const chunk = queue.splice(0, size);
      pending.push({ size: chunk.length, outcomes: p !== null ? inPool(p, chunk, next) : inProcess(chunk, next) });
      next += chunk.length;
      inFlight += chunk.length;
    }
    notifyReader();
  }

  const reader = asyncSource !== null ? readAsync(asyncSource) : null;
  try {
    for (;;) {
      startChunks();
      if (pending.length > 0) {
        const chunk = pending.shift()!;
        const outcomes = await chunk.outcomes;
        inFlight -= chunk.size;
        startChunks(); // keep the decoders busy while the consumer works
        yield* outcomes;
        continue;
      }
      if (inputDone && queue.length === 0) break;
      yield 'idle';
      await new Promise<void>((resolve) => {
        if (queue.length > 0 || inputDone) resolve();
        else wakeConsumer = resolve;
      });
    }
    await reader;
    if (readError !== null) throw (readError as { error: unknown }).error;
  } finally {
    stopped = true;
    (pool as DecoderPool | null)?.close();
    options.started?.close(); // when the stream decoded in this process instead
    notifyReader();
    // The source's own clean-up; its errors no longer matter.
    if (!inputDone) void Promise.resolve(asyncSource?.return?.() ?? syncSource?.return?.()).catch(() => {});
  }
}
