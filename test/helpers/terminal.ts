/**
 * Testing what a person sees in a terminal: commands run on a real pseudo-terminal (util-linux
 * `script`, no native module), and a small terminal emulator turns what they wrote into the
 * screen a person would be left with.
 *
 *   const t = runInTerminal('node bin/nn-train.js --config c.json', { cols: 100, rows: 30 });
 *   await t.waitFor(/epoch 1/);
 *   t.type('\x03');                              // Ctrl-C, as typed: SIGINT to the foreground group
 *   const { output } = await t.done;
 *   const screen = Screen.of(output, { cols: 100, rows: 30 });
 *   screen.cursorVisible; screen.text(); screen.overflow;
 *
 * See /work/shared/notes/terminal-tests.md for what was measured about `script` on this machine.
 */
import { spawn } from 'node:child_process';

export interface TerminalRun {
  /** Everything the terminal received so far (escape codes included). */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs` (default 60 s). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Types bytes on the terminal's keyboard ('\x03' is Ctrl-C). */
  type(bytes: string): void;
  /** The whole output and `script`'s exit status (that of the command, with -e) once it ended. */
  done: Promise<{ output: string; status: number | null }>;
}

export interface TerminalOptions {
  cols: number;
  rows: number;
  cwd?: string;
  /** Added to the environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Kills the run after this long (default 50 s, less than a test's timeout). */
  timeoutMs?: number;
}

/**
 * Runs `command` with bash on a new pseudo-terminal of `cols` x `rows`. The environment is that
 * of a person at a UTF-8 xterm, without NO_COLOR or FORCE_COLOR unless `env` sets them.
 */
export function runInTerminal(command: string, options: TerminalOptions): TerminalRun {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8', LC_ALL: undefined, LC_CTYPE: undefined, SHELL: '/bin/bash' };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn('script', ['-qfec', `stty cols ${options.cols} rows ${options.rows}; ${command}`, '/dev/null'], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    output += s;
    for (const check of [...waiters]) check();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  let ended = false;
  const done = new Promise<{ output: string; status: number | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      ended = true;
      for (const check of [...waiters]) check();
      resolve({ output, status });
    });
  });
  return {
    output: () => output,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the terminal never showed ${pattern}; it showed:\n${visible(output)}`));
        }, timeoutMs);
        const check = () => {
          if (pattern.test(output)) {
            clearTimeout(timeout);
            waiters.delete(check);
            resolve();
          } else if (ended) {
            clearTimeout(timeout);
            waiters.delete(check);
            reject(new Error(`the command ended before the terminal showed ${pattern}; it showed:\n${visible(output)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    type(bytes) {
      child.stdin.write(bytes);
    },
    // stdin stays open until the end: `script` would otherwise pass on an end of input.
    done: done.finally(() => child.stdin.end()),
  };
}

/** Escape codes made readable, for failure messages. */
export function visible(text: string): string {
  return text.replace(/\x1b/g, '⎋').replace(/\r/g, '');
}

/**
 * A shell command that, once the file `flag` exists, tells the emulator (an OSC 777 "resize" mark
 * in the output) and then resizes the terminal: the kernel sends SIGWINCH to the foreground
 * programs. Put it before the command under test: `${resizeWhen(flag, 60, 30)} node ...`.
 */
export function resizeWhen(flag: string, cols: number, rows: number): string {
  return `(while [ ! -e '${flag}' ]; do sleep 0.05; done; printf '\\033]777;resize;${cols};${rows}\\007' > /dev/tty; stty cols ${cols} rows ${rows} < /dev/tty) & `;
}

/**
 * A VT100-style screen, enough for progress bars and log lines: printable characters with
 * autowrap (and its "pending wrap" at the right margin), CR, LF, TAB, backspace, CSI cursor moves
 * (A B C D G H), erase in line and in display (K, J), SGR (ignored), modes ?25 (cursor) and ?7
 * (autowrap), save/restore cursor (ESC 7, ESC 8), and OSC strings (ignored, except the resize mark
 * of resizeWhen). Lines that scroll off the top are kept, so text() is the whole session.
 *
 * On a resize, `reflow` terminals (tmux, VTE, kitty) re-wrap every line to the new width and keep
 * the cursor on its character; `cut` terminals (xterm) cut the rows and keep the cursor's row.
 */
export class Screen {
  private lines: string[][] = [[]];
  /** wrapped[i]: row i continues on row i + 1 (autowrap), i.e. they are one line of text. */
  private wrapped: boolean[] = [false];
  private x = 0;
  private y = 0;
  private top = 0;
  private pendingWrap = false;
  private autowrap = true;
  private saved: [number, number] = [0, 0];
  cursorVisible = true;
  /** Characters written past the right margin with autowrap off: text cut by the terminal. */
  overflow = 0;

  constructor(
    private cols: number,
    private rows: number,
    private readonly mode: 'reflow' | 'cut' = 'reflow',
  ) {}

  static of(output: string, size: { cols: number; rows: number }, mode: 'reflow' | 'cut' = 'reflow'): Screen {
    const screen = new Screen(size.cols, size.rows, mode);
    screen.feed(output);
    return screen;
  }

  /**
   * Every line of the session as text: the rows a long line was wrapped onto are joined again;
   * trailing spaces and trailing empty lines removed.
   */
  text(): string[] {
    const out: string[] = [];
    let current = '';
    this.lines.forEach((row, y) => {
      const text = row.join('');
      current += this.wrapped[y] ? text.padEnd(this.cols) : text;
      if (!this.wrapped[y]) {
        out.push(current.trimEnd());
        current = '';
      }
    });
    if (current !== '') out.push(current.trimEnd());
    while (out.length > 0 && out.at(-1) === '') out.pop();
    return out;
  }

  /** The rows of the screen as shown (a long line takes several), trailing spaces removed. */
  rowsShown(): string[] {
    return this.lines.map((row) => row.join('').trimEnd());
  }

  /** The line the cursor is on. */
  cursorLine(): string {
    return (this.lines[this.y] ?? []).join('').trimEnd();
  }

  get cursor(): { x: number; y: number } {
    return { x: this.x, y: this.y };
  }

  feed(text: string): void {
    let i = 0;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '\x1b') {
        i = this.escape(text, i);
        continue;
      }
      const code = text.codePointAt(i)!;
      const char = String.fromCodePoint(code);
      i += char.length;
      if (char === '\r') {
        this.x = 0;
        this.pendingWrap = false;
      } else if (char === '\n') {
        this.lineFeed();
      } else if (char === '\t') {
        this.x = Math.min(this.cols - 1, (Math.floor(this.x / 8) + 1) * 8); // the next tab stop; nothing erased
      } else if (char === '\b') {
        this.x = Math.max(0, this.x - 1);
        this.pendingWrap = false;
      } else if (char === '\x07' || code < 0x20) {
        // bell and other controls: nothing on the screen
      } else {
        this.put(char);
      }
    }
  }

  private row(y: number): string[] {
    while (this.lines.length <= y) {
      this.lines.push([]);
      this.wrapped.push(false);
    }
    return this.lines[y]!;
  }

  private lineFeed(): void {
    this.y++;
    this.row(this.y);
    if (this.y - this.top >= this.rows) this.top = this.y - this.rows + 1;
    this.pendingWrap = false;
  }

  private put(char: string): void {
    if (this.pendingWrap) {
      if (this.autowrap) {
        this.wrapped[this.y] = true;
        this.lineFeed();
        this.x = 0;
      } else {
        this.overflow++;
      }
    }
    const row = this.row(this.y);
    while (row.length < this.x) row.push(' ');
    row[this.x] = char;
    if (this.x >= this.cols - 1) this.pendingWrap = true;
    else this.x++;
  }

  private escape(text: string, start: number): number {
    const next = text[start + 1];
    if (next === '[') {
      const m = /^\x1b\[([?>]?)([\d;]*)([@-~])/.exec(text.slice(start, start + 32));
      if (!m) return start + 2;
      this.csi(m[1]!, m[2]!.split(';').map((p) => (p === '' ? NaN : Number(p))), m[3]!);
      return start + m[0].length;
    }
    if (next === ']') {
      // OSC ... BEL or ST
      let end = start + 2;
      while (end < text.length && text[end] !== '\x07' && !(text[end] === '\x1b' && text[end + 1] === '\\')) end++;
      const body = text.slice(start + 2, end);
      const resize = /^777;resize;(\d+);(\d+)$/.exec(body);
      if (resize) this.resize(Number(resize[1]), Number(resize[2]));
      return text[end] === '\x07' ? end + 1 : end + 2;
    }
    if (next === '7') this.saved = [this.x, this.y];
    if (next === '8') [this.x, this.y] = this.saved;
    return start + 2;
  }

  private csi(prefix: string, params: number[], final: string): void {
    const n = Number.isNaN(params[0]!) ? 1 : Math.max(1, params[0]!);
    const clearRow = (y: number, from: number, to: number) => {
      const row = this.row(y);
      for (let x = from; x < Math.min(to, row.length); x++) row[x] = ' ';
    };
    if (prefix === '?') {
      for (const p of params) {
        if (p === 25) this.cursorVisible = final === 'h';
        if (p === 7) this.autowrap = final === 'h';
      }
      return;
    }
    switch (final) {
      case 'A':
        this.y = Math.max(this.top, this.y - n);
        break;
      case 'B':
        this.y = Math.min(this.top + this.rows - 1, this.y + n);
        this.row(this.y);
        break;
      case 'C':
        this.x = Math.min(this.cols - 1, this.x + n);
        break;
      case 'D':
        this.x = Math.max(0, this.x - n);
        break;
      case 'G':
        this.x = Math.min(this.cols - 1, n - 1);
        break;
      case 'H':
      case 'f': {
        const col = Number.isNaN(params[1] ?? NaN) ? 1 : params[1]!;
        this.y = this.top + Math.min(this.rows, n) - 1;
        this.row(this.y);
        this.x = Math.min(this.cols, Math.max(1, col)) - 1;
        break;
      }
      case 'K': {
        const mode = Number.isNaN(params[0]!) ? 0 : params[0]!;
        if (mode === 0) clearRow(this.y, this.x, Infinity);
        if (mode === 1) clearRow(this.y, 0, this.x + 1);
        if (mode === 2) clearRow(this.y, 0, Infinity);
        break;
      }
      case 'J': {
        const mode = Number.isNaN(params[0]!) ? 0 : params[0]!;
        if (mode === 0) {
          clearRow(this.y, this.x, Infinity);
          // Everything below the cursor is blank: drop those rows.
          this.lines.length = this.y + 1;
          this.wrapped.length = this.y + 1;
          this.wrapped[this.y] = false;
        }
        if (mode === 2) for (let y = this.top; y < this.lines.length; y++) clearRow(y, 0, Infinity);
        break;
      }
      default:
        break; // SGR (m) and others: no effect on the text
    }
    this.pendingWrap = false;
  }

  /** The window becomes `cols` x `rows`. */
  resize(cols: number, rows: number): void {
    if (this.mode === 'cut') {
      this.lines = this.lines.map((row) => row.slice(0, cols));
      this.wrapped = this.wrapped.map(() => false);
      this.x = Math.min(this.x, cols - 1);
    } else {
      // Join the rows of each line of text, then wrap them again at the new width.
      const lines: string[][] = [];
      let cursor: [number, number] = [0, 0];
      let current: string[] = [];
      for (let y = 0; y < this.lines.length; y++) {
        const row = [...this.lines[y]!];
        if (this.wrapped[y]) while (row.length < this.cols) row.push(' ');
        if (y === this.y) cursor = [lines.length, current.length + this.x];
        current.push(...row);
        if (!this.wrapped[y]) {
          lines.push(current);
          current = [];
        }
      }
      if (current.length > 0 || lines.length === 0) lines.push(current);
      const rowsOut: string[][] = [];
      const wrappedOut: boolean[] = [];
      lines.forEach((line, l) => {
        let content = line;
        while (content.length > 0 && content.at(-1) === ' ') content = content.slice(0, -1);
        const first = rowsOut.length;
        for (let at = 0; at === 0 || at < content.length; at += cols) {
          rowsOut.push(content.slice(at, at + cols));
          wrappedOut.push(at + cols < content.length);
        }
        if (l === cursor[0]) {
          const row = Math.floor(cursor[1] / cols);
          while (rowsOut.length <= first + row) {
            rowsOut.push([]);
            wrappedOut.push(false);
          }
          cursor = [first + row, cursor[1] % cols];
        }
      });
      this.lines = rowsOut;
      this.wrapped = wrappedOut;
      [this.y, this.x] = cursor;
    }
    this.cols = cols;
    this.rows = rows;
    this.top = Math.min(this.y, Math.max(0, this.lines.length - rows));
    this.pendingWrap = false;
  }
}
