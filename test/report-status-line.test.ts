// The live line (src/report/status-line.ts) on an emulated screen: what stays on the screen after
// a resize, a log line, and the end, on terminals that reflow their lines (tmux, VTE) and on those
// that cut them (xterm).
import { describe, expect, it } from 'vitest';
import { restoreTerminal, StatusLine } from '../src/report/status-line.ts';
import { Screen } from './helpers/terminal.ts';

/** A terminal of `cols` columns: StatusLine writes into a Screen, `resize` changes both. */
function terminal(cols: number, mode: 'reflow' | 'cut') {
  const screen = new Screen(cols, 10, mode);
  const listeners: (() => void)[] = [];
  const stream = {
    columns: cols,
    write: (s: string) => (screen.feed(s), true),
    on: (_: 'resize', l: () => void) => listeners.push(l),
    off: (_: 'resize', l: () => void) => listeners.splice(listeners.indexOf(l), 1),
  };
  let now = 0;
  const line = new StatusLine(stream, { now: () => (now += 1000) });
  return {
    screen,
    line,
    stream,
    resize(c: number) {
      screen.resize(c, 10);
      stream.columns = c;
      for (const l of [...listeners]) l(); // SIGWINCH: Node's 'resize' event
    },
  };
}

const bar = (label: string) => (width: number) => `${label} ${'#'.repeat(Math.max(0, width - label.length - 1))}`;

describe('the live line on a screen', () => {
  for (const mode of ['reflow', 'cut'] as const) {
    it(`leaves no stale row when the window narrows under it (${mode})`, () => {
      const t = terminal(100, mode);
      t.stream.write('log line one\n');
      t.line.update(bar('epoch 1'));
      expect(t.screen.text()).toEqual(['log line one', `epoch 1 ${'#'.repeat(91)}`]);
      expect(t.screen.cursorVisible).toBe(false);
      t.resize(40); // a reflowing terminal now shows the 99-column frame on three rows
      expect(t.screen.text()).toEqual(['log line one', `epoch 1 ${'#'.repeat(31)}`]);
      t.line.print('epoch 1/3  train loss 0.5');
      t.line.update(bar('epoch 2'), true);
      t.line.clear();
      expect(t.screen.text()).toEqual(['log line one', 'epoch 1/3  train loss 0.5']);
      expect(t.screen.cursorVisible).toBe(true);
      expect(t.screen.overflow).toBe(0);
    });
  }

  it('the way it was drawn before (cursor left at the end of the line) leaves a stale row on a reflowing terminal', () => {
    // The check above can fail: cli-progress's frame, "CR text ESC[K", with the cursor at its end.
    const screen = new Screen(100, 10, 'reflow');
    screen.feed(`\x1b[?25l\r${'x'.repeat(99)}\x1b[K`);
    screen.resize(40, 10);
    screen.feed(`\r${'y'.repeat(39)}\x1b[K`);
    screen.feed('\r\x1b[K\x1b[?25hdone\n');
    // The 99 columns became rows of 40, 40 and 19 with the cursor on the last: two stale rows.
    expect(screen.rowsShown()).toEqual(['x'.repeat(40), 'x'.repeat(40), 'done', '']);
  });

  it('a frame that is wider than the window when it arrives is cut, not wrapped', () => {
    const t = terminal(100, 'reflow');
    t.line.update(bar('epoch 1'));
    t.screen.resize(50, 10); // the window shrank, the program has not heard yet
    t.line.update(bar('epoch 1'), true); // still 99 wide
    expect(t.screen.text()).toEqual([`epoch 1 ${'#'.repeat(41)}`]); // 49 columns: ESC[J erases the one the cursor is on
    expect(t.screen.overflow).toBeGreaterThan(0); // what the terminal cut
    t.line.clear();
    expect(t.screen.text()).toEqual([]);
  });

  it('restoreTerminal erases every live line and shows the cursor', () => {
    const t = terminal(60, 'reflow');
    t.line.update(bar('decoding'));
    restoreTerminal();
    expect(t.screen.text()).toEqual([]);
    expect(t.screen.cursorVisible).toBe(true);
    expect(t.screen.cursor.x).toBe(0);
  });
});
