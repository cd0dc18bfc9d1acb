/**
 * Helpers for the chart tests: rasterise an SVG with sharp (librsvg, a strict XML parser, so a
 * malformed document fails here), count pixels, and read the data back out of the markup, from
 * the tick labels a reader sees to the polylines' pixel coordinates.
 */
import sharp from 'sharp';

export interface Raster {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

export async function rasterise(svg: string): Promise<Raster> {
  const { data, info } = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** Fraction of pixels that are not (almost) white. */
export function inkFraction(r: Raster): number {
  let ink = 0;
  for (let i = 0; i < r.data.length; i += r.channels) {
    if (r.data[i]! < 235 || r.data[i + 1]! < 235 || r.data[i + 2]! < 235) ink++;
  }
  return ink / (r.width * r.height);
}

/** Number of pixels within `tolerance` (per channel) of a colour given as '#rrggbb'. */
export function pixelsOfColor(r: Raster, hex: string, tolerance = 24): number {
  const [cr, cg, cb] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let count = 0;
  for (let i = 0; i < r.data.length; i += r.channels) {
    if (Math.abs(r.data[i]! - cr) <= tolerance && Math.abs(r.data[i + 1]! - cg) <= tolerance && Math.abs(r.data[i + 2]! - cb) <= tolerance) count++;
  }
  return count;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The markup of one chart (`<g class="chart" id="...">`), up to the next chart. */
export function chartPart(svg: string, id: string): string {
  const start = svg.indexOf(`<g class="chart" id="${id}">`);
  if (start < 0) throw new Error(`no chart with id ${id}`);
  const next = svg.indexOf('<g class="chart"', start + 1);
  return svg.slice(start, next < 0 ? svg.length : next);
}

/** The value <-> pixel map of an axis, fitted through its first and last tick labels. */
export interface AxisMap {
  toValue(pixel: number): number;
  ticks: { pixel: number; label: string; value: number }[];
}

export function axisMap(svg: string, axis: 'x' | 'y' | 'y2'): AxisMap {
  const attr = axis === 'x' ? 'x' : 'y';
  const re = new RegExp(`<text class="tick-${axis}" ([^>]*)>([^<]*)</text>`, 'g');
  const ticks = [...svg.matchAll(re)].map((m) => {
    const pixel = Number(new RegExp(`\\b${attr}="([^"]+)"`).exec(m[1]!)![1]);
    const label = unescapeXml(m[2]!);
    const value = label.endsWith('%') ? Number(label.slice(0, -1)) / 100 : Number(label);
    return { pixel, label, value };
  });
  if (ticks.length < 2) throw new Error(`axis ${axis}: fewer than two ticks`);
  const a = ticks[0]!;
  const b = ticks[ticks.length - 1]!;
  return { ticks, toValue: (pixel) => a.value + ((pixel - a.pixel) / (b.pixel - a.pixel)) * (b.value - a.value) };
}

/** A series' markup: its polylines (as pixel point lists) and its dots. */
export function seriesShapes(svg: string, name: string): { polylines: [number, number][][]; dots: [number, number][] } {
  const escaped = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const open = `<g class="series" data-name="${escaped}"`;
  const start = svg.indexOf(open);
  if (start < 0) throw new Error(`no series named ${name}`);
  const selfClosing = svg.startsWith('/>', start + open.length);
  const body = selfClosing ? '' : svg.slice(start, svg.indexOf('</g>', start));
  const polylines = [...body.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    m[1]!.split(' ').map((pair) => pair.split(',').map(Number) as [number, number]),
  );
  const dots = [...body.matchAll(/<circle cx="([^"]+)" cy="([^"]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
  return { polylines, dots };
}

/** The data values of a series' line, read back through the axes' tick labels. */
export function seriesValues(svg: string, name: string, yAxis: 'y' | 'y2' = 'y'): { x: number; y: number }[][] {
  const xMap = axisMap(svg, 'x');
  const yMap = axisMap(svg, yAxis);
  return seriesShapes(svg, name).polylines.map((line) => line.map(([px, py]) => ({ x: xMap.toValue(px), y: yMap.toValue(py) })));
}

/** All text content of the document's `<text>` elements, unescaped. */
export function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => unescapeXml(m[1]!));
}
