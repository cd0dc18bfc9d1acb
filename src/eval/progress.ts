/**
 * nn-eval's progress on stderr, a cli-progress bar ("nn-eval ██████░░░░ 1234/10000 images | 412
 * img/s | ETA 0:21", or "nn-eval: 1,234 images, 412 img/s" when the count is not known in advance:
 * paths on stdin), redrawn at most ten times a second. Shown only when stderr is a terminal and
 * stdout is not (with both on the terminal the redraws would tear the data lines), never with
 * --quiet or --no-progress. It is a ProgressBar (src/report/status-line.ts), so every way out (the
 * end, `| head`, Ctrl-C, a crash) erases it.
 */
import type { Options, Params } from 'cli-progress';
import { etaOf, formatDuration, formatRate, progressText, rateOf } from '../report/progress-text.ts';
import { ProgressBar, type TerminalStream } from '../report/status-line.ts';

export class ProgressLine {
  private readonly bar: ProgressBar | null;

  constructor(
    private readonly stream: TerminalStream,
    total: number | null,
    enabled: boolean,
  ) {
    const format = (options: Options, params: Params): string => {
      const rate = `${formatRate(rateOf(params))} img/s`;
      if (total === null) return `nn-eval: ${params.value.toLocaleString('en-US')} images, ${rate}`;
      const fields = [
        { text: rate, rank: 2 },
        { text: `ETA ${formatDuration(etaOf(params))}`, rank: 1 },
      ];
      return progressText(options, params, { label: 'nn-eval', unit: 'images', fields });
    };
    // The ETA over the last 100 updates (batches); the rate since the start (the core's start included).
    this.bar = enabled ? new ProgressBar(stream, { format, etaBuffer: 100 }) : null;
    this.bar?.start(total ?? 0, 0);
  }

  /** Shows the count; drawn at most ten times a second, and a tenth of a second after the last clear(). */
  update(done: number): void {
    this.bar?.update(done);
  }

  /** A line for people (a skipped file) above the progress line. */
  print(text: string): void {
    if (this.bar !== null) this.bar.print(text);
    else this.stream.write(text + '\n');
  }

  /**
   * Removes the line before each write of data to stdout (a program downstream, such as `head`,
   * may print it on this terminal, and must find a clean line; the line comes back a tenth of a
   * second later).
   */
  clear(): void {
    this.bar?.pause();
  }

  /** Removes the line for good, at the end. */
  stop(): void {
    this.bar?.stop();
  }
}
