// training.tta end to end: after the last epoch nn-train validates the best model again with
// test-time augmentation, reports it (event, model meta), and the figures are those nn-eval gives
// with the same views on the run's validation images.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findImages } from '../src/data/find.ts';
import { splitTrainValidation } from '../src/data/split.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const TRAIN = join(__dirname, '..', 'bin', 'nn-train.js');
const EVAL = join(__dirname, '..', 'bin', 'nn-eval.js');
let dir: string;
let images: string;

beforeAll(async () => {
  dir = makeTempDir('nn-train-tta-');
  images = join(dir, 'images');
  await makeLabeledFolder(images, { cats: 24, dogs: 24, size: 20 });
}, 60_000);
afterAll(() => removeTempDir(dir));

const node = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });

describe('training.tta', { timeout: 120_000 }, () => {
  it('validates the best model with the 18 views of shifts at the end: the event, the model\'s meta, and nn-eval --tta-shifts agree', async () => {
    const config = {
      data: { train: images, width: 12, height: 12, channels: 3, validation: 0.25, shift: 2, flip: true, cache: join(dir, 'cache') },
      model: { layers: [{ type: 'conv', filters: 4, kernel: 3, bias: false }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'maxpool' }, { type: 'flatten' }, { type: 'dense', units: 1 }] },
      optimizer: { type: 'adam', lr: 0.01 },
      training: { batchSize: 8, epochs: 3, seed: 4, tta: 'shifts', workers: 1 },
    };
    writeFileSync(join(dir, 'tta.json'), JSON.stringify(config));
    const out = join(dir, 'run');
    const r = node([TRAIN, '--config', join(dir, 'tta.json'), '--json', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const tta = events.find((e) => e.event === 'tta')!;
    const best = events.filter((e) => e.event === 'epoch' && e.best).at(-1)!;
    expect(tta).toMatchObject({ mode: 'shifts', views: 18, epoch: best.epoch });
    expect(tta.valLoss).not.toBe(best.valLoss);
    expect(events.findIndex((e) => e.event === 'tta')).toBeLessThan(events.findIndex((e) => e.event === 'done'));
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { meta: Record<string, any> };
    expect(model.meta.tta).toEqual({ mode: 'shifts', views: 18, valLoss: tta.valLoss, valAccuracy: tta.valAccuracy });

    // The run's validation images (the split of its seed), through nn-eval with the same views.
    const found = await findImages(images);
    const split = splitTrainValidation(found.files.map((f) => f.relativePath), Uint8Array.from(found.files, (f) => f.label!), { validationFraction: 0.25, seed: 4 });
    const validation = join(dir, 'validation');
    mkdirSync(validation);
    for (const i of split.validation) symlinkSync(resolve(found.files[i]!.path), join(validation, found.files[i]!.relativePath));
    const metrics = join(dir, 'metrics.json');
    const e = node([EVAL, join(out, 'model.json'), validation, '--tta-shifts', '--metrics', metrics, '-q']);
    expect(e.status, e.stderr).toBe(0);
    const m = JSON.parse(readFileSync(metrics, 'utf8')) as { labeled: number; accuracy: number; logLoss: number };
    expect(m.labeled).toBe(12);
    expect(m.accuracy).toBe(tta.valAccuracy);
    expect(Math.abs(m.logLoss - tta.valLoss)).toBeLessThan(1e-6);
  });
});
