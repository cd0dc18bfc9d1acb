// The live line (src/report/status-line.ts: a cli-progress bar drawn through our FrameTerminal) on
// an emulated screen: what stays on the screen after a resize, a log line, a pause and the end, on
// terminals that reflow their lines (tmux, VTE) and on those that cut them (xterm).
import cliProgress from 'cli-progress';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressText } from '../src/report/progress-text.ts';
import { ProgressBar, restoreTerminal } from '../src/report/status-line.ts';
import { Screen } from './helpers/terminal.ts';

/** A format that fills the width it is given: "label ####...". */
const fill = (label: string) => (_: cliProgress.Options, params: cliProgress.Params) => `${label} ${'#'.repeat(Math.max(0, params.maxWidth - label.length - 1))}`;

/** A terminal of `cols` columns: the bar writes into a Screen; `resize` changes both (Node updates stderr.columns on SIGWINCH). */
function terminal(cols: number, mode: 'reflow' | 'cut', format = fill('epoch 1')) {
  const screen = new Screen(cols, 10, mode);
  let written = '';
  const stream = {
    columns: cols,
    write: (s: string) => ((written += s), screen.feed(s), true),
  };
  const bar = new ProgressBar(stream, { format, etaBuffer: 10 });
  return {
    screen,
    bar,
    stream,
    written: () => written,
    resize(c: number) {
      screen.resize(c, 10);
      stream.columns = c;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  restoreTerminal();
  vi.useRealTimers();
});

describe('the live line on a screen', () => {
  for (const mode of ['reflow', 'cut'] as const) {
    it(`leaves no stale row when the window narrows under it (${mode})`, () => {
      const t = terminal(100, mode);
      t.stream.write('log line one\n');
      t.bar.start(10, 0);
      expect(t.screen.text()).toEqual(['log line one', `epoch 1 ${'#'.repeat(91)}`]);
      expect(t.screen.cursorVisible).toBe(false);
      t.resize(40); // a reflowing terminal now shows the 99-column frame on three rows
      vi.advanceTimersByTime(100); // cli-progress's next frame, at the new width
      expect(t.screen.text()).toEqual(['log line one', `epoch 1 ${'#'.repeat(31)}`]);
      t.bar.print('epoch 1/3  train loss 0.5');
      expect(t.screen.text()).toEqual(['log line one', 'epoch 1/3  train loss 0.5', `epoch 1 ${'#'.repeat(31)}`]);
      t.bar.stop();
      expect(t.screen.text()).toEqual(['log line one', 'epoch 1/3  train loss 0.5']);
      expect(t.screen.cursorVisible).toBe(true);
      expect(t.screen.overflow).toBe(0);
    });
  }

  it("cli-progress's own terminal leaves a stale row on a reflowing terminal (why FrameTerminal exists)", () => {
    // The check above can fail: the same bar through cli-progress's terminal, "ESC[1G text ESC[K",
    // leaves the cursor at the end of the line.
    const screen = new Screen(100, 10, 'reflow');
    const stream = { isTTY: true, columns: 100, write: (s: string) => (screen.feed(s), true) } as unknown as NodeJS.WritableStream;
    const bar = new cliProgress.SingleBar({ stream, format: fill('epoch 1'), hideCursor: true, clearOnComplete: true });
    bar.start(10, 0);
    screen.resize(40, 10);
    (stream as unknown as { columns: number }).columns = 40;
    vi.advanceTimersByTime(100);
    bar.stop();
    // The 99 columns became rows of 40, 40 and 19 with the cursor on the last: the next frame
    // erased only that row, and stop() erased the row it had saved before the resize.
    expect(screen.rowsShown()).toEqual(['', '#'.repeat(40), `epoch 1 ${'#'.repeat(31)}`]);
  });

  it('a frame that is wider than the window when it arrives is cut, not wrapped', () => {
    const t = terminal(100, 'reflow');
    t.bar.start(10, 0);
    t.screen.resize(50, 10); // the window shrank, the program has not heard yet
    vi.advanceTimersByTime(100); // still 99 wide
    expect(t.screen.text()).toEqual([`epoch 1 ${'#'.repeat(41)}`]); // 49 columns: ESC[J erases the one the cursor is on
    expect(t.screen.overflow).toBeGreaterThan(0); // what the terminal cut
    t.bar.stop();
    expect(t.screen.text()).toEqual([]);
  });

  it('each frame is one write: CR, autowrap off, the text, erase below, autowrap on, CR', () => {
    const t = terminal(60, 'reflow', (_, params) => `decoding ${params.value}/${params.total}`);
    t.bar.start(10, 0);
    t.bar.update(3);
    vi.advanceTimersByTime(100);
    expect(t.written()).toBe('\x1b[?25l' + '\r\x1b[?7ldecoding 0/10\x1b[J\x1b[?7h\r' + '\r\x1b[?7ldecoding 3/10\x1b[J\x1b[?7h\r');
    t.bar.stop();
    expect(t.written().endsWith('\x1b[?25h\r\x1b[J')).toBe(true); // the cursor back, the line erased
  });

  it('pause() erases the line and draws nothing for a frame, then the same text again', () => {
    const t = terminal(60, 'reflow', (_, params) => `nn-eval: ${params.value} images`);
    t.bar.start(0, 0);
    t.bar.update(5);
    vi.advanceTimersByTime(100);
    expect(t.screen.text()).toEqual(['nn-eval: 5 images']);
    t.bar.pause();
    t.stream.write('data line\n'); // what `nn-eval | head` prints on this terminal
    vi.advanceTimersByTime(50);
    expect(t.screen.text()).toEqual(['data line']);
    vi.advanceTimersByTime(100);
    expect(t.screen.text()).toEqual(['data line', 'nn-eval: 5 images']);
  });

  it('around() erases the line while another stream writes on the same terminal, then draws it again', () => {
    const t = terminal(60, 'reflow', () => 'epoch 1 ###');
    t.bar.start(10, 0);
    t.bar.around(() => t.stream.write('{"event":"warning"}\n'));
    expect(t.screen.text()).toEqual(['{"event":"warning"}', 'epoch 1 ###']);
  });

  it('restoreTerminal stops every bar running: erased, the cursor shown, at the start of the line', () => {
    const t = terminal(60, 'reflow', fill('decoding'));
    t.bar.start(10, 0);
    restoreTerminal();
    expect(t.bar.isActive).toBe(false);
    expect(t.screen.text()).toEqual([]);
    expect(t.screen.cursorVisible).toBe(true);
    expect(t.screen.cursor.x).toBe(0);
  });
});

describe("a bar's redraw timer", () => {
  it('never keeps the process alive (a failure that skips stop() must not hang the command)', () => {
    vi.useRealTimers();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const t = terminal(60, 'reflow');
    t.bar.start(10, 0);
    t.bar.update(1);
    expect(t.bar.isActive).toBe(true);
    expect(timers()).toBe(before);
    // The check can fail: cli-progress's own timer is a ref'd one.
    const plain = new cliProgress.SingleBar({ stream: { isTTY: true, columns: 60, write: () => true } as unknown as NodeJS.WritableStream });
    plain.start(10, 0);
    expect(timers()).toBe(before + 1);
    plain.stop();
  });
});

describe('progress text', () => {
  const options = { barsize: 30, barCompleteChar: '█', barIncompleteChar: '░', barCompleteString: '█'.repeat(31), barIncompleteString: '░'.repeat(31), barGlue: '' };
  const params = (maxWidth: number): cliProgress.Params => ({ progress: 0.5, eta: 4, startTime: 0, stopTime: null, total: 38, value: 19, maxWidth });
  const parts = {
    label: 'epoch 2/10',
    fields: [
      { text: 'loss 0.3494', rank: 1 },
      { text: '9,260 img/s', rank: 3 },
      { text: 'ETA 0:04', rank: 2 },
      { text: 'run ETA 1:20', rank: 4 },
    ],
  };

  it('fits the width: the least important fields go first, then the bar; the loss stays', () => {
    for (const width of [120, 99, 80, 59, 41, 30]) expect([...progressText(options, params(width), parts)].length, `width ${width}`).toBeLessThanOrEqual(width);
    expect(progressText(options, params(120), parts)).toBe('epoch 2/10 ███████████████░░░░░░░░░░░░░░░ 19/38 | loss 0.3494 | 9,260 img/s | ETA 0:04 | run ETA 1:20');
    expect(progressText(options, params(59), parts)).toBe('epoch 2/10 █████████░░░░░░░░ 19/38 | loss 0.3494 | ETA 0:04');
    expect(progressText(options, params(41), parts)).toBe('epoch 2/10 19/38 | loss 0.3494 | ETA 0:04');
    expect(progressText(options, params(30), parts)).toBe('epoch 2/10 19/38 | loss 0.3494');
  });
});
