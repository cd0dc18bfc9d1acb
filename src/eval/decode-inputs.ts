/**
 * Decoding nn-eval's inputs: the training pipeline's decoder (src/data/decode.ts, and its pool of
 * decoder processes) driven by a source that may still be arriving, such as paths on stdin.
 *
 * src/data/decode-stream.ts decodes a list known in advance; here the list grows while we work,
 * so this module keeps its own window over the same pieces:
 *   - a reader pulls inputs ahead into a bounded queue (READ_AHEAD), so memory stays bounded
 *     whatever the number of images;
 *   - chunks of queued inputs are decoded with at most `window` chunks in flight (a chunk is one
 *     image in this process, or up to POOL_CHUNK images sent to a decoder process);
 *   - outcomes come out in input order, and when everything read so far is out while the source
 *     has nothing new yet, an { kind: 'idle' } marker says so, so that the consumer can flush a
 *     partial batch instead of waiting (a slow producer still sees its answers at once).
 * Decoder processes start when the expected count reaches AUTO_POOL_MIN_IMAGES, or, for a source
 * of unknown length, once that many inputs have arrived.
 */
import { bytesPerImage, decodeImage, decodeSettingsOf, ImageDecodeError } from '../data/decode.ts';
import type { Preprocessing } from '../data/preprocessing.ts';
import { builtDecoderScript, DecoderPool } from '../data/decode-pool.ts';
import { decoderProcessCount } from '../data/decode-stream.ts';
import type { InputImage, InputItem } from './inputs.ts';

export type DecodedInput =
  | { kind: 'image'; image: InputImage; pixels: Uint8Array }
  | { kind: 'skipped'; path: string; reason: string }
  /** Every input read so far has been handed out and the source has nothing new yet. */
  | { kind: 'idle' };

export interface DecodeInputsOptions {
  /** Number of inputs when known in advance (a folder), or null (stdin). */
  expected: number | null;
  /** Decoder processes: 0 = decode in this process, a number, or 'auto' (see src/data/decode-stream.ts). */
  processes?: number | 'auto';
  /** Images decoded at once in this process (default 4). */
  concurrency?: number;
  /** The decoder process script (default: the built one, if any). */
  decoderScript?: string | null;
}

/** Images per chunk sent to a decoder process (as in src/data/decode-stream.ts). */
const POOL_CHUNK = 16;
/** Inputs read ahead of the decoder at most: paths only, so a few kilobytes. */
const READ_AHEAD = 256;

function failureReason(err: unknown): string {
  return err instanceof ImageDecodeError ? err.reason : `decoder failure: ${(err as Error)?.message ?? String(err)}`;
}

export async function* decodeInputs(
  items: AsyncIterable<InputItem>,
  preprocessing: Preprocessing,
  options: DecodeInputsOptions,
): AsyncGenerator<DecodedInput, void, undefined> {
  // The model's decoded size and resize: exactly the bytes training cached (the window comes later, in fillInputs).
  const settings = decodeSettingsOf(preprocessing);
  const script = options.decoderScript === undefined ? builtDecoderScript() : options.decoderScript;
  const d = bytesPerImage(settings);
  const iterator = items[Symbol.asyncIterator]();
  const queue: InputItem[] = [];
  let seen = 0;
  let inputDone = false;
  let readError: { error: unknown } | null = null;
  let stopped = false;
  let pool: DecoderPool | null = null;
  let poolDecided = false;
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

  async function readAhead(): Promise<void> {
    try {
      while (!stopped) {
        if (queue.length >= READ_AHEAD) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
          continue;
        }
        const next = await iterator.next();
        if (next.done) break;
        queue.push(next.value);
        seen++;
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
    if (poolDecided || script === null) return;
    const count = options.expected ?? seen;
    const processes = decoderProcessCount(count, { processes: options.processes ?? 'auto', decoderScript: script });
    if (processes > 0) {
      pool = new DecoderPool(script, processes);
      poolDecided = true;
    } else if (options.expected !== null || inputDone || options.processes === 0) {
      poolDecided = true; // the count is final: decode in this process
    }
  }

  async function inProcess(chunk: InputItem[]): Promise<DecodedInput[]> {
    const out: DecodedInput[] = [];
    for (const item of chunk) {
      if (item.kind === 'unreadable') {
        out.push({ kind: 'skipped', path: item.path, reason: item.reason });
        continue;
      }
      if (stopped) break;
      try {
        out.push({ kind: 'image', image: item.image, pixels: await decodeImage(item.image.path, settings) });
      } catch (err) {
        out.push({ kind: 'skipped', path: item.image.path, reason: failureReason(err) });
      }
    }
    return out;
  }

  async function inPool(p: DecoderPool, chunk: InputItem[]): Promise<DecodedInput[]> {
    const images = chunk.flatMap((item) => (item.kind === 'image' ? [item.image] : []));
    let result;
    try {
      result = images.length > 0 ? await p.decode(images.map((i) => i.path), settings) : { pixels: new Uint8Array(0), reasons: [] };
    } catch {
      // The pool was closed (we stopped) or could not keep a process alive: decode here instead.
      return stopped ? [] : inProcess(chunk);
    }
    const out: DecodedInput[] = [];
    let k = 0;
    for (const item of chunk) {
      if (item.kind === 'unreadable') {
        out.push({ kind: 'skipped', path: item.path, reason: item.reason });
        continue;
      }
      const reason = result.reasons[k] ?? null;
      out.push(reason === null ? { kind: 'image', image: item.image, pixels: result.pixels.subarray(k * d, (k + 1) * d) } : { kind: 'skipped', path: item.image.path, reason });
      k++;
    }
    return out;
  }

  const pending: Promise<DecodedInput[]>[] = [];
  function startChunks(): void {
    choosePool();
    const p = pool as DecoderPool | null;
    const window = p !== null ? p.processes * 2 + 1 : Math.max(1, options.concurrency ?? 4);
    const size = p !== null ? POOL_CHUNK : 1;
    while (pending.length < window && queue.length > 0) {
      const chunk = queue.splice(0, size);
      pending.push(p !== null ? inPool(p, chunk) : inProcess(chunk));
    }
    notifyReader();
  }

  const reader = readAhead();
  try {
    for (;;) {
      startChunks();
      if (pending.length > 0) {
        const outcomes = await pending.shift()!;
        startChunks(); // keep the window full while the consumer works
        yield* outcomes;
        continue;
      }
      if (inputDone && queue.length === 0) break;
      yield { kind: 'idle' };
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
    notifyReader();
    if (!inputDone) void Promise.resolve(iterator.return?.()).catch(() => {}); // the source's own clean-up; its errors no longer matter
  }
}
