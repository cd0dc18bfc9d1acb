import { describe, expect, it } from 'vitest';
import { el, escapeXml, num, pointList, svgDocument, text } from '../src/report/svg.ts';
import { formatTick, niceTicks } from '../src/report/ticks.ts';
import { lineChartSvg } from '../src/report/line-chart.ts';
import { rasterise, texts } from './report-helpers.ts';

describe('svg writer', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
  });

  it('drops characters XML 1.0 forbids and keeps every other character', () => {
    expect(escapeXml('a\u0000b\u001bc\ud800d')).toBe('abcd');
    expect(escapeXml('tab\tnew\nline β ≥ 😀')).toBe('tab\tnew\nline β ≥ 😀');
  });

  it('escapes attribute values and text content, not markup built by el()', () => {
    const markup = el('g', { 'data-name': '"><script>' }, text('</text><x>&'));
    expect(markup).toBe('<g data-name="&quot;&gt;&lt;script&gt;"><text>&lt;/text&gt;&lt;x&gt;&amp;</text></g>');
    expect(() => el('g', { 'bad name': 1 })).toThrow(/attribute name/);
  });

  it('writes short numbers, never -0, and refuses non-finite ones', () => {
    expect(num(1.23456)).toBe('1.23');
    expect(num(-0.001)).toBe('0');
    expect(num(100)).toBe('100');
    expect(() => num(NaN)).toThrow(RangeError);
    expect(() => num(Infinity)).toThrow(RangeError);
    expect(pointList([[1, 2.005], [3.333, -4]])).toMatch(/^1,2\.0\d? 3\.33,-4$/);
  });

  it('makes a document that sharp can rasterise at its size', async () => {
    const svg = svgDocument(120, 80, el('rect', { x: 10, y: 10, width: 50, height: 30, fill: '#ff0000' }), 'a & b');
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([120, 80]);
    // The red rectangle is there: pixel (20, 20) is red, (100, 70) is the white background.
    const at = (x: number, y: number): number[] => [...r.data.subarray((y * r.width + x) * 3, (y * r.width + x) * 3 + 3)];
    expect(at(20, 20)).toEqual([255, 0, 0]);
    expect(at(100, 70)).toEqual([255, 255, 255]);
  });

  it('keeps a chart valid whatever its series and title are called', async () => {
    const hostile = `</text><script>alert(1)</script> & "q" 'x' \u0007`;
    const svg = lineChartSvg({ title: hostile, xLabel: '<x>', series: [{ name: hostile, x: [1, 2], y: [3, 4] }] });
    expect(svg).not.toContain('<script>');
    // librsvg parses strictly: a broken document would throw here.
    const r = await rasterise(svg);
    expect(r.width).toBeGreaterThan(0);
    expect(texts(svg)).toContain(hostile.replace('\u0007', ''));
  });
});

describe('nice ticks', () => {
  it('labels steps of 1, 2 or 5 times a power of ten, covering the data', () => {
    for (const [lo, hi] of [
      [0.1234, 0.6931],
      [-3, 17],
      [0, 1],
      [1e-7, 3e-7],
      [12345, 98765],
      [0.999, 1.001],
    ] as const) {
      const t = niceTicks(lo, hi, 6);
      const mantissa = t.step / 10 ** Math.floor(Math.log10(t.step) + 1e-9);
      expect([1, 2, 5]).toContainEqual(Number(mantissa.toPrecision(6)));
      expect(t.min).toBeLessThanOrEqual(lo);
      expect(t.max).toBeGreaterThanOrEqual(hi);
      expect(t.values.length).toBeGreaterThanOrEqual(2);
      expect(t.values.length).toBeLessThanOrEqual(12);
      // Labels read back as the tick values, with no binary noise such as 0.30000000000000004.
      for (const v of t.values) {
        expect(Number(formatTick(v, t.step))).toBeCloseTo(v, 12);
        expect(formatTick(v, t.step).length).toBeLessThan(10);
      }
    }
  });

  it('widens a zero-width range around its value', () => {
    const t = niceTicks(0.5, 0.5, 5);
    expect(t.min).toBeLessThan(0.5);
    expect(t.max).toBeGreaterThan(0.5);
    const zero = niceTicks(0, 0, 5);
    expect(zero.min).toBeLessThan(0);
    expect(zero.max).toBeGreaterThan(0);
  });

  it('keeps a tight axis exactly on the data and integer ticks whole', () => {
    const t = niceTicks(1, 12, 7, { tight: true, integer: true });
    expect([t.min, t.max]).toEqual([1, 12]);
    expect(t.values).toEqual([2, 4, 6, 8, 10, 12]);
    const few = niceTicks(1, 3, 10, { integer: true, tight: true });
    expect(few.values).toEqual([1, 2, 3]);
  });
});
