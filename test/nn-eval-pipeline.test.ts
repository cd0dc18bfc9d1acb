// nn-eval's streaming pipeline in-process: decodeInputs keeps input order over a source that
// arrives slowly, says when it is idle, passes unreadable inputs through as skipped, and
// predictBatches fills batches, flushes when idle, and gives the reference network's answers.
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInputs, type DecodedInput } from '../src/eval/decode-inputs.ts';
import type { InputItem } from '../src/eval/inputs.ts';
import { predictBatches, type PredictedBatch } from '../src/eval/predict.ts';
import type { Preprocessing } from '../src/io/model-file.ts';
import { Network } from '../src/nn/network.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { mlp } from './helpers/networks.ts';
import { makeTempDir, removeTempDir, writeBrokenFile } from './helpers/images.ts';

const pre: Preprocessing = { width: 2, height: 2, channels: 3, fit: 'fill', scale: 1 / 255, mean: null, std: null };
let dir: string;

beforeAll(async () => {
  dir = makeTempDir('nn-eval-pipeline-');
  for (let i = 0; i < 6; i++) {
    await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 40 * i, g: 40 * i, b: 40 * i } } }).png().toFile(join(dir, `${i}.png`));
  }
  await writeBrokenFile(join(dir, 'bad.jpg'), 'not-an-image');
});
afterAll(() => removeTempDir(dir));

const image = (name: string): InputItem => ({ kind: 'image', image: { path: join(dir, name), actual: null } });

/**
 * A source that yields `groups` of items and pauses between groups, like a slow producer on stdin.
 * The pause lasts until the test calls resume() (when it has seen what the pause must bring out),
 * not a fixed time: on a busy machine decoding a group can take longer than any fixed pause.
 */
function slowSource(groups: InputItem[][]): { source: AsyncGenerator<InputItem>; resume: () => void } {
  let resume = () => {};
  async function* source(): AsyncGenerator<InputItem> {
    for (const [g, group] of groups.entries()) {
      if (g > 0) await new Promise<void>((r) => (resume = r));
      yield* group;
    }
  }
  return { source: source(), resume: () => resume() };
}

function describeOutcome(o: DecodedInput): string {
  if (o.kind === 'idle') return 'idle';
  if (o.kind === 'skipped') return `skip:${o.path.slice(dir.length + 1)}`;
  return `${o.image.path.slice(dir.length + 1)}=${o.pixels[0]}`;
}

describe('decodeInputs', () => {
  it('keeps input order, reports bad inputs in place, and marks the pauses of a slow source', async () => {
    const groups = [[image('0.png'), image('bad.jpg'), image('2.png')], [{ kind: 'unreadable', path: `${dir}/gone.png`, reason: 'no such file or folder' } as InputItem, image('5.png')]];
    const seen: string[] = [];
    const slow = slowSource(groups);
    for await (const o of decodeInputs(slow.source, pre, { expected: null, processes: 0 })) {
      seen.push(describeOutcome(o));
      if (o.kind === 'idle' && seen.length > 3) slow.resume(); // the pause was marked: the producer goes on
    }
    // Pixel 0 of image i is its grey level 40 i; the idle marker comes where the source paused.
    const firstPause = seen.indexOf('idle', 1);
    expect(seen.filter((s) => s !== 'idle')).toEqual(['0.png=0', 'skip:bad.jpg', '2.png=80', 'skip:gone.png', '5.png=200']);
    expect(seen.slice(0, firstPause).filter((s) => s !== 'idle')).toEqual(['0.png=0', 'skip:bad.jpg', '2.png=80']);
  });

  it('a source that fails passes the error on after the outcomes before it', async () => {
    async function* failing(): AsyncGenerator<InputItem> {
      yield image('1.png');
      throw new Error('listing failed');
    }
    const seen: string[] = [];
    await expect(async () => {
      for await (const o of decodeInputs(failing(), pre, { expected: null, processes: 0 })) seen.push(describeOutcome(o));
    }).rejects.toThrow('listing failed');
    expect(seen.filter((s) => s !== 'idle')).toEqual(['1.png=40']);
  });
});

describe('predictBatches', () => {
  // A network whose answer depends on the input: 12 inputs -> 1, weights 0.01 * (i + 1), bias -0.5.
  const arch = planNetwork(mlp(12, [], 'relu'));
  function engine(maxBatch: number) {
    const params = new Float32Array(13).map((_, i) => (i < 12 ? 0.01 * (i + 1) : -0.5));
    const net = new Network(arch, maxBatch, params);
    const input = new Float32Array(maxBatch * 12);
    const calls: number[] = [];
    return { input, calls, predict: (B: number, out: Float32Array) => (calls.push(B), net.predict(input, B, out)), net };
  }

  it('fills batches of batchSize, flushes a partial one when the source is idle, and matches the reference', async () => {
    const e = engine(2);
    const groups = [[image('0.png'), image('1.png'), image('2.png')], [image('3.png'), image('bad.jpg'), image('4.png')]];
    const batches: PredictedBatch[] = [];
    const slow = slowSource(groups);
    for await (const b of predictBatches(decodeInputs(slow.source, pre, { expected: null, processes: 0 }), pre, e, 2)) {
      batches.push(b);
      if (b.predictions.length === 1) slow.resume(); // the partial batch came out during the pause
    }
    // Group 1: a full batch (0, 1), then 2 alone when the source pauses; group 2: (3, 4) with bad.jpg skipped.
    expect(e.calls).toEqual([2, 1, 2]);
    expect(batches.map((b) => b.predictions.map((p) => p.path.slice(dir.length + 1)))).toEqual([['0.png', '1.png'], ['2.png'], ['3.png', '4.png']]);
    expect(batches.flatMap((b) => b.skipped.map((s) => s.path.slice(dir.length + 1)))).toEqual(['bad.jpg']);
    // Each answer equals the network's on that image's inputs (grey level v -> v / 255 everywhere).
    const x = new Float32Array(12);
    const out = new Float32Array(1);
    for (const p of batches.flatMap((b) => b.predictions)) {
      const v = 40 * Number(p.path.slice(dir.length + 1, -4));
      x.fill(Math.fround(v * (1 / 255)));
      e.net.predict(x, 1, out);
      expect(p.pDog).toBe(out[0]);
    }
  });

  it('refuses a core whose input is too small for the batch', async () => {
    const e = engine(1);
    await expect(async () => {
      for await (const _ of predictBatches(decodeInputs(slowSource([[image('0.png')]]).source, pre, { expected: 1, processes: 0 }), pre, e, 2)) void _;
    }).rejects.toThrow(/a batch of 2 needs 24/);
  });
});
