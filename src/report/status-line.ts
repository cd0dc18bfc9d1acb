/**
 * One live line at the bottom of a terminal (a progress bar), redrawn in place, that leaves no
 * trace when it goes away, whatever happened to the window meanwhile.
 *
 * Every frame is one write:
 *
 *   CR  ESC[?7l  text  ESC[J  ESC[?7h  CR
 *
 *   - CR: back to the start of the line (the terminal's own "^C" echo may have moved the cursor);
 *   - autowrap is off while the text is written, so a frame wider than the window (the window
 *     shrank after we measured it) is cut at the edge instead of wrapping onto a second row;
 *   - ESC[J erases the rest of the row and everything below it (what is left of a longer frame);
 *   - CR parks the cursor at the start of the line, hidden (ESC[?25l while a line is shown).
 *
 * Parking the cursor at column 0 is what makes a resize harmless. Terminals that reflow their
 * contents (tmux, VTE, kitty, iTerm2) split a line that no longer fits into several rows but keep
 * the cursor on its character, the first of the line; terminals that do not reflow (xterm) cut the
 * line. Either way the next ESC[J, written from there, erases all of the old frame. (A cursor left
 * at the end of the line would end up on the last of the rows, and erasing from there would leave
 * the first ones on the screen: the stale line of a resize.)
 *
 * A line for the log is written from the same place: CR ESC[J, the text and a newline, then the
 * frame again below it. Every exit path must call restoreTerminal() (src/cli/signals.ts and
 * src/cli/common.ts do), which erases the frames still shown and shows the cursor.
 */

/** What a StatusLine writes to: a TTY stream (process.stderr), or a fake one in tests. */
export interface TerminalStream {
  write(text: string): boolean;
  /** Width of the terminal in characters (undefined: 80). */
  readonly columns?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const AUTOWRAP_OFF = '\x1b[?7l';
const AUTOWRAP_ON = '\x1b[?7h';
const ERASE_BELOW = '\x1b[J';

/** Lines currently on the screen, for restoreTerminal. */
const shown = new Set<StatusLine>();

/** Erases every live line and shows the cursor again: call it on every way out of the process. */
export function restoreTerminal(): void {
  for (const line of [...shown]) line.clear();
}

export interface StatusLineOptions {
  /** Milliseconds between two redraws at most (default 100: ten frames a second). */
  interval?: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

export class StatusLine {
  /** Builds the frame's text for a width (the text must fit in `columns - 1` characters). */
  private render: ((columns: number) => string) | null = null;
  private lastDraw = -Infinity;
  /** A redraw waiting for the interval to pass (the latest render is drawn then). */
  private timer: NodeJS.Timeout | null = null;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly onResize = () => this.redraw();

  constructor(
    private readonly stream: TerminalStream,
    options: StatusLineOptions = {},
  ) {
    this.interval = options.interval ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether a frame is on the screen. */
  get visible(): boolean {
    return shown.has(this);
  }

  /** Usable width: one column less than the terminal's, so that the cursor never sits past the edge. */
  private get width(): number {
    return Math.max(1, (this.stream.columns || 80) - 1);
  }

  /**
   * Shows `render(width)` as the live line, at most once per interval: an update that comes sooner
   * is drawn when the interval is up (`force` draws now).
   */
  update(render: (columns: number) => string, force = false): void {
    this.render = render;
    const wait = this.interval - (this.now() - this.lastDraw);
    if (force || wait <= 0) return this.redraw();
    // Unref'd: a pending frame never keeps the process alive.
    this.timer ??= setTimeout(() => this.redraw(), wait).unref();
  }

  private redraw(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.render === null) return;
    let prefix = '';
    if (!this.visible) {
      shown.add(this);
      this.stream.on?.('resize', this.onResize);
      prefix = HIDE_CURSOR;
    }
    this.lastDraw = this.now();
    this.stream.write(prefix + this.frame());
  }

  private frame(): string {
    const text = fitWidth(this.render!(this.width), this.width);
    return `\r${AUTOWRAP_OFF}${text}${ERASE_BELOW}${AUTOWRAP_ON}\r`;
  }

  /** Writes a line of the log above the live line (which stays). `text` must not end in a newline. */
  print(text: string): void {
    this.stream.write(this.visible ? `\r${ERASE_BELOW}${text}\n${this.frame()}` : `${text}\n`);
  }

  /**
   * Runs `write` (output to another stream on the same terminal: --json lines on stdout) with the
   * live line erased, then draws the line again below what it wrote.
   */
  around(write: () => void): void {
    if (!this.visible) return write();
    this.stream.write(`\r${ERASE_BELOW}`);
    write();
    this.stream.write(this.frame());
  }

  /**
   * Erases the live line and shows the cursor; the next output starts on the emptied row. The next
   * frame waits an interval, so that output written after this (ours, or that of a program
   * downstream: `nn-eval ... | head` writes on the same terminal) lands on a clean line first.
   */
  clear(): void {
    this.render = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lastDraw = this.now();
    if (!this.visible) return;
    shown.delete(this);
    this.stream.off?.('resize', this.onResize);
    this.stream.write(`\r${ERASE_BELOW}${SHOW_CURSOR}`);
  }
}

/** `text` cut to `width` characters (code points; the live line holds no wide characters). */
export function fitWidth(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, width).join('');
}
