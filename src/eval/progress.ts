/**
 * A one-line progress display on stderr ("nn-eval: 1,234 / 10,000 images, 412 images/s"),
 * redrawn at most ten times a second. Shown only when stderr is a terminal and stdout is not
 * (with both on the terminal the redraws would tear the data lines), and never with --quiet.
 */
export class ProgressLine {
  private shown = false;
  private lastDraw = 0;
  private readonly start = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number | null,
    private readonly enabled: boolean,
  ) {}

  update(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = (now - this.start) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const of = this.total === null ? '' : ` / ${this.total}`;
    this.stream.write(`\r\x1b[2Knn-eval: ${done}${of} images, ${rate} images/s`);
    this.shown = true;
  }

  /** Removes the line (before any other message, and at the end). */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
    this.lastDraw = 0;
  }
}
