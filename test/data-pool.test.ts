import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodeSettings } from '../src/data/decode.ts';
import { AUTO_POOL_MIN_IMAGES, decodeImages, decoderProcessCount, type DecodeOutcome } from '../src/data/decode-stream.ts';
import { DecoderPool } from '../src/data/decode-pool.ts';
import { BROKEN_KINDS, IMAGE_KINDS, makeTempDir, removeTempDir, writeBrokenFile, writeImage } from './helpers/images.ts';

const root = join(import.meta.dirname, '..');

/** The decoder process script of dist/ (`npm test` builds it from the current sources first). */
async function buildDecoderScript(): Promise<string> {
  const script = join(root, 'dist', 'data', 'decode-child.js');
  if (!existsSync(script)) throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests');
  return script;
}

const settings: DecodeSettings = { width: 9, height: 7, channels: 3, fit: 'cover' };
let tmp: string;
let script: string;
const paths: string[] = [];

async function collect(list: string[], options: Parameters<typeof decodeImages>[2]): Promise<DecodeOutcome[]> {
  const out: DecodeOutcome[] = [];
  for await (const o of decodeImages(list, settings, options)) out.push(o);
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

beforeAll(async () => {
  tmp = makeTempDir();
  script = await buildDecoderScript();
  // 60 images of every kind with broken files among them.
  for (let i = 0; i < 60; i++) {
    const kind = IMAGE_KINDS[i % IMAGE_KINDS.length]!;
    const path = join(tmp, `img-${i}.${kind.includes('png') ? 'png' : kind === 'webp' ? 'webp' : 'jpg'}`);
    if (i % 13 === 5) await writeBrokenFile(path, BROKEN_KINDS[(i / 13) | 0]!);
    else await writeImage(path, kind, { width: 10 + (i % 7), height: 12, seed: i + 1 });
    paths.push(path);
  }
}, 60_000);
afterAll(() => removeTempDir(tmp));

describe('decoder processes', () => {
  it('give the same outcomes, in the same order, as decoding in this process', async () => {
    const here = await collect(paths, { processes: 0 });
    let pids: number[] = [];
    const pooled = await collect(paths, { processes: 2, decoderScript: script, onPool: (p) => (pids = p) });
    expect(pids.length).toBe(2);
    expect(pooled.map((o) => o.index)).toEqual(paths.map((_, i) => i));
    expect(pooled.map((o) => o.path)).toEqual(paths);
    expect(pooled.map((o) => o.reason)).toEqual(here.map((o) => o.reason));
    expect(here.filter((o) => o.reason !== null).length).toBe(5);
    for (let i = 0; i < paths.length; i++) {
      const a = here[i]!.pixels;
      const b = pooled[i]!.pixels;
      if (a === null) expect(b).toBeNull();
      else expect(Buffer.from(b!).equals(Buffer.from(a))).toBe(true);
    }
    // The processes end with the generator.
    expect(await waitUntil(() => pids.every((p) => !isAlive(p)))).toBe(true);
  });

  it('started before the stream (nn-eval): taken over when it decodes in processes, closed when it decodes here', async () => {
    const started = new DecoderPool(script, 2);
    const startedPids = started.pids();
    let pids: number[] = [];
    const pooled = await collect(paths, { processes: 2, decoderScript: script, started, onPool: (p) => (pids = p) });
    expect(pids).toEqual(startedPids); // no new processes
    expect(pooled.filter((o) => o.reason === null)).toHaveLength(55);
    expect(await waitUntil(() => startedPids.every((p) => !isAlive(p)))).toBe(true);

    const unused = new DecoderPool(script, 1);
    const unusedPids = unused.pids();
    const here = await collect(paths.slice(0, 10), { processes: 0, decoderScript: script, started: unused, onPool: () => expect.fail('no pool') });
    expect(here).toHaveLength(10);
    expect(await waitUntil(() => unusedPids.every((p) => !isAlive(p)))).toBe(true);
  });

  it('end when the consumer stops early', async () => {
    let pids: number[] = [];
    for await (const o of decodeImages(paths, settings, { processes: 2, decoderScript: script, onPool: (p) => (pids = p) })) {
      if (o.index === 3) break;
    }
    expect(pids.length).toBe(2);
    expect(await waitUntil(() => pids.every((p) => !isAlive(p)))).toBe(true);
  });

  it('a crashing process costs only the file that crashed it', async () => {
    // A stand-in decoder speaking the same protocol, which dies on any path containing "crash".
    const fake = join(tmp, 'fake-decoder.mjs');
    writeFileSync(
      fake,
      `process.send({ ready: true });
       process.on('disconnect', () => process.exit(0));
       process.on('message', (req) => {
         if (req.paths.some((p) => p.includes('crash'))) process.exit(3);
         const d = req.settings.width * req.settings.height * req.settings.channels;
         const pixels = new Uint8Array(req.paths.length * d).fill(7);
         process.send({ id: req.id, pixels, reasons: req.paths.map(() => null) });
       });`,
    );
    const list = Array.from({ length: 50 }, (_, i) => join(tmp, i === 21 ? 'crash-21.jpg' : `fine-${i}.jpg`));
    const outcomes = await collect(list, { processes: 2, decoderScript: fake });
    expect(outcomes.map((o) => o.index)).toEqual(list.map((_, i) => i));
    for (const o of outcomes) {
      if (o.index === 21) {
        expect(o.reason).toBe('crashed the image decoder (exit code 3)');
      } else {
        expect(o.reason).toBeNull();
        expect(o.pixels!.every((v) => v === 7)).toBe(true);
      }
    }
  });

  it('a pool whose processes cannot start rejects, and decodeImages then decodes in this process', async () => {
    const dead = join(tmp, 'dead-decoder.mjs');
    writeFileSync(dead, 'process.exit(1);\n');
    const pool = new DecoderPool(dead, 1);
    await expect(pool.decode(paths.slice(0, 2), settings)).rejects.toThrow(/no image decoder process/);
    pool.close();
    const outcomes = await collect(paths.slice(0, 20), { processes: 1, decoderScript: dead });
    const here = await collect(paths.slice(0, 20), { processes: 0 });
    expect(outcomes.map((o) => o.reason)).toEqual(here.map((o) => o.reason));
    expect(outcomes.filter((o) => o.pixels !== null).length).toBe(here.filter((o) => o.pixels !== null).length);
  });

  it("'auto' uses processes only for enough images, with 2+ cores and a decoder script", () => {
    expect(decoderProcessCount(10_000, { decoderScript: null })).toBe(0);
    expect(decoderProcessCount(AUTO_POOL_MIN_IMAGES - 1, { decoderScript: script })).toBe(0);
    const cores = availableParallelism();
    expect(decoderProcessCount(AUTO_POOL_MIN_IMAGES, { decoderScript: script })).toBe(cores >= 2 ? cores : 0);
    expect(decoderProcessCount(5, { decoderScript: script, processes: 3 })).toBe(3);
    expect(decoderProcessCount(10_000, { decoderScript: script, processes: 0 })).toBe(0);
  });
});
