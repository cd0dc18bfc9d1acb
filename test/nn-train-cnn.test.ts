// Convolutional networks through the whole product: nn-train trains a layer list end to end (the
// layer table, a model that nn-eval reads), the same weights and batch-norm statistics whatever the
// worker count, a resumed run equal bit for bit to an uninterrupted one (mid-epoch, with batch norm
// and dropout), and a bad layer list refused before any work.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import { createCore } from '../src/core/index.ts';
import { readModelFile } from '../src/io/model-file.ts';
import { train } from '../src/train/loop.ts';
import { RunFolder } from '../src/train/run-folder.ts';
import { coreAssets } from './core-helpers.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const BIN = join(__dirname, '..', 'bin', 'nn-train.js');
const EVAL = join(__dirname, '..', 'bin', 'nn-eval.js');
let dir: string;
let images: string;

/** Every kind of layer that trains: conv (stride 1 and 2, same and valid), batch norm, both poolings, dropout. */
const LAYERS = [
  { type: 'conv', filters: 6, kernel: 3, bias: false },
  { type: 'batchnorm' },
  { type: 'relu' },
  { type: 'maxpool', size: 2 },
  { type: 'conv', filters: 8, kernel: 3, stride: 2, padding: 'valid' },
  { type: 'batchnorm', momentum: 0.2 },
  { type: 'leaky_relu' },
  { type: 'avgpool', size: 2, stride: 1 },
  { type: 'flatten' },
  { type: 'dense', units: 10 },
  { type: 'relu' },
  { type: 'dropout', rate: 0.3 },
  { type: 'dense', units: 1 },
];

