/** The end of a run: the 'done' event (JSON), then a few lines for the person at the terminal. */
import { existsSync } from 'node:fs';
import { terminalSupportsUnicode, textChart } from '../report/text-chart.ts';
import type { TrainReporter } from '../report/train-reporter.ts';
import type { TrainResult } from '../train/loop.ts';
import type { RunFolder } from '../train/run-folder.ts';
import type { TrainArgs } from './train-options.ts';

export function finishRun(result: TrainResult, folder: RunFolder, reporter: TrainReporter, args: TrainArgs): void {
  const model = existsSync(folder.modelPath) ? folder.modelPath : null;
  reporter.handle({
    event: 'done',
    status: result.status,
    runDir: folder.dir,
    model,
    checkpoint: existsSync(folder.checkpointPath) ? folder.checkpointPath : null,
    epochs: result.history.length,
    bestEpoch: result.best?.epoch ?? null,
    bestValLoss: result.best?.valLoss ?? null,
    bestValAccuracy: result.best?.valAccuracy ?? null,
    seconds: result.seconds,
    ...(result.message ? { message: result.message } : {}),
  });
  if (args.quiet && result.status !== 'diverged') return;
  const lines: string[] = [];
  switch (result.status) {
    case 'diverged':
      lines.push(`nn-train: ${result.message ?? 'training diverged'}`);
      break;
    case 'interrupted':
      lines.push(`interrupted; the checkpoint is ${folder.checkpointPath}`, `continue with: nn-train --resume ${folder.dir}`);
      break;
    case 'early-stopped':
      lines.push(`stopped early: ${result.message}`);
      break;
    case 'completed':
      lines.push(result.message ?? `done in ${result.seconds.toFixed(1)} s`);
  }
  if (result.best && model) {
    lines.push(
      `best epoch ${result.best.epoch}: validation loss ${result.best.valLoss.toFixed(4)}, accuracy ${(result.best.valAccuracy * 100).toFixed(1)}%`,
      `model: ${model}`,
      `evaluate it: nn-eval ${model} <images or folders>`,
    );
  }
  const valLoss = result.history.map((m) => m.valLoss).filter(Number.isFinite);
  if (valLoss.length >= 2) {
    lines.push('validation loss per epoch:');
    const columns = Math.max(30, Math.min(72, (process.stderr.columns ?? 80) - 2));
    for (const line of textChart(valLoss, { width: columns, height: 6, unicode: terminalSupportsUnicode(process.env) })) lines.push('  ' + line);
  }
  process.stderr.write(lines.join('\n') + '\n');
}
