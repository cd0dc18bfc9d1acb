/**
 * Entry point of one decoder process of the pool (decode-pool.ts), built to dist/data/decode-child.js.
 * It answers DecodeRequest messages on its IPC channel with DecodeReply messages, and exits when the
 * parent goes away. Not a command for people: started only by DecoderPool.
 */
import { bytesPerImage, decodeImageBytes, ImageDecodeError, loadSharp, readImageFileSync } from './decode.ts';
import type { DecodeReply, DecodeRequest, DecoderReady } from './decode-pool.ts';

/** Images in flight: one in sharp (on the single libuv thread), the next read and queued meanwhile. */
const IMAGES_AT_ONCE = 2;

async function answer(request: DecodeRequest): Promise<DecodeReply> {
  const { id, paths, settings } = request;
  const d = bytesPerImage(settings);
  const pixels = new Uint8Array(paths.length * d);
  const reasons: (string | null)[] = new Array<string | null>(paths.length).fill(null);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < paths.length) {
      const i = next++;
      try {
        pixels.set(await decodeImageBytes(paths[i]!, readImageFileSync(paths[i]!), settings, { readFromPath: true }), i * d);
      } catch (err) {
        reasons[i] = err instanceof ImageDecodeError ? err.reason : `decoder failure: ${(err as Error)?.message ?? String(err)}`;
      }
    }
  }
  await Promise.all(Array.from({ length: IMAGES_AT_ONCE }, lane));
  return { id, pixels, reasons };
}

if (process.send === undefined) {
  process.stderr.write('decode-child.js is started by nn-train itself (it needs an IPC channel); it is not a command.\n');
  process.exitCode = 2;
} else {
  // Ctrl-C in a terminal reaches the whole process group: the parent decides what happens, and
  // ends this process by closing the channel.
  process.on('SIGINT', () => {});
  process.on('disconnect', () => process.exit(0));
  // One chunk at a time, in the order received: the parent sends chunks ahead and consumes them in
  // order, so the first one must not share the process with the ones behind it.
  let previous: Promise<void> = Promise.resolve();
  process.on('message', (request: DecodeRequest) => {
    previous = previous.then(async () => {
      const reply = await answer(request);
      if (process.connected) process.send!(reply);
    });
  });
  // sharp loads now, not on the first image: a process started early (nn-eval) is ready to decode
  // by the time the first paths arrive. A failure to load shows on the first image, as a reason.
  loadSharp().catch(() => {});
  const ready: DecoderReady = { ready: true };
  process.send(ready);
}
