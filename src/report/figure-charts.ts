/**
 * The seed's figures as SVG (what `nn-plot ewa` and `nn-plot ravine` write), drawn from the data
 * of figures.ts.
 */
import type { EwaFigure, RavineFigure, RavinePath } from './figures.ts';
import { lineChartSvg, PALETTE, type Series } from './line-chart.ts';
import { panelsSvg } from './panels.ts';

const BETA_COLORS = [PALETTE[0], PALETTE[1], PALETTE[2]];

/** Two panels, without and with bias correction, each: samples, clean signal, three averages. */
export function ewaFigureSvg(fig: EwaFigure): string {
  const panel = (biasCorrection: boolean): Series[] => [
    { name: 'noisy samples', x: fig.t, y: fig.samples, style: 'dots', color: '#9a9a9a' },
    { name: 'cos (no noise)', x: fig.t, y: fig.clean, color: '#000000', dashed: true, lineWidth: 1 },
    ...fig.averages
      .filter((a) => a.biasCorrection === biasCorrection)
      .map((a, i) => ({ name: `β = ${a.beta}`, x: fig.t, y: a.values, color: BETA_COLORS[i % BETA_COLORS.length]! })),
  ];
  // Same y range in both panels, so the two corrections compare by eye.
  const all = [...fig.samples, ...fig.averages.flatMap((a) => a.values)];
  const yRange = [Math.min(...all), Math.max(...all)] as const;
  return panelsSvg({
    title: `Exponentially weighted averages of a noisy cosine (seed ${fig.seed})`,
    width: 1000,
    height: 440,
    panels: [
      { title: 'without bias correction', xLabel: 't', yLabel: 'value', xInteger: true, yRange, series: panel(false), id: 'plain' },
      { title: 'with bias correction (divided by 1 − βᵗ)', xLabel: 't', yLabel: 'value', xInteger: true, yRange, series: panel(true), id: 'corrected' },
    ],
  });
}

/** A path's legend entry: the method and where it ended, so the figure carries its own result. */
export function ravinePathLabel(path: RavinePath): string {
  const last = path.x.length - 1;
  const distance = Math.hypot(path.x[last]!, path.y[last]!);
  return `${path.name}: ends ${Number.isFinite(distance) ? distance.toPrecision(2) : 'infinitely far'} from the minimum`;
}

/** The three paths over the level sets of f, each point a step of the optimizer. */
export function ravineFigureSvg(fig: RavineFigure): string {
  const xs = fig.paths.flatMap((p) => p.x).filter(Number.isFinite);
  const ys = fig.paths.flatMap((p) => p.y).filter(Number.isFinite);
  const pad = (lo: number, hi: number): [number, number] => [lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)];
  const contours: Series[] = fig.contours.map((c, i) => ({
    // One legend entry stands for all the level sets.
    name: i === 0 ? 'level sets of f' : `f = ${c.level}`,
    inLegend: i === 0,
    x: c.x,
    y: c.y,
    color: '#d0d0d0',
    lineWidth: 1,
  }));
  return lineChartSvg({
    title: `f(x, y) = 0.5 (x² + 50 y²): ${fig.steps} steps, learning rate ${fig.lr}`,
    xLabel: 'x',
    yLabel: 'y',
    width: 900,
    height: 460,
    xRange: pad(Math.min(...xs, 0), Math.max(...xs, 0)),
    yRange: pad(Math.min(...ys, 0), Math.max(...ys, 0)),
    // Level sets first, so the paths are drawn over them.
    series: [
      ...contours,
      ...fig.paths.map((p, i) => ({ name: ravinePathLabel(p), x: p.x, y: p.y, color: PALETTE[i]!, lineWidth: 1.5, markers: true })),
    ],
    id: 'ravine',
  });
}
