/**
 * The picture of one training run (the run folder's loss.svg): training and validation loss per
 * epoch on the left axis, validation accuracy on a second axis from 0 to 100 %.
 *
 * Accuracy has a fixed 0-100 % axis rather than one fitted to the data: a run that goes from
 * 55 % to 58 % should look like the small gain it is.
 */
import { lineChartSvg } from './line-chart.ts';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
}

export function lossChartSvg(epochs: readonly EpochMetrics[], title = 'Training progress'): string {
  const x = epochs.map((e) => e.epoch);
  return lineChartSvg({
    title,
    xLabel: 'epoch',
    yLabel: 'loss',
    y2Label: 'validation accuracy',
    xInteger: true,
    y2Range: [0, 1],
    y2Percent: true,
    id: 'loss',
    series: [
      { name: 'training loss', x, y: epochs.map((e) => e.trainLoss), color: '#0072B2' },
      { name: 'validation loss', x, y: epochs.map((e) => e.valLoss), color: '#D55E00' },
      { name: 'validation accuracy', x, y: epochs.map((e) => e.valAccuracy), color: '#009E73', axis: 'right', dashed: true },
    ],
  });
}
