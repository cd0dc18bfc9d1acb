// The one decoding pipeline (src/data/decode-stream.ts) with decoder processes, as nn-eval drives it:
// the processes keep decoding while this thread is blocked (the core's forward pass blocks it for a
// whole batch), the output stays in input order, and a broken file mid-stream is reported in place.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream, POOL_CHUNK, type StreamEvent, type StreamInput } from '../src/data/decode-stream.ts';
import type { DecodeSettings } from '../src/data/decode.ts';
import { decodeInputs, type DecodedInput } from '../src/eval/decode-inputs.ts';
import type { InputItem } from '../src/eval/inputs.ts';
import { predictBatches } from '../src/eval/predict.ts';
import type { Preprocessing } from '../src/io/model-file.ts';
import { makeTempDir, removeTempDir, writeBrokenFile, writeImage } from './helpers/images.ts';

const script = join(import.meta.dirname, '..', 'dist', 'data', 'decode-child.js');
const settings: DecodeSettings = { width: 6, height: 5, channels: 3, fit: 'fill', resize: 'linear' };
let dir: string;
const paths: string[] = [];
const BROKEN = new Set([17, 33]);

/** Sleeps this thread (no event loop turns) until `condition` holds or `ms` pass, as a forward pass would hold it. */
function blockUntil(condition: () => boolean, ms: number): boolean {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    Atomics.wait(cell, 0, 0, 20);
  }
  return condition();
}

