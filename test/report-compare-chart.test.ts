import { describe, expect, it } from 'vitest';
import { compareChartSvg, type RaceRun } from '../src/report/compare-chart.ts';
import { PALETTE } from '../src/report/line-chart.ts';
import { axisMap, chartPart, inkFraction, pixelsOfColor, rasterise, seriesValues, texts } from './report-helpers.ts';

// Three optimizers: adam is best per epoch, but its epochs take longer.
const runs: RaceRun[] = [
  { name: 'sgd', points: [1, 2, 3, 4].map((e) => ({ epoch: e, seconds: 2 * e, valLoss: 0.7 - 0.03 * e })) },
  { name: 'momentum', points: [1, 2, 3, 4].map((e) => ({ epoch: e, seconds: 2.1 * e, valLoss: 0.69 - 0.06 * e })) },
  { name: 'adam', points: [1, 2, 3].map((e) => ({ epoch: e, seconds: 3.5 * e, valLoss: 0.65 - 0.1 * e })) },
];

describe('optimizer race chart (compare.svg)', () => {
  it('rasterises at 960 x 440 with one coloured line per optimizer', async () => {
    const svg = compareChartSvg(runs);
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([960, 440]);
    expect(inkFraction(r)).toBeGreaterThan(0.01);
    PALETTE.slice(0, 3).forEach((color) => expect(pixelsOfColor(r, color)).toBeGreaterThan(50));
    // One shared legend: each name appears once as text.
    for (const run of runs) expect(texts(svg).filter((t) => t === run.name)).toHaveLength(1);
  });

  it('plots validation loss against epochs on the left and against seconds on the right', () => {
    const svg = compareChartSvg(runs);
    const epochPanel = chartPart(svg, 'epochs');
    const secondsPanel = chartPart(svg, 'seconds');
    for (const run of runs) {
      const [byEpoch] = seriesValues(epochPanel, run.name);
      const [bySeconds] = seriesValues(secondsPanel, run.name);
      expect(byEpoch!.map((p) => p.x)).toEqual(run.points.map((p) => expect.closeTo(p.epoch, 2)));
      expect(bySeconds!.map((p) => p.x)).toEqual(run.points.map((p) => expect.closeTo(p.seconds, 2)));
      expect(byEpoch!.map((p) => p.y)).toEqual(run.points.map((p) => expect.closeTo(p.valLoss, 3)));
      expect(bySeconds!.map((p) => p.y)).toEqual(run.points.map((p) => expect.closeTo(p.valLoss, 3)));
    }
    // Same loss scale in both panels, and the clock starts at 0.
    expect(axisMap(epochPanel, 'y').ticks.map((t) => t.label)).toEqual(axisMap(secondsPanel, 'y').ticks.map((t) => t.label));
    expect(axisMap(secondsPanel, 'x').ticks[0]!.value).toBe(0);
  });

  it('draws a race with no runs, and one where a run diverged', async () => {
    expect((await rasterise(compareChartSvg([]))).width).toBe(960);
    const diverged = compareChartSvg([...runs, { name: 'big lr', points: [{ epoch: 1, seconds: 1, valLoss: NaN }] }]);
    expect(texts(diverged)).toContain('big lr (1 non-finite skipped)');
    expect(inkFraction(await rasterise(diverged))).toBeGreaterThan(0.01);
  });
});
