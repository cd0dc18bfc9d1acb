/**
 * Line charts as SVG: one or more series against a shared x axis, a left y axis and, when a
 * series asks for it, a second y axis on the right (accuracy next to loss). Axes get nice ticks
 * and light grid lines, and a legend above the plot never hides the data.
 *
 * Real runs produce awkward data, and a chart must still come out: NaN and Infinity are left out
 * (the line breaks there, and the legend says how many values were skipped), a single point is
 * drawn as a dot, a flat line sits mid-axis, and a chart with no data at all says so.
 *
 * The markup is meant to be read back as well as looked at: every series is a
 * `<g class="series" data-name="...">` of polylines and circles, and every tick label is a
 * `<text class="tick-x|tick-y|tick-y2">` placed exactly at its tick (x or y attribute) whose text
 * `Number()` reads back, so a test (or a curious user) can map pixels back to values.
 */
import { el, num, pointList, svgDocument, text, textWidth } from './svg.ts';
import { formatTick, niceTicks, type Ticks } from './ticks.ts';

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** CSS colour; by default the next colour of the palette. */
  color?: string;
  /** 'right' plots the series against the second y axis. */
  axis?: 'left' | 'right';
  /** 'dots' draws every point as a small dot and no line (for raw noisy samples). */
  style?: 'line' | 'dots';
  dashed?: boolean;
  /** Line width in pixels (default 2). */
  lineWidth?: number;
  /** Dots on the measured points; by default only on short series (30 points or fewer). */
  markers?: boolean;
  /** Show in the legend (default true); background lines such as level sets can stay out of it. */
  inLegend?: boolean;
}

export interface LineChartOptions {
  series: readonly Series[];
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  y2Label?: string;
  /** Fixed axis ranges; by default each axis covers its finite data, widened to whole ticks. */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  y2Range?: readonly [number, number];
  /** Ticks on whole numbers only (epochs). */
  xInteger?: boolean;
  /** A logarithmic x axis (learning rates): ticks at powers of ten, labelled 1e-4 (x must be > 0). */
  xLog?: boolean;
  /** Label the second y axis in percent (a value of 0.5 reads "50%"). */
  y2Percent?: boolean;
  /** Draw the legend (default true); composite figures draw one shared legend instead. */
  legend?: boolean;
  /** Prefix for element ids (the clip path): must differ between charts of one document. */
  id?: string;
}

/**
 * Okabe and Ito's palette, chosen to stay distinguishable for colour-blind readers; black last.
 * (Their yellow is left out: it vanishes on white.)
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

export const DEFAULT_WIDTH = 720;
export const DEFAULT_HEIGHT = 420;

const FONT = { title: 15, label: 12, tick: 11, legend: 12 } as const;
const LEGEND_ROW = 18;
const LEGEND_SWATCH = 22;

/** A legend entry: what the swatch looks like and what it says. */
export interface LegendItem {
  name: string;
  inLegend: boolean;
  color: string;
  style: 'line' | 'dots';
  dashed: boolean;
}

/**
 * Fills in colours (palette order) and defaults, so legend and lines agree. The legend says when
 * values were left out (NaN, Infinity), so a gap is never mistaken for data.
 */
export function legendItems(series: readonly Series[]): LegendItem[] {
  return series.map((s, i) => {
    const skipped = finiteRuns(s.x, s.y).skipped;
    return {
      name: skipped > 0 ? `${s.name} (${skipped} non-finite skipped)` : s.name,
      inLegend: s.inLegend ?? true,
      color: s.color ?? PALETTE[i % PALETTE.length]!,
      style: s.style ?? 'line',
      dashed: s.dashed ?? false,
    };
  });
}

/** Positions of the legend entries, wrapped into rows no wider than `maxWidth`. */
function layoutLegend(items: readonly LegendItem[], maxWidth: number): { x: number; row: number }[] {
  const places: { x: number; row: number }[] = [];
  let x = 0;
  let row = 0;
  for (const item of items) {
    const w = LEGEND_SWATCH + 6 + textWidth(item.name, FONT.legend) + 18;
    if (x > 0 && x + w > maxWidth) {
      row++;
      x = 0;
    }
    places.push({ x, row });
    x += w;
  }
  return places;
}

