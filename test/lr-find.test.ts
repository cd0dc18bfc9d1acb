// The learning-rate finder: the suggestion rule on curves whose answer is known, and the command on a
// tiny synthetic set (its figure, a finite suggestion on stdout, nothing else written).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestLearningRate } from '../src/train/lr-find.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const BIN = join(__dirname, '..', 'bin', 'nn-train.js');

/** 200 rates from 1e-7 to 10 and a loss curve given as a function of log10(lr). */
function curve(loss: (decade: number) => number): { lrs: number[]; smoothed: number[] } {
  const lrs = Array.from({ length: 200 }, (_, i) => 1e-7 * 1e8 ** (i / 199));
  return { lrs, smoothed: lrs.map((lr) => loss(Math.log10(lr))) };
}

describe('suggestLearningRate', () => {
  it('takes the rate halfway down the fall when it lies more than a decade below the minimum', () => {
    // Falls between 1e-5 and 1e-3 (a tanh step centred on 1e-4), lowest at 1e-1, blows up after.
    const { lrs, smoothed } = curve((d) => 0.7 - 0.3 * Math.tanh(2 * (d + 4)) + (d > -1 ? (d + 1) ** 2 : 0));
    const s = suggestLearningRate(lrs, smoothed)!;
    expect(Math.log10(s.halfway)).toBeCloseTo(-4, 0);
    expect(Math.log10(s.minimum)).toBeCloseTo(-1, 0);
    expect(s.lr).toBe(s.halfway);
  });

  it('takes a tenth of the minimum when the fall ends within a decade of it', () => {
    const { lrs, smoothed } = curve((d) => 0.7 - 0.3 * Math.tanh(3 * (d + 1.5)) + (d > -1 ? 4 * (d + 1) ** 2 : 0));
    const s = suggestLearningRate(lrs, smoothed)!;
    expect(s.halfway).toBeGreaterThan(s.minimum / 10);
    expect(s.lr).toBeCloseTo(s.minimum / 10, 12);
  });

  it('a ripple of noise far below the real fall does not move the suggestion', () => {
    // 1.1 at first; a ripple of 0.04 near 3e-6 (what dropout and augmentation give); the real fall
    // to 0.7 centred on 1e-4; lowest near 1e-2, blowing up after.
    const { lrs, smoothed } = curve((d) => 0.9 - 0.2 * Math.tanh(2 * (d + 4)) - 0.04 * Math.exp(-(((d + 5.5) / 0.3) ** 2)) + (d > -2 ? 4 * (d + 2) ** 2 : 0));
    const s = suggestLearningRate(lrs, smoothed)!;
    expect(Math.log10(s.lr)).toBeCloseTo(-4, 0);
  });

  it('a nearly flat curve whose first batches are its lowest (a lucky start): the minimum is read past the warm-up', () => {
    // What a multilayer perceptron on raw pixels gives: 0.74 throughout with a dip of 0.01 near
    // 1e-2, blowing up past 1e-1; the first 20 points are lower than the dip.
    const { lrs, smoothed } = curve((d) => (d < -6.2 ? 0.7 : 0.74 - 0.01 * Math.exp(-((d + 2) ** 2)) + (d > -1 ? 2 * (d + 1) ** 2 : 0)));
    const s = suggestLearningRate(lrs, smoothed)!;
    expect(Math.log10(s.minimum)).toBeCloseTo(-2, 0);
    expect(s.lr).toBeGreaterThanOrEqual(s.minimum / 10 - 1e-15);
    expect(s.lr).toBeGreaterThan(1e-5);
  });

  it('stops reading at the first non-finite loss, and gives up on a curve too short to read', () => {
    const { lrs, smoothed } = curve((d) => 0.7 - 0.2 * Math.tanh(2 * (d + 3)));
    smoothed[150] = NaN;
    expect(suggestLearningRate(lrs, smoothed)!.minimum).toBeLessThan(lrs[150]!);
    expect(suggestLearningRate(lrs.slice(0, 9), smoothed.slice(0, 9))).toBeNull();
  });
});

describe('nn-train --find-lr', () => {
  let dir: string;
  let images: string;
  beforeAll(async () => {
    dir = makeTempDir('nn-lr-find-');
    images = join(dir, 'images');
    await makeLabeledFolder(images, { cats: 40, dogs: 40, size: 16 });
  }, 60_000);
  afterAll(() => removeTempDir(dir));

  const config = (name: string, extra: Record<string, unknown> = {}): string => {
    const path = join(dir, `${name}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        data: { train: images, width: 12, height: 12, validation: 0.25, cache: join(dir, 'cache') },
        model: { layers: [{ type: 'conv', filters: 4, kernel: 3, bias: false }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'maxpool' }, { type: 'dense', units: 1 }] },
        optimizer: { type: 'adam', lr: 0.001 },
        training: { batchSize: 8, epochs: 1, workers: 2 },
        ...extra,
      }),
    );
    return path;
  };

  it('prints a finite suggestion on stdout, writes lr-find.svg, and writes nothing else', () => {
    const out = join(dir, 'lr');
    const r = spawnSync(process.execPath, [BIN, '--config', config('cnn'), '--find-lr', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const lr = Number(r.stdout.trim());
    expect(r.stderr).toMatch(/suggested learning rate .*\nfigure: .*lr-find\.svg\nuse it: nn-train --config .* --lr /);
    // The explanation's numbers (2 significant digits) obey the rule: the smaller of halfway down
    // the fall and a tenth of the minimum; the fall comes before the minimum; both are rates the
    // scan trained at.
    const [, said, halfway, minimum, batches] = /suggested learning rate (\S+): .* fall \((\S+)\) and a tenth of the rate at the lowest loss \((\S+) \/ 10\), over (\d+) batches/.exec(r.stderr)!.map(Number);
    expect(lr).toBe(said);
    expect(lr).toBeCloseTo(Math.min(halfway!, minimum! / 10), 12);
    expect(halfway).toBeLessThan(minimum!);
    expect(batches).toBeGreaterThan(20);
    const lastRate = 1e-7 * 1e8 ** ((batches! - 1) / 199);
    expect(minimum).toBeLessThanOrEqual(Number(lastRate.toPrecision(2)));
    // Adam on this small problem: its loss falls at a few thousandths and its minimum
    // lies near 1, so the suggestion is in Adam's usual range, not anywhere in the 8 decades scanned.
    expect(lr).toBeGreaterThan(1e-4);
    expect(lr).toBeLessThan(0.05);
    expect(minimum).toBeGreaterThan(0.01);
    expect(readdirSync(out)).toEqual(['lr-find.svg']);
    const svg = readFileSync(join(out, 'lr-find.svg'), 'utf8');
    expect(svg).toMatch(/<svg[^>]*>/);
    expect(svg).toContain('data-name="smoothed"');
    expect(svg).toContain('class="tick-x"');
  }, 120_000);

  it('refuses the genetic algorithm, which has no learning rate', () => {
    const r = spawnSync(process.execPath, [BIN, '--config', config('ga', { model: { hidden: [4] }, optimizer: { type: 'genetic' } }), '--find-lr', '--out', join(dir, 'ga')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--find-lr: the genetic algorithm has no learning rate/);
    expect(existsSync(join(dir, 'ga'))).toBe(false);
  });
});
