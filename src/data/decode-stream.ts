/**
 * Decoding many images: results come out in input order as soon as they are ready, with a bounded
 * number in flight, so that 25,000 images stream through in a few megabytes.
 *
 * Two engines, same results:
 *   - in this process: `concurrency` images at once through sharp;
 *   - a DecoderPool of processes (decode-pool.ts), about 1.6 times as fast on 2 cores, used by default
 *     when there are enough images to repay starting the processes and the built decoder script exists.
 *
 * The generator keeps a window of chunks: chunk k is started only once chunk k - window has been
 * handed to the consumer. A slow image (a 4000x3000 photo) holds back the output, not the work
 * around it, and a consumer that stops pulling stops the decoding.
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
  /** Images decoded at once when decoding in this process (default 4). */
  concurrency?: number;
  /** The decoder process script; default builtDecoderScript(). Tests pass a freshly built one. */
  decoderScript?: string | null;
  /** Called with the pool's process ids once started (benchmarks sample their memory). */
  onPool?: (pids: number[]) => void;
}

/** Below this many images, starting decoder processes (about 0.1 s each) costs more than it saves. */
export const AUTO_POOL_MIN_IMAGES = 500;
/** Images per chunk sent to a decoder process: amortises messaging, keeps the output flowing. */
const POOL_CHUNK = 16;

/** How the images will be decoded: in-process, or by how many processes. */
export function decoderProcessCount(imageCount: number, options: DecodeImagesOptions = {}): number {
  const script = options.decoderScript === undefined ? builtDecoderScript() : options.decoderScript;
  const requested = options.processes ?? 'auto';
  if (script === null || requested === 0) return 0;
  if (requested !== 'auto') return Math.max(0, Math.floor(requested));
  const cores = availableParallelism();
  return cores >= 2 && imageCount >= AUTO_POOL_MIN_IMAGES ? cores : 0;
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
  checkDecodeSettings(settings);
  const processes = decoderProcessCount(paths.length, options);
  const script = options.decoderScript === undefined ? builtDecoderScript() : options.decoderScript;
  const pool = processes > 0 && script !== null ? new DecoderPool(script, processes) : null;
  const d = bytesPerImage(settings);
  const chunk = pool !== null ? POOL_CHUNK : 1;
  const window = pool !== null ? processes * 2 + 1 : Math.max(1, options.concurrency ?? 4);
  let stopped = false;

  async function inProcess(start: number, end: number): Promise<DecodeOutcome[]> {
    const out: DecodeOutcome[] = [];
    for (let i = start; i < end; i++) {
      const path = paths[i]!;
      if (stopped) break;
      try {
        out.push({ index: i, path, pixels: await decodeImage(path, settings), reason: null });
      } catch (err) {
        const reason = err instanceof ImageDecodeError ? err.reason : `decoder failure: ${(err as Error)?.message ?? String(err)}`;
        out.push({ index: i, path, pixels: null, reason });
      }
    }
    return out;
  }

  async function decodeChunk(start: number, end: number): Promise<DecodeOutcome[]> {
    if (pool === null) return inProcess(start, end);
    let result: ChunkResult;
    try {
      result = await pool.decode(paths.slice(start, end) as string[], settings);
    } catch {
      // The pool is closed (we stopped) or lost all its processes: carry on in this process.
      return stopped ? [] : inProcess(start, end);
    }
    const out: DecodeOutcome[] = [];
    for (let k = 0; k < end - start; k++) {
      const reason = result.reasons[k] ?? null;
      const path = paths[start + k]!;
      out.push(
        reason === null
          ? { index: start + k, path, pixels: result.pixels.subarray(k * d, (k + 1) * d), reason: null }
          : { index: start + k, path, pixels: null, reason },
      );
    }
    return out;
  }

  const pending: Promise<DecodeOutcome[]>[] = [];
  let next = 0;
  const startChunk = (): void => {
    const start = next;
    next = Math.min(paths.length, start + chunk);
    pending.push(decodeChunk(start, next));
  };
  try {
    if (pool !== null) options.onPool?.(pool.pids());
    while (pending.length < window && next < paths.length) startChunk();
    while (pending.length > 0) {
      const outcomes = await pending.shift()!;
      if (next < paths.length) startChunk(); // keep the window full while the consumer works
      for (const o of outcomes) yield o;
    }
  } finally {
    stopped = true;
    pool?.close();
  }
}