/** Number of rows the legend needs in `maxWidth` pixels. */
export function legendRows(allItems: readonly LegendItem[], maxWidth: number): number {
  const places = layoutLegend(allItems.filter((item) => item.inLegend), maxWidth);
  return places.length === 0 ? 0 : places[places.length - 1]!.row + 1;
}

/** The legend as SVG, its first row's centre line at (x, y). */
export function legendSvg(allItems: readonly LegendItem[], x: number, y: number, maxWidth: number): string {
  const items = allItems.filter((item) => item.inLegend);
  const places = layoutLegend(items, maxWidth);
  const parts = items.map((item, i) => {
    const px = x + places[i]!.x;
    const py = y + places[i]!.row * LEGEND_ROW;
    const swatch =
      item.style === 'dots'
        ? [3, 11, 19].map((dx) => el('circle', { cx: px + dx, cy: py, r: 2, fill: item.color })).join('')
        : el('line', {
            x1: px,
            y1: py,
            x2: px + LEGEND_SWATCH,
            y2: py,
            stroke: item.color,
            'stroke-width': 2.5,
            'stroke-dasharray': item.dashed ? '6 4' : undefined,
          });
    const label = text(item.name, { x: px + LEGEND_SWATCH + 6, y: py, dy: '0.35em', 'font-size': FONT.legend, fill: '#222222' });
    return swatch + label;
  });
  return el('g', { class: 'legend' }, parts);
}

/** The finite values of a list, or [] (NaN and ±Infinity cannot be placed on an axis). */
function finite(values: Iterable<number>): number[] {
  const out: number[] = [];
  for (const v of values) if (Number.isFinite(v)) out.push(v);
  return out;
}

/** Axis ticks for the values, or for a fixed range, or for [0, 1] when there is nothing to show. */
function axisTicks(
  values: number[],
  fixed: readonly [number, number] | undefined,
  count: number,
  options: { integer?: boolean; tight?: boolean } = {},
): Ticks {
  if (fixed) return niceTicks(fixed[0], fixed[1], count, options);
  if (values.length === 0) return niceTicks(0, 1, count, options);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return niceTicks(lo, hi, count, options);
}

/** Splits a series into runs of consecutive points where both x and y are finite. */
function finiteRuns(xs: readonly number[], ys: readonly number[]): { runs: [number, number][][]; skipped: number } {
  const runs: [number, number][][] = [];
  let current: [number, number][] = [];
  let skipped = 0;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (Number.isFinite(x) && Number.isFinite(y)) {
      current.push([x, y]);
    } else {
      skipped++;
      if (current.length > 0) runs.push(current);
      current = [];
    }
  }
  if (current.length > 0) runs.push(current);
  return { runs, skipped };
}

/** How much room (pixels) the chart needs above the plot area for the title and the legend. */
function topMargin(opts: LineChartOptions, items: LegendItem[], plotWidth: number): number {
  let top = 12;
  if (opts.title !== undefined) top += FONT.title + 10;
  if (opts.legend !== false && items.length > 0) top += legendRows(items, plotWidth) * LEGEND_ROW + 6;
  return top + 6;
}

/**
 * The chart as an SVG group (no document around it), drawn in the rectangle (x, y, width,
 * height); composite figures place several of these side by side.
 */
