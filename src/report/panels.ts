/**
 * Several line charts side by side in one SVG, under one title and one shared legend: for
 * figures that compare the same lines two ways (loss against epochs and against seconds; averages
 * without and with bias correction). The panels draw no legend of their own, so their series
 * must come in the same order with the same styles; the legend is made from the first panel.
 */
import { legendItems, legendRows, legendSvg, lineChartGroup, type LineChartOptions } from './line-chart.ts';
import { svgDocument, text } from './svg.ts';

export interface PanelsOptions {
  panels: readonly LineChartOptions[];
  title?: string;
  /** Size of the whole figure in pixels. */
  width: number;
  height: number;
}

const TITLE_FONT = 16;
const LEGEND_ROW = 18;

export function panelsSvg(opts: PanelsOptions): string {
  const { width, height, panels } = opts;
  if (panels.length === 0) throw new RangeError('panelsSvg: no panels');
  const items = legendItems(panels[0]!.series);
  const legendWidth = width - 80;

  let top = 12;
  const parts: string[] = [];
  if (opts.title !== undefined) {
    parts.push(text(opts.title, { x: width / 2, y: top + TITLE_FONT, 'text-anchor': 'middle', 'font-size': TITLE_FONT, 'font-weight': 'bold', fill: '#111111' }));
    top += TITLE_FONT + 10;
  }
  if (items.length > 0) {
    parts.push(legendSvg(items, 60, top + LEGEND_ROW / 2, legendWidth));
    top += legendRows(items, legendWidth) * LEGEND_ROW + 4;
  }

  const panelWidth = width / panels.length;
  panels.forEach((panel, i) => {
    parts.push(
      // Each panel needs its own id: the clip paths of one document must not share a name.
      lineChartGroup({ ...panel, legend: false, width: panelWidth, height: height - top, id: panel.id ?? `panel${i + 1}` }, i * panelWidth, top),
    );
  });
  return svgDocument(width, height, parts, opts.title);
}
