/**
 * Shows training events to a person or a program. What a person sees on stderr depends on the
 * progress style (chosen by progressStyle in color.ts):
 *   - live (stderr is a terminal): cli-progress bars redrawn in place (status-line.ts): decoding,
 *     then each epoch with its loss, ETA, images/s and the ETA of the whole run, fitted to the
 *     window's width, and one summary line per epoch above them;
 *   - plain (not a terminal, TERM=dumb, --no-progress): the summary lines, and a progress line when
 *     nothing was printed for PLAIN_PROGRESS_SECONDS; nothing is redrawn, no cursor movement;
 *   - none (--quiet): errors only.
 * --json adds one JSON object per event on stdout (start, dataset, epoch, tta, warning, done); when stdout
 * is the same terminal, the bar is erased while a JSON line is written, so it never covers one.
 */
import { layerTable } from '../report/layer-table.ts';
import type { ChalkInstance } from 'chalk';
import type { TrainEvent } from '../train/events.ts';
import type { ProgressStyle } from '../report/color.ts';
import { etaOf, formatDuration, formatRate, progressText, rateOf, type ProgressField } from '../report/progress-text.ts';
import { ProgressBar, type TerminalStream } from '../report/status-line.ts';
import type { Options, Params } from 'cli-progress';

export interface ReporterOptions {
  stderr: TerminalStream;
  stdout: { write(text: string): boolean; readonly isTTY?: boolean };
  chalk: ChalkInstance;
  progress: ProgressStyle;
  json: boolean;
  quiet: boolean;
  /** --verbose: the cache file, and the learning rate and kernel in each epoch line. */
  verbose?: boolean;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

/** Plain style: a progress line only after this long without any line. */
export const PLAIN_PROGRESS_SECONDS = 10;

const JSON_EVENTS = new Set(['start', 'dataset', 'epoch', 'tta', 'warning', 'done']);

export function formatNumber(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** " | bestFitness -0.5302 | meanFitness -0.6535" for a method's extra numbers, or "". */
export function formatExtra(extra: Readonly<Record<string, number>> | undefined): string {
  return extra ? Object.entries(extra).map(([k, v]) => ` | ${k} ${formatNumber(v)}`).join('') : '';
}

/** What the epoch bar shows besides cli-progress's value, total and ETA (its payload). */
interface EpochPayload {
  /** "epoch 2/10"; undefined before the epoch's first batch: nothing is drawn then. */
  label?: string;
  loss: string;
  imagesPerSecond: number;
  extras: ProgressField[];
  /** The batch the bar started from (a resumed epoch starts at its checkpoint's batch). */
  first: number;
  /** Epochs after this one, or null when the run's length is not known. */
  epochsLeft: number | null;
  /** Seconds the last finished epoch took (validation included), for the ETA of the run. */
  lastEpochSeconds: number | null;
}

/** The decoding bar: "decoding ███░░ 120/600 images | 310 img/s | ETA 0:02". */
function decodeFormat(options: Options, params: Params, payload: { first: number }): string {
  const fields = [
    { text: `${formatRate(rateOf(params, payload.first))} img/s`, rank: 2 },
    { text: `ETA ${formatDuration(etaOf(params))}`, rank: 1 },
  ];
  return progressText(options, params, { label: 'decoding', unit: 'images', fields });
}

/** The epoch bar: "epoch 2/10 ███░░ 19/38 | loss 0.3494 | 9,260 img/s | ETA 0:04 | run ETA 1:20". */
function epochFormat(options: Options, params: Params, p: EpochPayload): string {
  if (p.label === undefined) return '';
  const eta = etaOf(params);
  // The length of an epoch: the last one's, or in the first this one's so far plus its ETA.
  const elapsed = (Date.now() - params.startTime) / 1000;
  const perEpoch = p.lastEpochSeconds ?? (eta !== null ? ((elapsed + eta) * params.total) / (params.total - p.first) : null);
  const fields: ProgressField[] = [
    { text: p.loss, rank: 1 },
    ...p.extras,
    { text: `${formatRate(p.imagesPerSecond)} img/s`, rank: 3 },
    { text: `ETA ${formatDuration(eta)}`, rank: 2 },
  ];
  if (p.epochsLeft !== null && p.epochsLeft > 0) {
    const runEta = eta !== null && perEpoch !== null ? eta + p.epochsLeft * perEpoch : null;
    fields.push({ text: `run ETA ${formatDuration(runEta)}`, rank: 4 });
  }
  return progressText(options, params, { label: p.label, fields });
}

export class TrainReporter {
  /** The live bars (null unless the style is live). */
  private readonly decodeBar: ProgressBar | null;
  private readonly epochBar: ProgressBar | null;
  private readonly now: () => number;
  private jsonStopped = false;
  /** When the last line for people was written (plain progress waits PLAIN_PROGRESS_SECONDS after it). */
  private lastLine: number;
  private epochs: number | null = null;
  private batchesPerEpoch = 0;
  /** Decoding: when the first progress event came. */
  private decodeStart: number | null = null;
  /** The epoch under way: when it started and how many of its batches were done before (a resume). */
  private epochStart: number;
  private firstBatch: number | null = null;
  /** Seconds the last finished epoch took (validation included), for the ETA of the run. */
  private lastEpochSeconds: number | null = null;

  constructor(private readonly o: ReporterOptions) {
    this.now = o.now ?? (() => performance.now());
    const live = o.progress === 'live' && !o.quiet;
    // The ETA over about the last second of decoding, and the last 100 batches of an epoch.
    this.decodeBar = live ? new ProgressBar(o.stderr, { format: decodeFormat, etaBuffer: 1000 }) : null;
    this.epochBar = live ? new ProgressBar(o.stderr, { format: epochFormat, etaBuffer: 100 }) : null;
    this.lastLine = this.now();
    this.epochStart = this.now();
  }

  /** The bar on the screen, if any. */
  private get bar(): ProgressBar | null {
    if (this.decodeBar?.isActive) return this.decodeBar;
    return this.epochBar?.isActive ? this.epochBar : null;
  }

  private line(text: string): void {
    if (this.o.quiet) return;
    this.lastLine = this.now();
    const bar = this.bar;
    if (bar) bar.print(text);
    else this.o.stderr.write(text + '\n');
  }

  /** A plain progress line, when nothing was printed for a while. */
  private plainProgress(text: () => string): void {
    if (this.o.progress !== 'plain' || this.o.quiet) return;
    if (this.now() - this.lastLine >= PLAIN_PROGRESS_SECONDS * 1000) this.line(text());
  }

  /** Stops the JSON lines: stdout cannot be written any more (its reader went away, or the disk is full). */
  stopJson(): void {
    this.jsonStopped = true;
  }

  private writeJson(e: TrainEvent): void {
    const text = JSON.stringify(e) + '\n';
    const bar = this.bar;
    if (bar && this.o.stdout.isTTY) bar.around(() => this.o.stdout.write(text));
    else this.o.stdout.write(text);
  }

  /** A new epoch: its bar runs from now (its time counts in the ETA), drawn from its first batch on. */
  private startEpoch(): void {
    this.epochStart = this.now();
    this.firstBatch = null;
    this.epochBar?.start(this.batchesPerEpoch, 0, { first: 0 });
  }

  handle = (e: TrainEvent): void => {
    if (this.o.json && !this.jsonStopped && JSON_EVENTS.has(e.event)) this.writeJson(e);
    const c = this.o.chalk;
    switch (e.event) {
      case 'decode': {
        if (this.decodeBar && !this.decodeBar.isActive) this.decodeBar.start(e.total, e.done, { first: e.done });
        this.decodeBar?.update(e.done);
        const now = this.now();
        this.decodeStart ??= now;
        const seconds = (now - this.decodeStart) / 1000;
        const rate = seconds > 0 ? e.done / seconds : NaN;
        const eta = rate > 0 ? (e.total - e.done) / rate : null;
        this.plainProgress(() => `decoding: ${e.done}/${e.total} images, ${formatRate(rate)} img/s, ETA ${formatDuration(eta)}`);
        return;
      }
      case 'dataset':
        this.decodeBar?.stop();
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
        if (e.layers.length > 0) for (const row of layerTable(e.layers, e.statistics)) this.line(c.dim(row));
        this.epochs = e.epochs;
        this.batchesPerEpoch = e.batchesPerEpoch;
        this.line(
          `${c.bold(e.resumed ? 'resuming' : 'training')} ${e.name}: ${e.parameters.toLocaleString('en-US')} parameters, ` +
            `${e.optimizer}, batch ${e.batchSize} (${e.batchesPerEpoch} per epoch), epochs ${e.firstEpoch}-${e.epochs}, ` +
            (e.kernel.startsWith('webgpu')
              ? `on ${e.device ?? e.kernel}${e.imagesOnDevice ? ' (images held there)' : ''}`
              : (e.device !== undefined && e.device !== 'cpu' ? `on ${e.device}, ` : '') + `${e.workers} worker${e.workers === 1 ? '' : 's'} (${e.kernel} kernels)`) +
            ` -> ${e.runDir}`,
        );
        this.startEpoch();
        return;
      case 'batch': {
        const label = `epoch ${e.epoch}${this.epochs !== null ? `/${this.epochs}` : ''}`;
        const loss = `loss ${formatNumber(e.smoothedLoss)}`;
        // The first batch this process trains in this epoch. A resumed epoch starts at its
        // checkpoint's batch: its bar starts again at the end of this batch (when it started is
        // not known), and the rate counts the batches after it.
        if (this.firstBatch === null) {
          this.firstBatch = e.batch - 1;
          if (this.epochBar && (!this.epochBar.isActive || this.firstBatch > 0)) this.epochBar.start(e.batches, e.batch, { first: e.batch });
        }
        if (this.epochBar) {
          const payload: EpochPayload = {
            label,
            loss,
            imagesPerSecond: e.imagesPerSecond,
            extras: Object.entries(e.extra ?? {}).map(([k, v], i) => ({ text: `${k} ${formatNumber(v)}`, rank: 5 + i })),
            first: this.firstBatch,
            epochsLeft: this.epochs !== null ? this.epochs - e.epoch : null,
            lastEpochSeconds: this.lastEpochSeconds,
          };
          this.epochBar.update(e.batch, payload);
        }
        if (e.batch < e.batches) {
          this.plainProgress(() => {
            // Batches per second over the batches this process trained in this epoch.
            const seconds = (this.now() - this.epochStart) / 1000;
            const rate = seconds > 0 ? (e.batch - this.firstBatch!) / seconds : NaN;
            const epochEta = rate > 0 ? (e.batches - e.batch) / rate : null;
            const perEpoch = this.lastEpochSeconds ?? (rate > 0 ? e.batches / rate : null);
            const runEta = epochEta !== null && perEpoch !== null && this.epochs !== null ? epochEta + (this.epochs - e.epoch) * perEpoch : null;
            return (
              `${label}: batch ${e.batch}/${e.batches}, ${loss}, ${formatRate(e.imagesPerSecond)} img/s${formatExtra(e.extra).replace(/ \|/g, ',')}, ` +
              `ETA ${formatDuration(epochEta)}` +
              (runEta !== null && this.epochs !== null && e.epoch < this.epochs ? `, run ETA ${formatDuration(runEta)}` : '')
            );
          });
        }
        return;
      }
      case 'epoch': {
        this.epochBar?.stop();
        this.lastEpochSeconds = e.seconds;
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
        if (e.epoch < e.epochs) this.startEpoch();
        return;
      }
      case 'tta':
        this.line(
          `best model (epoch ${e.epoch}) with test-time augmentation, ${e.mode} (${e.views} views): ` +
            `${c.cyan('val loss ' + formatNumber(e.valLoss))}  ${c.green('val acc ' + (e.valAccuracy * 100).toFixed(1) + '%')}  ${e.seconds.toFixed(1)} s`,
        );
        return;
      case 'warning':
        this.line(c.yellow(`warning: ${e.message}`));
        return;
      case 'done':
        this.close();
        return;
    }
  };

  /** Stops the bars (erased, the cursor shown). */
  close(): void {
    this.decodeBar?.stop();
    this.epochBar?.stop();
  }
}
