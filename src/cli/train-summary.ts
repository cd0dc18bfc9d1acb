/**
 * The end of a run: the 'done' event (JSON), then a few lines for the person at the terminal:
 * how it ended (with where it stopped, and the total time), the best epoch and what the `*` of
 * the epoch lines means, the files in the run folder, and the validation loss as a text chart.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { terminalSupportsUnicode, textChart } from '../report/text-chart.ts';
import { formatNumber, type TrainReporter } from './train-reporter.ts';
import type { TrainEvent } from '../train/events.ts';
import type { TrainResult } from '../train/loop.ts';
import { RUN_FILES, type RunFolder } from '../train/run-folder.ts';
import type { TrainArgs } from './train-options.ts';

/** Where a run is, followed from its events: "at epoch 2, batch 19/38", "after epoch 3". */
export class RunPosition {
  private started = false;
  private lastBatch: { epoch: number; batch: number; batches: number } | null = null;
  private lastEpoch: number | null = null;

  track = (e: TrainEvent): void => {
    if (e.event === 'start') this.started = true;
    if (e.event === 'batch') this.lastBatch = { epoch: e.epoch, batch: e.batch, batches: e.batches };
    if (e.event === 'epoch') {
      this.lastEpoch = e.epoch;
      this.lastBatch = null;
    }
  };

  /** Training had started (the 'start' event) before the run ended. */
  get trained(): boolean {
    return this.started;
  }

  /** Where the last checkpoint of this process stands; null before the first batch. */
  describe(): string | null {
    if (this.lastBatch !== null) return `at epoch ${this.lastBatch.epoch}, batch ${this.lastBatch.batch}/${this.lastBatch.batches}`;
    if (this.lastEpoch !== null) return `after epoch ${this.lastEpoch}`;
    return null;
  }
}

function seconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function finishRun(result: TrainResult, folder: RunFolder, reporter: TrainReporter, args: TrainArgs, position: RunPosition): void {
  const model = existsSync(folder.modelPath) ? folder.modelPath : null;
  const checkpoint = existsSync(folder.checkpointPath) ? folder.checkpointPath : null;
  reporter.handle({
    event: 'done',
    status: result.status,
    runDir: folder.dir,
    model,
    checkpoint,
    epochs: result.history.length,
    bestEpoch: result.best?.epoch ?? null,
    bestValLoss: result.best?.valLoss ?? null,
    bestValAccuracy: result.best?.valAccuracy ?? null,
    seconds: result.seconds,
    ...(result.message ? { message: result.message } : {}),
  });
  if (args.quiet && result.status !== 'diverged') return;
  const lines: string[] = [];
  const epochs = result.history.length;
  switch (result.status) {
    case 'diverged':
      lines.push(`nn-train: ${result.message ?? 'training diverged'}`);
      break;
    case 'interrupted': {
      const where = position.describe();
      if (result.message !== undefined) {
        lines.push(`${result.message} (${seconds(result.seconds)} in all)`);
      } else if (!position.trained || where === null) {
        lines.push(
          checkpoint === null
            ? `interrupted before training started: nothing was trained${existsSync(folder.dir) ? '' : ', and no run folder is left'}`
            : `interrupted before training resumed; the checkpoint ${checkpoint} is unchanged`,
        );
      } else {
        lines.push(`interrupted ${where} after ${seconds(result.seconds)}; the checkpoint is ${checkpoint ?? '(none written)'}`);
      }
      if (checkpoint !== null) lines.push(`continue with: nn-train --resume ${folder.dir}`);
      break;
    }
    case 'early-stopped':
      lines.push(`stopped early after epoch ${result.history.at(-1)?.epoch ?? epochs}: ${result.message}; ${seconds(result.seconds)} in all`);
      break;
    case 'completed':
      lines.push(result.message ?? `done: ${epochs} epoch${epochs === 1 ? '' : 's'} in ${seconds(result.seconds)}`);
  }
  if (result.best && model) {
    lines.push(
      `best epoch ${result.best.epoch}: validation loss ${formatNumber(result.best.valLoss)}, accuracy ${(result.best.valAccuracy * 100).toFixed(1)}%` +
        (epochs > 0 ? ` (* in the epoch lines: a new best, saved as model.json)` : ''),
    );
  }
  const files = writtenFiles(folder, result);
  if (files.length > 0) {
    lines.push(`files in ${folder.dir}:`);
    const width = Math.max(...files.map((f) => f.name.length));
    for (const f of files) lines.push(`  ${f.name.padEnd(width)}  ${f.what}`);
  }
  if (model) lines.push(`evaluate it: nn-eval ${model} <images or folders>`);
  const valLoss = result.history.map((m) => m.valLoss);
  if (valLoss.filter(Number.isFinite).length >= 2) {
    lines.push('validation loss per epoch:');
    const columns = Math.max(30, Math.min(72, (process.stderr.columns ?? 80) - 3));
    const first = result.history[0]!.epoch;
    const chart = textChart(valLoss, {
      width: columns,
      height: 6,
      unicode: terminalSupportsUnicode(process.env),
      format: (v) => formatNumber(v),
      xAxis: { first: String(first), last: String(result.history.at(-1)!.epoch), title: 'epoch' },
    });
    for (const line of chart) lines.push(('  ' + line).trimEnd());
  }
  process.stderr.write(lines.join('\n') + '\n');
}

/** The run folder's files, each with what it is for. */
function writtenFiles(folder: RunFolder, result: TrainResult): { name: string; what: string }[] {
  const lastEpoch = result.history.at(-1)?.epoch;
  const descriptions: Record<string, string> = {
    [RUN_FILES.model]: result.best ? `the model of epoch ${result.best.epoch}, the best: for nn-eval` : 'the model, for nn-eval',
    [RUN_FILES.checkpoint]: `the checkpoint${result.status === 'interrupted' ? '' : lastEpoch !== undefined ? ` after epoch ${lastEpoch}` : ''}: for nn-train --resume`,
    [RUN_FILES.metrics]: 'one line of metrics per epoch (JSON)',
    [RUN_FILES.chart]: 'loss and accuracy per epoch (open it in a browser)',
    [RUN_FILES.config]: 'the config of the run',
  };
  return [RUN_FILES.model, RUN_FILES.checkpoint, RUN_FILES.metrics, RUN_FILES.chart, RUN_FILES.config]
    .filter((name) => existsSync(join(folder.dir, name)))
    .map((name) => ({ name, what: descriptions[name]! }));
}