function writeConfig(name: string, overrides: Record<string, unknown> = {}): string {
  const config = {
    data: { train: images, width: 17, height: 15, channels: 3, validation: 0.25, flip: true, cache: join(dir, 'cache') },
    model: { layers: LAYERS },
    optimizer: { type: 'adam', lr: 0.01 },
    training: { batchSize: 10, epochs: 2, seed: 3, workers: 2 },
    ...overrides,
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const jsonLines = (text: string): Record<string, any>[] => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

beforeAll(async () => {
  dir = makeTempDir('nn-train-cnn-');
  images = join(dir, 'images');
  await makeLabeledFolder(images, { cats: 60, dogs: 60, size: 24 });
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('a convolutional network, end to end', () => {
  it('trains from a layer list, announces the layer table, and leaves a model that nn-eval reads', () => {
    const out = join(dir, 'cnn');
    const r = run(BIN, ['--config', writeConfig('cnn', { training: { batchSize: 10, epochs: 6, seed: 3, workers: 2 } }), '--out', out, '--json']);
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    const start = events.find((e) => e.event === 'start')!;
    expect(start.layers.map((l: { layer: string }) => l.layer)).toEqual([
      'input',
      '[0] conv 6 filters 3x3, no bias',
      '[1] batchnorm',
      '[2] relu',
      '[3] maxpool 2x2',
      '[4] conv 8 filters 3x3, stride 2, valid',
      '[5] batchnorm',
      '[6] leaky_relu',
      '[7] avgpool 2x2, stride 1',
      '[8] flatten',
      '[9] dense 10 units',
      '[10] relu',
      '[11] dropout 0.3',
      '[12] dense 1 unit',
    ]);
    // 15x17 -> same conv 15x17x6 -> pool 7x8 -> valid stride-2 conv 3x3x8 -> avgpool stride 1 2x2x8 -> 32.
    expect(start.layers.map((l: { output: string }) => l.output)).toEqual(['15x17x3', '15x17x6', '15x17x6', '15x17x6', '7x8x6', '3x3x8', '3x3x8', '3x3x8', '2x2x8', '32', '10', '10', '10', '1']);
    expect(start.parameters).toBe(6 * 27 + 12 + 8 * 54 + 8 + 16 + 32 * 10 + 10 + 11); // 971
    expect(start.statistics).toBe(2 * 6 + 2 * 8);
    // The pictures are learnable: far better than chance (0.5) after a few epochs.
    const epochs = events.filter((e) => e.event === 'epoch');
    expect(Math.max(...epochs.map((e) => e.valAccuracy))).toBeGreaterThanOrEqual(0.75);

    const model = readModelFile(join(out, 'model.json'));
    expect(model.network.layers).toHaveLength(LAYERS.length);
    expect(model.stats).toHaveLength(28);
    expect(Array.from(model.stats.subarray(6, 12)).some((v) => v !== 1)).toBe(true); // the running variances moved
    const scored = run(EVAL, [join(out, 'model.json'), images, '--format', 'jsonl']);
    expect(scored.code).toBe(0);
    const predictions = jsonLines(scored.stdout);
    expect(predictions).toHaveLength(120);
    for (const p of predictions) expect(p.p_dog > 0 && p.p_dog < 1).toBe(true);
  }, 120_000);

  it('gives bit-identical weights and batch-norm statistics with 1, 2 and 4 workers', () => {
    const models = [1, 2, 4].map((workers) => {
      const out = join(dir, `workers-${workers}`);
      expect(run(BIN, ['--config', writeConfig('det'), '--out', out, '--quiet', '--workers', String(workers)]).code).toBe(0);
      return readModelFile(join(out, 'model.json'));
    });
    for (const m of models.slice(1)) {
      expect(bits(m.params)).toBe(bits(models[0]!.params));
      expect(bits(m.stats)).toBe(bits(models[0]!.stats));
    }
  }, 120_000);

  it('resumes from a mid-epoch checkpoint to the very model of an uninterrupted run (weights, statistics, dropout masks)', async () => {
    const config = validateConfig(JSON.parse(readFileSync(writeConfig('resume'), 'utf8')), 'resume.json');
    const createEngine = (network: Parameters<typeof createCore>[0]['network'], maxBatch: number) =>
      createCore({ network, maxBatch, loss: config.loss, seed: config.training.seed, workers: 2, assetDir: coreAssets(), minSplitWork: 0 });
    const straight = join(dir, 'straight');
    await train({ config, name: 'straight', folder: RunFolder.create(straight), onEvent: () => {}, createEngine });

    const stopped = join(dir, 'stopped');
    let batches = 0;
    const first = await train({ config, name: 'stopped', folder: RunFolder.create(stopped), onEvent: (e) => void (e.event === 'batch' && batches++), shouldStop: () => batches >= 13, createEngine });
    expect(first.status).toBe('interrupted'); // in the second epoch: 9 batches per epoch
    const folder = RunFolder.open(stopped);
    const checkpoint = folder.readCheckpoint();
    expect(checkpoint).toMatchObject({ epoch: 1, batch: 4 });
    expect(checkpoint.stats).toHaveLength(28);
    const resumed = await train({ config, name: 'stopped', folder, resume: checkpoint, onEvent: () => {}, createEngine });
    expect(resumed.status).toBe('completed');

    const a = readModelFile(join(straight, 'model.json'));
    const b = readModelFile(join(stopped, 'model.json'));
    expect(b.meta.epoch).toBe(a.meta.epoch);
    expect(bits(b.params)).toBe(bits(a.params));
    expect(bits(b.stats)).toBe(bits(a.stats));
  }, 120_000);
});

describe('a bad layer list', () => {
  const cases: [string, unknown[], RegExp][] = [
    ['an unknown type', [{ type: 'conv2d', filters: 4, kernel: 3 }, { type: 'dense', units: 1 }], /model\.layers\[0\]\.type: unknown layer type "conv2d" \(did you mean "conv"\?\)/],
    ['a missing field', [{ type: 'conv', kernel: 3 }, { type: 'dense', units: 1 }], /model\.layers\[0\]\.filters: required, expected a number/],
    ['a field out of range', [{ type: 'conv', filters: 4, kernel: 9 }, { type: 'dense', units: 1 }], /model\.layers\[0\]\.kernel: expected a number <= 7, found 9/],
    ['an unknown field', [{ type: 'maxpool', size: 2, strides: 2 }, { type: 'dense', units: 1 }], /model\.layers\[0\]\.strides: unknown key \(did you mean "stride"\?\)/],
    [
      'a pooling that leaves less than 1x1',
      [{ type: 'maxpool', size: 4, stride: 4 }, { type: 'maxpool', size: 4, stride: 4 }, { type: 'dense', units: 1 }],
      /model\.layers\[1\]: maxpool 4x4 does not fit its input of 3x4x3: a window of 4 rows does not fit in 3 \(the input image is 15x17x3\)/,
    ],
    ['a kernel larger than its input', [{ type: 'conv', filters: 2, kernel: 7, padding: 'valid', stride: 2 }, { type: 'conv', filters: 2, kernel: 7, padding: 'valid' }, { type: 'dense', units: 1 }], /model\.layers\[1\]: conv 2 filters 7x7, valid does not fit its input of 5x6x2: a window of 7 rows does not fit in 5/],
    ['no output layer', [{ type: 'conv', filters: 2, kernel: 3 }, { type: 'relu' }], /model\.layers\[1\]: the last layer must be \{"type":"dense","units":1\}/],
    ['a huge network', [{ type: 'dense', units: 65536 }, { type: 'dense', units: 65536 }, { type: 'dense', units: 1 }], /model\.layers\[1\]: dense 65536 units brings the network to [\d,]+ parameters, more than the 268,435,456 \(1 GiB of float32\) nn-train can train/],
    ['layers and hidden together', [{ type: 'dense', units: 1 }], /model\.hidden: give either model\.layers or model\.hidden and model\.activation/],
  ];
  for (const [name, layers, message] of cases) {
    it(`${name}: one line, exit 2, nothing written`, () => {
      const out = join(dir, `bad-${name.replace(/\W+/g, '-')}`);
      const model = name === 'layers and hidden together' ? { layers, hidden: [4] } : { layers };
      const r = run(BIN, ['--config', writeConfig('bad', { model }), '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^nn-train: .*bad\.json: /);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('the genetic algorithm refuses batch norm and dropout, naming the layer and why', () => {
    const r = run(BIN, ['--config', writeConfig('ga', { optimizer: { type: 'genetic' } })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model\.layers\[1\]: the genetic algorithm cannot train a batchnorm layer \(its running statistics come from training passes/);
  });

  it('--print-config shows the layer table on stderr and keeps stdout the JSON config', () => {
    const r = run(BIN, ['--config', writeConfig('print'), '--print-config']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).model.layers).toHaveLength(LAYERS.length);
    expect(r.stderr).toMatch(/^layer\s+output\s+parameters\ninput\s+15x17x3\n\[0\] conv 6 filters 3x3, no bias\s+15x17x6\s+162\n/);
    expect(r.stderr).toMatch(/\n971 parameters \(and 28 batch-norm statistics\)\n$/);
  });
});
