/**
 * The optimizer race picture (compare.svg): validation loss of every run against epochs (left)
 * and against wall-clock seconds (right), one line per run, same colour in both panels.
 *
 * Both panels matter: an optimizer can win per epoch and still lose per second when its steps cost
 * more, and the user pays in seconds.
 */
import { panelsSvg } from './panels.ts';
import type { Series } from './line-chart.ts';

export interface RaceRun {
  /** Shown in the legend: the optimizer, or the config file's name. */
  name: string;
  points: readonly { epoch: number; seconds: number; valLoss: number }[];
}

export function compareChartSvg(runs: readonly RaceRun[], title = 'Optimizer race: validation loss'): string {
  const against = (key: 'epoch' | 'seconds'): Series[] =>
    runs.map((run) => ({ name: run.name, x: run.points.map((p) => p[key]), y: run.points.map((p) => p.valLoss) }));
  // One y range for both panels, so that the same height means the same loss on the left and right.
  const losses = runs.flatMap((run) => run.points.map((p) => p.valLoss)).filter(Number.isFinite);
  const yRange = losses.length > 0 ? ([Math.min(...losses), Math.max(...losses)] as const) : undefined;
  // Time axis from 0: the race starts at the same moment for everyone.
  const seconds = runs.flatMap((run) => run.points.map((p) => p.seconds)).filter(Number.isFinite);
  const xSeconds = seconds.length > 0 ? ([0, Math.max(...seconds)] as const) : undefined;
  return panelsSvg({
    title,
    width: 960,
    height: 440,
    panels: [
      { title: 'per epoch', xLabel: 'epoch', yLabel: 'validation loss', xInteger: true, series: against('epoch'), yRange, id: 'epochs' },
      { title: 'per second', xLabel: 'wall-clock seconds', yLabel: 'validation loss', series: against('seconds'), yRange, xRange: xSeconds, id: 'seconds' },
    ],
  });
}
