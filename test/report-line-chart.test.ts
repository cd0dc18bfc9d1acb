import { describe, expect, it } from 'vitest';
import { lineChartSvg, PALETTE } from '../src/report/line-chart.ts';
import { axisMap, inkFraction, pixelsOfColor, rasterise, seriesShapes, seriesValues, texts } from './report-helpers.ts';

const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const falling = xs.map((x) => 2 * Math.exp(-x / 3));
const rising = xs.map((x) => 0.4 + 0.05 * x);

describe('line chart', () => {
  it('has the requested size, is not blank, and draws each series in its colour', async () => {
    const svg = lineChartSvg({
      width: 500,
      height: 300,
      title: 'two series',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { name: 'falling', x: xs, y: falling },
        { name: 'rising', x: xs, y: rising },
      ],
    });
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([500, 300]);
    const ink = inkFraction(r);
    expect(ink).toBeGreaterThan(0.01);
    expect(ink).toBeLessThan(0.5);
    expect(pixelsOfColor(r, PALETTE[0])).toBeGreaterThan(100);
    expect(pixelsOfColor(r, PALETTE[1])).toBeGreaterThan(100);
    expect(texts(svg)).toEqual(expect.arrayContaining(['two series', 'x', 'y', 'falling', 'rising']));
  });

  it('places every point where the axes say its value is', () => {
    const svg = lineChartSvg({ series: [{ name: 'falling', x: xs, y: falling }] });
    const [line] = seriesValues(svg, 'falling');
    expect(line).toHaveLength(xs.length);
    line!.forEach((p, i) => {
      expect(p.x).toBeCloseTo(xs[i]!, 2);
      expect(p.y).toBeCloseTo(falling[i]!, 3);
    });
    // The y axis covers the data and starts and ends on a labelled tick.
    const y = axisMap(svg, 'y');
    expect(Math.min(...y.ticks.map((t) => t.value))).toBeLessThanOrEqual(Math.min(...falling));
    expect(Math.max(...y.ticks.map((t) => t.value))).toBeGreaterThanOrEqual(Math.max(...falling));
  });

  it('maps right-axis series through the second axis', () => {
    const svg = lineChartSvg({
      y2Range: [0, 1],
      y2Percent: true,
      series: [
        { name: 'loss', x: xs, y: falling },
        { name: 'accuracy', x: xs, y: rising, axis: 'right' },
      ],
    });
    const y2 = axisMap(svg, 'y2');
    expect(y2.ticks[0]!.label).toBe('0%');
    expect(y2.ticks[y2.ticks.length - 1]!.label).toBe('100%');
    const [line] = seriesValues(svg, 'accuracy', 'y2');
    line!.forEach((p, i) => expect(p.y).toBeCloseTo(rising[i]!, 3));
  });

  it('breaks the line at NaN and Infinity, and the legend says how many were skipped', async () => {
    const y = [1, 0.8, NaN, 0.6, 0.5, Infinity, 0.3, -Infinity, 0.2, 0.1];
    const svg = lineChartSvg({ series: [{ name: 'loss', x: xs, y }] });
    const lines = seriesValues(svg, 'loss');
    expect(lines.map((l) => l.map((p) => Math.round(p.x)))).toEqual([[0, 1], [3, 4], [8, 9]]);
    // The lone finite point between two gaps (x = 6) is still drawn, as a dot.
    const dots = seriesShapes(svg, 'loss').dots.map(([px]) => Math.round(axisMap(svg, 'x').toValue(px)));
    expect(dots).toContain(6);
    expect(texts(svg)).toContain('loss (3 non-finite skipped)');
    const r = await rasterise(svg);
    expect(inkFraction(r)).toBeGreaterThan(0.01);
  });

  it('draws a single point as a dot in the middle of its axes', async () => {
    const svg = lineChartSvg({ series: [{ name: 'one', x: [3], y: [0.42] }] });
    const { polylines, dots } = seriesShapes(svg, 'one');
    expect(polylines).toHaveLength(0);
    expect(dots).toHaveLength(1);
    const x = axisMap(svg, 'x');
    const y = axisMap(svg, 'y');
    expect(x.toValue(dots[0]![0])).toBeCloseTo(3, 2);
    expect(y.toValue(dots[0]![1])).toBeCloseTo(0.42, 3);
    expect(pixelsOfColor(await rasterise(svg), PALETTE[0])).toBeGreaterThan(10);
  });

  it('still draws axes and says "no data" with no series, empty series, or only NaN', async () => {
    for (const series of [[], [{ name: 'empty', x: [], y: [] }], [{ name: 'nan', x: [1, 2], y: [NaN, NaN] }]]) {
      const svg = lineChartSvg({ width: 300, height: 200, series });
      expect(texts(svg)).toContain('no data');
      const r = await rasterise(svg);
      expect([r.width, r.height]).toEqual([300, 200]);
      expect(inkFraction(r)).toBeGreaterThan(0.002);
    }
  });

  it('draws a flat line in the middle of the y axis', () => {
    const svg = lineChartSvg({ series: [{ name: 'flat', x: xs, y: xs.map(() => 5) }] });
    const [line] = seriesValues(svg, 'flat');
    for (const p of line!) expect(p.y).toBeCloseTo(5, 6);
    const y = axisMap(svg, 'y');
    const values = y.ticks.map((t) => t.value);
    expect((Math.min(...values) + Math.max(...values)) / 2).toBeCloseTo(5, 6);
  });
});
