/**
 * The learning-rate finder's picture (lr-find.svg): the loss of each batch (dots) and its smoothed
 * curve against the learning rate on a log axis, with the suggested rate, the rate halfway down the fall and
 * the minimum marked by vertical lines.
 */
import { lineChartSvg, type Series } from './line-chart.ts';

/** What the picture shows: the finder's result (src/train/lr-find.ts) fits it. */
export interface LrFindCurve {
  /** Per batch trained: its learning rate, its loss, the smoothed loss. */
  lrs: number[];
  losses: number[];
  smoothed: number[];
  /** The suggested rate, the rate halfway down the fall and the minimum, or null when none. */
  suggestion: { lr: number; halfway: number; minimum: number } | null;
}

export function lrFindSvg(result: LrFindCurve, title = 'Learning-rate finder'): string {
  const finite = result.smoothed.filter(Number.isFinite);
  const lo = Math.min(...finite);
  // The y axis shows the smoothed curve and a little above its start: the blow-up at the end, and
  // the noisiest raw losses, would otherwise squash everything that matters into a line.
  const hi = Math.max(...finite.slice(0, Math.max(1, Math.ceil(finite.length / 3))));
  const top = lo + 1.3 * Math.max(hi - lo, 1e-9);
  const marker = (name: string, lr: number, color: string): Series => ({ name: `${name} ${lr.toPrecision(2)}`, x: [lr, lr], y: [lo, top], color, dashed: true, lineWidth: 1.5, markers: false });
  const s = result.suggestion;
  return lineChartSvg({
    title,
    xLabel: 'learning rate',
    yLabel: 'training loss',
    xLog: true,
    yRange: [Math.max(0, lo - 0.1 * (top - lo)), top],
    id: 'lr-find',
    series: [
      { name: 'batch loss', x: result.lrs, y: result.losses, color: '#999999', style: 'dots' },
      { name: 'smoothed', x: result.lrs, y: result.smoothed, color: '#0072B2' },
      ...(s ? [marker('suggested', s.lr, '#009E73'), marker('halfway', s.halfway, '#E69F00'), marker('minimum', s.minimum, '#D55E00')] : []),
    ],
  });
}