export function lineChartGroup(opts: LineChartOptions, x = 0, y = 0): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const height = opts.height ?? DEFAULT_HEIGHT;
  const id = opts.id ?? 'chart';
  const items = legendItems(opts.series);
  const left = opts.series.filter((s) => s.axis !== 'right');
  const right = opts.series.filter((s) => s.axis === 'right');
  const hasY2 = right.length > 0 || opts.y2Range !== undefined;

  // Ticks first: the y tick labels decide how wide the left and right margins are.
  // x runs exactly over the data (no blank after the last epoch); y axes end on a labelled tick.
  const approxPlotW = width - 120;
  const approxPlotH = height - 110;
  // On a log axis everything below is placed by log10(x); ticks are whole decades.
  const xOf = opts.xLog ? (v: number): number => (v > 0 ? Math.log10(v) : NaN) : (v: number): number => v;
  const xRange = opts.xRange && ([xOf(opts.xRange[0]), xOf(opts.xRange[1])] as const);
  const xTicks = axisTicks(finite(opts.series.flatMap((s) => s.x.map(xOf))), xRange, Math.max(2, Math.round(approxPlotW / 90)), {
    integer: opts.xInteger || opts.xLog,
    tight: true,
  });
  const xLabelText = (v: number): string => (opts.xLog ? `1e${v}` : formatTick(v, xTicks.step));
  const yCount = Math.max(2, Math.round(approxPlotH / 50));
  const yTicks = axisTicks(finite(left.flatMap((s) => s.y)), opts.yRange, yCount);
  const y2Ticks = hasY2 ? axisTicks(finite(right.flatMap((s) => s.y)), opts.y2Range, yCount) : undefined;
  const yLabelText = (v: number): string => formatTick(v, yTicks.step);
  const y2LabelText = (v: number): string =>
    opts.y2Percent ? `${formatTick(v * 100, y2Ticks!.step * 100)}%` : formatTick(v, y2Ticks!.step);

  const widest = (labels: string[]): number => Math.max(0, ...labels.map((l) => textWidth(l, FONT.tick)));
  const marginLeft = 14 + (opts.yLabel ? FONT.label + 8 : 0) + widest(yTicks.values.map(yLabelText)) + 8;
  const marginRight = hasY2
    ? 14 + (opts.y2Label ? FONT.label + 8 : 0) + widest(y2Ticks!.values.map(y2LabelText)) + 8
    : 24;
  const plotW = Math.max(20, width - marginLeft - marginRight);
  const marginTop = topMargin(opts, items, plotW);
  const marginBottom = 14 + FONT.tick + 8 + (opts.xLabel ? FONT.label + 10 : 0);
  const plotH = Math.max(20, height - marginTop - marginBottom);

  const x0 = x + marginLeft;
  const y0 = y + marginTop;
  /** Pixel of a tick (in axis units) and of a data value. */
  const tx = (v: number): number => x0 + ((v - xTicks.min) / (xTicks.max - xTicks.min)) * plotW;
  const sx = (v: number): number => tx(xOf(v));
  const syFor =
    (t: Ticks) =>
    (v: number): number =>
      y0 + plotH - ((v - t.min) / (t.max - t.min)) * plotH;
  const sy = syFor(yTicks);
  const sy2 = y2Ticks ? syFor(y2Ticks) : sy;

  const parts: string[] = [];

  if (opts.title !== undefined) {
    parts.push(text(opts.title, { x: x + width / 2, y: y + 12 + FONT.title, 'text-anchor': 'middle', 'font-size': FONT.title, 'font-weight': 'bold', fill: '#111111' }));
  }
  if (opts.legend !== false && items.length > 0) {
    const legendTop = y + 12 + (opts.title !== undefined ? FONT.title + 10 : 0) + LEGEND_ROW / 2;
    parts.push(legendSvg(items, x0, legendTop, plotW));
  }

  // Grid and tick labels.
  const grid: string[] = [];
  for (const v of xTicks.values) {
    const px = tx(v);
    grid.push(el('line', { x1: px, y1: y0, x2: px, y2: y0 + plotH, stroke: '#e6e6e6' }));
    grid.push(text(xLabelText(v), { class: 'tick-x', x: px, y: y0 + plotH + 6 + FONT.tick, 'text-anchor': 'middle', 'font-size': FONT.tick, fill: '#444444' }));
  }
  for (const v of yTicks.values) {
    const py = sy(v);
    grid.push(el('line', { x1: x0, y1: py, x2: x0 + plotW, y2: py, stroke: '#e6e6e6' }));
    grid.push(text(yLabelText(v), { class: 'tick-y', x: x0 - 6, y: py, dy: '0.35em', 'text-anchor': 'end', 'font-size': FONT.tick, fill: '#444444' }));
  }
  if (y2Ticks) {
    for (const v of y2Ticks.values) {
      const py = sy2(v);
      grid.push(el('line', { x1: x0 + plotW, y1: py, x2: x0 + plotW + 4, y2: py, stroke: '#444444' }));
      grid.push(text(y2LabelText(v), { class: 'tick-y2', x: x0 + plotW + 7, y: py, dy: '0.35em', 'text-anchor': 'start', 'font-size': FONT.tick, fill: '#444444' }));
    }
  }
  parts.push(el('g', { class: 'grid' }, grid));

  // Axis lines: left and bottom always, right when there is a second axis.
  const axes = [
    el('line', { x1: x0, y1: y0, x2: x0, y2: y0 + plotH, stroke: '#444444' }),
    el('line', { x1: x0, y1: y0 + plotH, x2: x0 + plotW, y2: y0 + plotH, stroke: '#444444' }),
  ];
  if (y2Ticks) axes.push(el('line', { x1: x0 + plotW, y1: y0, x2: x0 + plotW, y2: y0 + plotH, stroke: '#444444' }));
  parts.push(el('g', { class: 'axes' }, axes));

  // Axis titles.
  if (opts.xLabel) {
    parts.push(text(opts.xLabel, { x: x0 + plotW / 2, y: y + height - 12, 'text-anchor': 'middle', 'font-size': FONT.label, fill: '#222222' }));
  }
  if (opts.yLabel) {
    const lx = x + 14 + FONT.label / 2;
    const ly = y0 + plotH / 2;
    parts.push(text(opts.yLabel, { x: lx, y: ly, dy: '0.35em', 'text-anchor': 'middle', transform: `rotate(-90 ${num(lx)} ${num(ly)})`, 'font-size': FONT.label, fill: '#222222' }));
  }
  if (y2Ticks && opts.y2Label) {
    const lx = x + width - 14 - FONT.label / 2;
    const ly = y0 + plotH / 2;
    parts.push(text(opts.y2Label, { x: lx, y: ly, dy: '0.35em', 'text-anchor': 'middle', transform: `rotate(90 ${num(lx)} ${num(ly)})`, 'font-size': FONT.label, fill: '#222222' }));
  }

  // The data, clipped to the plot area (a fixed range may cut a line that leaves it).
  const clipId = `${id}-plot`;
  // The clip rectangle is a few pixels larger than the plot so that markers on its edges stay round.
  parts.push(el('clipPath', { id: clipId }, el('rect', { x: x0 - 4, y: y0 - 4, width: plotW + 8, height: plotH + 8 })));
  let anyPoint = false;
  const lines: string[] = [];
  opts.series.forEach((s, i) => {
    const item = items[i]!;
    const toPixels = s.axis === 'right' ? sy2 : sy;
    const { runs } = finiteRuns(opts.xLog ? s.x.map((v) => (v > 0 ? v : NaN)) : s.x, s.y);
    const pointCount = runs.reduce((n, r) => n + r.length, 0);
    if (pointCount > 0) anyPoint = true;
    const shapes: string[] = [];
    const dot = (px: number, py: number, r: number): string => el('circle', { cx: px, cy: py, r, fill: item.color });
    for (const run of runs) {
      const pixels = run.map(([vx, vy]) => [sx(vx), toPixels(vy)] as [number, number]);
      if (item.style === 'dots') {
        for (const [px, py] of pixels) shapes.push(dot(px, py, 1.8));
        continue;
      }
      if (pixels.length > 1) {
        shapes.push(
          el('polyline', {
            points: pointList(pixels),
            fill: 'none',
            stroke: item.color,
            'stroke-width': s.lineWidth ?? 2,
            'stroke-linejoin': 'round',
            'stroke-linecap': 'round',
            'stroke-dasharray': item.dashed ? '6 4' : undefined,
          }),
        );
      }
      // Markers on short series (a few epochs) show where the measurements are; a lone point
      // between two gaps would otherwise be invisible.
      const markers = s.markers ?? pointCount <= 30;
      const radius = Math.max(2, (s.lineWidth ?? 2) + 1);
      if (pixels.length === 1 || markers) for (const [px, py] of pixels) shapes.push(dot(px, py, radius));
    }
    lines.push(el('g', { class: 'series', 'data-name': s.name }, shapes));
  });
  parts.push(el('g', { 'clip-path': `url(#${clipId})` }, lines));
  if (!anyPoint) {
    parts.push(text('no data', { x: x0 + plotW / 2, y: y0 + plotH / 2, dy: '0.35em', 'text-anchor': 'middle', 'font-size': FONT.label, fill: '#888888' }));
  }

  return el('g', { class: 'chart', id }, parts);
}

/** A complete SVG document holding one line chart. */
export function lineChartSvg(opts: LineChartOptions): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const height = opts.height ?? DEFAULT_HEIGHT;
  return svgDocument(width, height, lineChartGroup(opts), opts.title);
}
