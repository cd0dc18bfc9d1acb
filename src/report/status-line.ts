/**
 * The live line at the bottom of a terminal: a cli-progress bar (nn-train's decoding and epoch
 * bars, nn-eval's progress). cli-progress keeps the bar's state, its ETA and its payload, calls the
 * format function with the window's width, redraws at most `fps` times a second, hides the cursor
 * while the bar runs and erases the bar when it stops (clearOnComplete). A bar is only made for a
 * terminal: the caller chose the live style (color.ts progressStyle).
 *
 * cli-progress draws through a `terminal` object (its option of that name); ours, FrameTerminal,
 * is the one thing written by hand here, because cli-progress's own terminal:
 *   - leaves the cursor at the END of the frame ("ESC[1G text ESC[K"): a terminal that reflows on
 *     resize (tmux, VTE, kitty) splits a line that no longer fits into several rows and keeps the
 *     cursor on the last, so the next frame erases only that row and the others stay on the screen.
 *     Each frame here is one write, `CR ESC[?7l text ESC[J ESC[?7h CR`: autowrap off while the
 *     text is written (a frame wider than the window is cut, not wrapped; log lines above still
 *     wrap), everything right of and below the frame's start erased, and the cursor parked at
 *     column 0, the first character of the line, which reflowing terminals keep in place; from
 *     there ESC[J erases every row of an old frame. ESC 7 / ESC 8 (cursorSave / cursorRestore) are
 *     not written: a log line printed above the bar moves it, and restoring the saved row would
 *     erase that log line;
 *   - cannot print a log line above a running bar, nor let data on stdout pass (`--json` on the
 *     same terminal, `nn-eval | head`): print(), around() and pause() below;
 *   - is not erased on the way out of a failure: every bar running is stopped by restoreTerminal(),
 *     which src/cli/signals.ts and src/cli/common.ts call on every exit path, and its redraw timer
 *     is unref'd so that a bar a failure left running never keeps the process alive.
 */
import cliProgress from 'cli-progress';

/** What a bar writes to: process.stderr, or a fake one in tests. */
export interface TerminalStream {
  write(text: string): boolean;
  /** Width of the terminal in characters (undefined: 80). */
  readonly columns?: number;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const AUTOWRAP_OFF = '\x1b[?7l';
const AUTOWRAP_ON = '\x1b[?7h';
const ERASE_BELOW = '\x1b[J';

/** Redraws per second at most (cli-progress's `fps`); nn-eval's pause() lasts one frame. */
const FPS = 10;

/** The calls cli-progress's SingleBar makes on its `terminal`. */
class FrameTerminal {
  /** The text of the frame on the screen, or null when none is. */
  private shown: string | null = null;
  /** The frame being written: cli-progress calls cursorTo(0), write(text), clearRight(). */
  private text = '';
  private linewrap = true;
  /** No frame is drawn before this time (Date.now()): see pause(). */
  private heldUntil = 0;

  constructor(private readonly stream: TerminalStream) {}

  isTTY(): boolean {
    return true;
  }

  /** One column less than the terminal's, so that the cursor never sits past the edge. */
  getWidth(): number {
    return Math.max(1, (this.stream.columns || 80) - 1);
  }

  cursorSave(): void {}
  cursorRestore(): void {}

  cursor(visible: boolean): void {
    this.stream.write(visible ? SHOW_CURSOR : HIDE_CURSOR);
  }

  lineWrapping(enabled: boolean): void {
    this.linewrap = enabled;
  }

  cursorTo(): void {
    this.text = '';
  }

  write(text: string): void {
    this.text += text;
  }

  clearRight(): void {
    if (Date.now() < this.heldUntil) return;
    this.shown = this.text;
    this.stream.write(this.frame(this.text));
  }

  clearLine(): void {
    if (this.shown === null) return;
    this.shown = null;
    this.stream.write(`\r${ERASE_BELOW}`);
  }

  newline(): void {
    this.stream.write('\n');
  }

  private frame(text: string): string {
    return this.linewrap ? `\r${text}${ERASE_BELOW}\r` : `\r${AUTOWRAP_OFF}${text}${ERASE_BELOW}${AUTOWRAP_ON}\r`;
  }

  print(text: string): void {
    this.stream.write(this.shown === null ? `${text}\n` : `\r${ERASE_BELOW}${text}\n${this.frame(this.shown)}`);
  }

  around(write: () => void): void {
    if (this.shown === null) return write();
    this.stream.write(`\r${ERASE_BELOW}`);
    write();
    this.stream.write(this.frame(this.shown));
  }

  pause(ms: number): void {
    this.clearLine();
    this.heldUntil = Date.now() + ms;
  }
}

/** Bars running now, for restoreTerminal. */
const running = new Set<ProgressBar>();

/** Stops every bar still running (erased, the cursor shown): call it on every way out of the process. */
export function restoreTerminal(): void {
  for (const bar of [...running]) bar.stop();
}

export interface ProgressBarOptions {
  /** cli-progress's `format` as a function: the frame's text, at most params.maxWidth characters. */
  format: cliProgress.GenericFormatter;
  /** The ETA is the rate over this many updates (cli-progress's `etaBuffer`). */
  etaBuffer: number;
}

/** A cli-progress SingleBar on the stream: start(total, value, payload), update(value, payload), stop(). */
export class ProgressBar extends cliProgress.SingleBar {
  private readonly frames: FrameTerminal;

  constructor(stream: TerminalStream, options: ProgressBarOptions) {
    const frames = new FrameTerminal(stream);
    const settings: cliProgress.Options & { terminal: FrameTerminal } = {
      ...options,
      terminal: frames,
      fps: FPS,
      hideCursor: true,
      linewrap: false,
      clearOnComplete: true,
      // Redrawn every frame even when its text is the same: the frame may have been erased (pause,
      // a program downstream writing on this terminal) or cut by a resize.
      forceRedraw: true,
      gracefulExit: false, // signals.ts handles Ctrl-C: it stops the bars, then dies by the signal
      barsize: 30,
      barCompleteChar: '█',
      barIncompleteChar: '░',
    };
    super(settings);
    this.frames = frames;
  }

  override start(total: number, startValue: number, payload?: object): void {
    running.add(this);
    super.start(total, startValue, payload);
  }

  override stop(): void {
    running.delete(this);
    super.stop();
  }

  override render(): void {
    super.render();
    (this as unknown as { timer: NodeJS.Timeout | null }).timer?.unref();
  }

  /** Writes a line of the log above the bar (which stays). `text` must not end in a newline. */
  print(text: string): void {
    this.frames.print(text);
  }

  /** Runs `write` (--json lines on stdout, on the same terminal) with the bar erased, then draws it again. */
  around(write: () => void): void {
    this.frames.around(write);
  }

  /**
   * Erases the bar, and draws none for one frame's time: the data nn-eval writes next may reach
   * this terminal through a program downstream (`nn-eval ... | head`), which must find a clean line.
   */
  pause(): void {
    this.frames.pause(1000 / FPS);
  }
}
