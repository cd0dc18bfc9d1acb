/**
 * nn-eval's progress on stderr, a live line ("nn-eval ██████░░░░ 1234/10000 images | 412 img/s |
 * ETA 0:21", or "nn-eval: 1,234 images, 412 img/s" when the count is not known in advance: paths
 * on stdin), redrawn at most ten times a second. Shown only when stderr is a terminal and stdout is
 * not (with both on the terminal the redraws would tear the data lines), never with --quiet or
 * --no-progress. It is a StatusLine, so every way out (the end, `| head`, Ctrl-C, a crash) erases it.
 */
import { formatDuration, formatRate, progressText } from '../report/progress-text.ts';
import { StatusLine, type TerminalStream } from '../report/status-line.ts';

export class ProgressLine {
  private readonly status: StatusLine | null;
  private readonly start = performance.now();

  constructor(
    private readonly stream: TerminalStream,
    private readonly total: number | null,
    enabled: boolean,
  ) {
    this.status = enabled ? new StatusLine(stream) : null;
  }

  /** Shows the count; drawn at most ten times a second, and a tenth of a second after the last clear(). */
  update(done: number): void {
    if (this.status === null) return;
    const seconds = (performance.now() - this.start) / 1000;
    const rate = seconds > 0 ? done / seconds : NaN;
    const total = this.total;
    this.status.update((width) => {
      if (total === null) return `nn-eval: ${done.toLocaleString('en-US')} images, ${formatRate(rate)} img/s`;
      const eta = rate > 0 ? (total - done) / rate : null;
      const fields = [
        { text: `${formatRate(rate)} img/s`, rank: 2 },
        { text: `ETA ${formatDuration(eta)}`, rank: 1 },
      ];
      return progressText({ label: 'nn-eval', done, total, unit: 'images', fields }, width);
    });
  }

  /** A line for people (a skipped file) above the progress line. */
  print(text: string): void {
    if (this.status !== null) this.status.print(text);
    else this.stream.write(text + '\n');
  }

  /**
   * Removes the line: before each write of data to stdout (a program downstream, such as `head`,
   * may print it on this terminal, and must find a clean line; the line comes back an interval
   * later), and at the end.
   */
  clear(): void {
    this.status?.clear();
  }
}