beforeAll(async () => {
  if (!existsSync(script)) throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests');
  dir = makeTempDir('nn-stream-overlap-');
  for (let i = 0; i < 48; i++) {
    const path = join(dir, `img-${i}.${i % 2 ? 'png' : 'jpg'}`);
    if (BROKEN.has(i)) await writeBrokenFile(path, i === 17 ? 'truncated' : 'not-an-image');
    else await writeImage(path, i % 2 ? 'png' : 'jpeg', { width: 12 + (i % 5), height: 10, seed: i + 1 });
    paths.push(path);
  }
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('decoding ahead of a blocked consumer', () => {
  it('the processes decode the next chunks while this thread is blocked, and the output keeps input order', async () => {
    // A stand-in decoder speaking the pool's protocol, which logs each chunk it answers.
    const log = join(dir, 'answered.log');
    const fake = join(dir, 'logging-decoder.mjs');
    writeFileSync(log, '');
    writeFileSync(
      fake,
      `import { appendFileSync } from 'node:fs';
       process.send({ ready: true });
       process.on('disconnect', () => process.exit(0));
       process.on('message', (req) => {
         const d = req.settings.width * req.settings.height * req.settings.channels;
         const pixels = new Uint8Array(req.paths.length * d);
         req.paths.forEach((p, k) => pixels.fill(Number(p.split('-').pop()) % 256, k * d, (k + 1) * d));
         appendFileSync(${JSON.stringify(log)}, req.paths.join('\\n') + '\\n');
         process.send({ id: req.id, pixels, reasons: req.paths.map(() => null) });
       });`,
    );
    const inputs: StreamInput[] = Array.from({ length: 200 }, (_, i) => ({ path: `image-${i}`, reason: null }));
    const ahead = 6 * POOL_CHUNK;
    const seen: number[] = [];
    let blockedFor = -1;
    for await (const event of decodeStream(inputs, settings, { expected: inputs.length, processes: 2, decoderScript: fake, ahead })) {
      expect(event).not.toBe('idle');
      const o = event as Exclude<StreamEvent<StreamInput>, 'idle'>;
      expect(o.pixels![0]).toBe(o.index);
      seen.push(o.index);
      if (o.index === 0) {
        // Block this thread at the first image: the chunks within `ahead` are answered meanwhile.
        const answered = (): number => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').length;
        expect(blockUntil(() => answered() >= ahead, 30_000)).toBe(true);
        blockedFor = answered();
      }
    }
    expect(seen).toEqual(inputs.map((_, i) => i));
    expect(blockedFor).toBeGreaterThanOrEqual(ahead);
    expect(blockedFor).toBeLessThanOrEqual(ahead + POOL_CHUNK); // bounded: no more than `ahead` out at once
  });

  it('real decoder processes give the in-process bytes and reasons, a broken file mid-stream in place', async () => {
    const inputs: StreamInput[] = paths.map((path) => ({ path, reason: null }));
    inputs.splice(25, 0, { path: join(dir, 'gone.jpg'), reason: 'no such file or folder' });
    const collect = async (processes: number): Promise<Exclude<StreamEvent<StreamInput>, 'idle'>[]> => {
      const out: Exclude<StreamEvent<StreamInput>, 'idle'>[] = [];
      for await (const e of decodeStream(inputs, settings, { expected: inputs.length, processes, decoderScript: script, ahead: 2 * POOL_CHUNK })) {
        if (e !== 'idle') out.push(e);
        if (out.length % 10 === 0) blockUntil(() => false, 50); // a consumer that stops now and then
      }
      return out;
    };
    const [here, pooled] = [await collect(0), await collect(2)];
    expect(pooled.map((o) => o.path)).toEqual(inputs.map((i) => i.path));
    expect(pooled.map((o) => o.reason)).toEqual(here.map((o) => o.reason));
    const failed = pooled.flatMap((o, i) => (o.reason !== null ? [i] : []));
    expect(failed).toEqual([17, 25, 34]); // img-17, the unreadable input, img-33 (one place later)
    expect(pooled[25]!.reason).toBe('no such file or folder');
    for (let i = 0; i < here.length; i++) {
      if (here[i]!.pixels === null) expect(pooled[i]!.pixels).toBeNull();
      else expect(Buffer.from(pooled[i]!.pixels!).equals(Buffer.from(here[i]!.pixels!))).toBe(true);
    }
  });
});

describe("nn-eval's batches over decoder processes", () => {
  it('predictions in input order and broken files reported in place, with a forward pass that blocks the thread', async () => {
    const pre: Preprocessing = { width: 6, height: 5, channels: 3, fit: 'fill', resize: 'linear', scale: 1 / 255, mean: null, std: null };
    const d = 6 * 5 * 3;
    const batchSize = 8;
    const engine = {
      input: new Float32Array(batchSize * d),
      predict(B: number, out: Float32Array) {
        blockUntil(() => false, 30); // the core holds this thread while it computes
        for (let s = 0; s < B; s++) out[s] = this.input[s * d]!; // the first input value: tells the images apart
      },
    };
    async function* items(): AsyncGenerator<InputItem> {
      for (const path of paths) yield { kind: 'image', image: { path, actual: null } };
    }
    const order: string[] = [];
    const decoded: DecodedInput[] = [];
    for await (const o of decodeInputs(items(), pre, { expected: paths.length, processes: 0 })) decoded.push(o);
    const firstValue = new Map(decoded.flatMap((o) => (o.kind === 'image' ? [[o.image.path, o.pixels[0]! / 255] as const] : [])));
    for await (const batch of predictBatches(decodeInputs(items(), pre, { expected: paths.length, processes: 2, decoderScript: script, ahead: 2 * batchSize }), pre, engine, batchSize)) {
      for (const s of batch.skipped) order.push(`skip:${s.path}`);
      for (const p of batch.predictions) {
        expect(p.pDog).toBe(Math.fround(firstValue.get(p.path)!));
        order.push(p.path);
      }
    }
    // Each skipped file is reported with the batch it fell in, before that batch's predictions.
    const expected: string[] = [];
    for (let i = 0; i < paths.length; ) {
      const batch: string[] = [];
      const skipped: string[] = [];
      for (; i < paths.length && batch.length < batchSize; i++) {
        if (BROKEN.has(i)) skipped.push(`skip:${paths[i]}`);
        else batch.push(paths[i]!);
      }
      expected.push(...skipped, ...batch);
    }
    expect(order).toEqual(expected);
  });
});
