import { describe, expect, it } from 'vitest';
import { lossChartSvg, type EpochMetrics } from '../src/report/loss-chart.ts';
import { axisMap, chartPart, inkFraction, pixelsOfColor, rasterise, seriesValues, texts } from './report-helpers.ts';

const epochs: EpochMetrics[] = [
  { epoch: 1, trainLoss: 0.6931, valLoss: 0.6812, valAccuracy: 0.55 },
  { epoch: 2, trainLoss: 0.6102, valLoss: 0.6254, valAccuracy: 0.64 },
  { epoch: 3, trainLoss: 0.5487, valLoss: 0.5931, valAccuracy: 0.69 },
  { epoch: 4, trainLoss: 0.5012, valLoss: 0.5843, valAccuracy: 0.705 },
  { epoch: 5, trainLoss: 0.4608, valLoss: 0.5901, valAccuracy: 0.712 },
];

describe('loss chart (loss.svg)', () => {
  it('rasterises at 720 x 420, not blank, with all three lines in their colours', async () => {
    const svg = lossChartSvg(epochs);
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([720, 420]);
    expect(inkFraction(r)).toBeGreaterThan(0.01);
    for (const color of ['#0072B2', '#D55E00', '#009E73']) expect(pixelsOfColor(r, color)).toBeGreaterThan(50);
    expect(texts(svg)).toEqual(expect.arrayContaining(['training loss', 'validation loss', 'validation accuracy', 'epoch', 'loss']));
  });

  it("maps each polyline point back to the epoch's values", () => {
    const svg = chartPart(lossChartSvg(epochs), 'loss');
    const check = (name: string, key: 'trainLoss' | 'valLoss' | 'valAccuracy', axis: 'y' | 'y2'): void => {
      const [line, ...rest] = seriesValues(svg, name, axis);
      expect(rest).toHaveLength(0);
      expect(line!.map((p) => p.x)).toEqual(epochs.map((e) => expect.closeTo(e.epoch, 2)));
      expect(line!.map((p) => p.y)).toEqual(epochs.map((e) => expect.closeTo(e[key], 3)));
    };
    check('training loss', 'trainLoss', 'y');
    check('validation loss', 'valLoss', 'y');
    check('validation accuracy', 'valAccuracy', 'y2');
    // Whole epochs only on the x axis; accuracy always on 0..100 %.
    expect(axisMap(svg, 'x').ticks.every((t) => Number.isInteger(t.value))).toBe(true);
    const y2 = axisMap(svg, 'y2').ticks.map((t) => t.value);
    expect([Math.min(...y2), Math.max(...y2)]).toEqual([0, 1]);
  });

  it('copes with a run of one epoch, with a diverged epoch, and with no epochs yet', async () => {
    const one = lossChartSvg(epochs.slice(0, 1));
    expect((await rasterise(one)).width).toBe(720);
    const diverged = lossChartSvg([...epochs, { epoch: 6, trainLoss: Infinity, valLoss: NaN, valAccuracy: 0.5 }]);
    expect(texts(diverged)).toContain('training loss (1 non-finite skipped)');
    expect(inkFraction(await rasterise(diverged))).toBeGreaterThan(0.01);
    const none = lossChartSvg([]);
    expect(texts(none)).toContain('no data');
    expect((await rasterise(none)).height).toBe(420);
  });
});
