/**
 * Shows training events to a person or a program:
 *   - TTY stderr: cli-progress bars (decoding, then each epoch with ETA, images/s and the smoothed
 *     loss) and one coloured summary line per epoch;
 *   - not a TTY: one plain line per epoch, plus a line every tenth of a long epoch; nothing redrawn;
 *   - --json: one JSON object per event on stdout (start, dataset, epoch, warning, done), the
 *     human lines still on stderr unless --quiet.
 */
import { layerTable } from './layer-table.ts';
import cliProgress from 'cli-progress';
import type { ChalkInstance } from 'chalk';
import type { TrainEvent } from '../train/events.ts';

export interface ReporterOptions {
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  chalk: ChalkInstance;
  /** Draw progress bars (stderr is a TTY, not --quiet, TERM not dumb). */
  bars: boolean;
  json: boolean;
  quiet: boolean;
  /** --verbose: the cache file, and the learning rate and kernel in each epoch line. */
  verbose?: boolean;
}

const JSON_EVENTS = new Set(['start', 'dataset', 'epoch', 'warning', 'done']);

export function formatNumber(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** " | bestFitness -0.5302 | meanFitness -0.6535" for a method's extra numbers, or "". */
export function formatExtra(extra: Readonly<Record<string, number>> | undefined): string {
  return extra ? Object.entries(extra).map(([k, v]) => ` | ${k} ${formatNumber(v)}`).join('') : '';
}

export function formatRate(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-';
}

export class TrainReporter {
  private bar: cliProgress.SingleBar | null = null;
  private lastLineBatch = 0;
  private jsonStopped = false;

  constructor(private readonly o: ReporterOptions) {}

  private line(text: string): void {
    if (!this.o.quiet) this.o.stderr.write(text + '\n');
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = null;
  }

  private startBar(format: string, total: number, payload: Record<string, unknown>): void {
    this.stopBar();
    this.bar = new cliProgress.SingleBar(
      { stream: this.o.stderr as NodeJS.WriteStream, format, hideCursor: true, clearOnComplete: true, barsize: 30, etaBuffer: 50, fps: 10 },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, payload);
  }

  /** Stops the JSON lines: stdout cannot be written any more (its reader went away, or the disk is full). */
  stopJson(): void {
    this.jsonStopped = true;
  }

  handle = (e: TrainEvent): void => {
    if (this.o.json && !this.jsonStopped && JSON_EVENTS.has(e.event)) this.o.stdout.write(JSON.stringify(e) + '\n');
    const c = this.o.chalk;
    switch (e.event) {
      case 'decode':
        if (this.o.bars && !this.o.quiet) {
          if (!this.bar) this.startBar('decoding  {bar} {value}/{total} images | ETA {eta_formatted}', e.total, {});
          this.bar!.update(e.done);
          if (e.done >= e.total) this.stopBar();
        }
        return;
      case 'dataset':
        this.stopBar();
        this.line(
          `${c.bold('data')}: ${e.images} images (${e.cats} cats, ${e.dogs} dogs)` +
            `${e.fromCache ? ' from the cache' : ''} in ${e.seconds.toFixed(1)} s; ` +
            `${e.train} for training, ${e.validation} for validation` +
            (e.unlabeled ? `; ${e.unlabeled} unlabeled left out` : '') +
            (e.skipped ? c.yellow(`; ${e.skipped} unreadable skipped`) : ''),
        );
        if (this.o.verbose && e.cacheFile) this.line(`  cache: ${e.cacheFile}`);
        for (const s of e.skippedFiles.slice(0, 10)) this.line(c.yellow(`  skipped ${s.path}: ${s.reason}`));
        if (e.skippedFiles.length > 10) this.line(c.yellow(`  ... and ${e.skippedFiles.length - 10} more`));
        return;
      case 'start':
        for (const row of layerTable(e.layers, e.statistics)) this.line(c.dim(row));
        this.line(
          `${c.bold(e.resumed ? 'resuming' : 'training')} ${e.name}: ${e.parameters.toLocaleString('en-US')} parameters, ` +
            `${e.optimizer}, batch ${e.batchSize} (${e.batchesPerEpoch} per epoch), epochs ${e.firstEpoch}-${e.epochs}, ` +
            `${e.workers} worker${e.workers === 1 ? '' : 's'} (${e.kernel} kernels) -> ${e.runDir}`,
        );
        return;
      case 'batch':
        if (this.o.bars && !this.o.quiet) {
          if (e.batch === 1 || !this.bar) {
            this.startBar(`epoch ${e.epoch} {bar} {value}/{total} | ETA {eta_formatted} | {rate} img/s | loss {loss}{extra}`, e.batches, { rate: '-', loss: '-', extra: '' });
          }
          this.bar!.update(e.batch, { rate: formatRate(e.imagesPerSecond), loss: formatNumber(e.smoothedLoss), extra: formatExtra(e.extra) });
        } else if (!this.o.bars && e.batches >= 50) {
          // Long epochs get a plain progress line every tenth.
          const tenth = Math.ceil(e.batches / 10);
          if (e.batch % tenth === 0 && e.batch < e.batches && e.batch !== this.lastLineBatch) {
            this.lastLineBatch = e.batch;
            this.line(`epoch ${e.epoch}: batch ${e.batch}/${e.batches}, loss ${formatNumber(e.smoothedLoss)}, ${formatRate(e.imagesPerSecond)} img/s${formatExtra(e.extra)}`);
          }
        }
        return;
      case 'epoch': {
        this.stopBar();
        const extra = e.extra ? '  ' + Object.entries(e.extra).map(([k, v]) => `${k} ${formatNumber(v)}`).join('  ') : '';
        this.line(
          `epoch ${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}  ` +
            `train loss ${formatNumber(e.trainLoss)}  ` +
            `${c.cyan('val loss ' + formatNumber(e.valLoss))}  ` +
            `${c.green('val acc ' + (e.valAccuracy * 100).toFixed(1) + '%')}  ` +
            `${e.seconds.toFixed(1)} s  ${formatRate(e.imagesPerSecond)} img/s` +
            extra +
            (this.o.verbose ? `  lr ${e.lr === null ? '-' : e.lr.toPrecision(3)}  ${e.kernel} x${e.workers}` : '') +
            (e.best ? c.bold(' *') : ''),
        );
        return;
      }
      case 'warning':
        this.stopBar();
        this.line(c.yellow(`warning: ${e.message}`));
        return;
      case 'done':
        this.stopBar();
        return;
    }
  };

  close(): void {
    this.stopBar();
  }
}
