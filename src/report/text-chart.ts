/**
 * A small line chart for the terminal, as lines of text: the loss curve at the end of a run.
 *
 * With Unicode, each character cell is a 2 x 4 grid of braille dots (U+2800 to U+28FF), so a
 * 40-column chart has 80 x (4 * height) points of resolution. Without it (TERM=dumb, a C or
 * Latin-1 locale, a log file read later), the same curve is drawn in plain ASCII: '*' where a
 * value is, '.' along the line between two values.
 *
 * Layout of every line: a gutter with the largest value on the top row and the smallest on the
 * bottom row, an axis character, then the plot. With `xAxis`, two more lines: the horizontal axis
 * and its labels (the first and last x, e.g. epochs, and the axis title between them):
 *
 *   0.6931 ┤⠑⠢⡀
 *          │  ⠈⠢⣀
 *   0.3800 ┤     ⠉⠒⠒⠤⠤⣀⣀⣀
 *          └──────────────
 *           1   epoch   10
 *
 * Lines are at most `width` characters and never end in a space.
 */

export interface TextChartOptions {
  /** Characters per line, gutter included. */
  width: number;
  /** Number of lines. */
  height: number;
  /** Braille and box-drawing characters (true) or ASCII only (false). */
  unicode: boolean;
  /** How the gutter writes a value (default: four significant digits, no trailing zeros). */
  format?: (value: number) => string;
  /** A horizontal axis under the plot, labelled with the first and last x and a title. */
  xAxis?: { first: string; last: string; title: string };
}

/** Dot bits of a braille cell, by [column][row]: dots 1-2-3-7 on the left, 4-5-6-8 on the right. */
const BRAILLE_BITS = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
] as const;

/** A value for the gutter: four significant digits, no trailing zeros. */
function label(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** Every cell on the segment from (x0, y0) to (x1, y1), ends included (Bresenham's line). */
function segmentCells(x0: number, y0: number, x1: number, y1: number, visit: (x: number, y: number) => void): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    visit(x0, y0);
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/**
 * Places the values on a grid of `cols` x `rows` points (row 0 at the top), calling `line` for
 * every segment between consecutive finite values and `point` for every value. NaN and Infinity
 * break the line: nothing is drawn across them.
 */
function plotOnGrid(
  values: readonly number[],
  cols: number,
  rows: number,
  lo: number,
  hi: number,
  line: (x0: number, y0: number, x1: number, y1: number) => void,
  point: (x: number, y: number) => void,
): void {
  const n = values.length;
  const col = (i: number): number => (n === 1 ? Math.floor((cols - 1) / 2) : Math.round((i * (cols - 1)) / (n - 1)));
  // A flat series sits on the middle row.
  const row = (v: number): number => (hi === lo ? Math.floor((rows - 1) / 2) : Math.round(((hi - v) / (hi - lo)) * (rows - 1)));
  let previous: [number, number] | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      previous = undefined;
      continue;
    }
    const here: [number, number] = [col(i), row(v)];
    if (previous) line(previous[0], previous[1], here[0], here[1]);
    point(here[0], here[1]);
    previous = here;
  }
}

export function textChart(values: readonly number[], opts: TextChartOptions): string[] {
  const width = Math.max(1, Math.floor(opts.width));
  const height = Math.max(1, Math.floor(opts.height));
  const finite = values.filter(Number.isFinite);
  const lo = finite.length > 0 ? Math.min(...finite) : 0;
  const hi = finite.length > 0 ? Math.max(...finite) : 0;

  // Gutter: right-aligned labels, a space, the axis character. Dropped when the chart is too narrow.
  // A flat series has one value to show, on the middle row where its line is.
  const flat = finite.length > 0 && hi === lo;
  const format = opts.format ?? label;
  const top = finite.length > 0 && !flat ? format(hi) : '';
  const bottom = finite.length > 0 && !flat ? format(lo) : '';
  const middle = flat ? format(lo) : '';
  const middleRow = Math.floor((height - 1) / 2);
  const labelWidth = Math.max(top.length, bottom.length, middle.length);
  const gutterWidth = labelWidth > 0 && width >= labelWidth + 2 + 4 ? labelWidth + 2 : 0;
  const plotWidth = width - gutterWidth;

  let plot: string[];
  if (finite.length === 0) {
    plot = Array.from({ length: height }, () => ' '.repeat(plotWidth));
    const message = '(no data)'.slice(0, plotWidth);
    const start = Math.floor((plotWidth - message.length) / 2);
    plot[middleRow] = ' '.repeat(start) + message + ' '.repeat(plotWidth - start - message.length);
  } else if (opts.unicode) {
    plot = brailleRows(values, plotWidth, height, lo, hi);
  } else {
    plot = asciiRows(values, plotWidth, height, lo, hi);
  }

  const lines = plot.map((row, r) => {
    if (gutterWidth === 0) return row;
    const text = flat ? (r === middleRow ? middle : '') : r === 0 ? top : r === height - 1 ? bottom : '';
    const labelled = text !== '';
    const axis = opts.unicode ? (labelled ? '┤' : '│') : labelled ? '+' : '|';
    return `${text.padStart(labelWidth)} ${axis}${row}`;
  });
  if (opts.xAxis) {
    const corner = gutterWidth === 0 ? '' : ' '.repeat(labelWidth + 1) + (opts.unicode ? '└' : '+');
    lines.push(corner + (opts.unicode ? '─' : '-').repeat(plotWidth));
    lines.push(' '.repeat(gutterWidth) + axisLabels(opts.xAxis, plotWidth));
  }
  return lines.map((line) => line.trimEnd());
}

/** "1     epoch     10" in `width` columns: the first label under the first column, the last under the last. */
function axisLabels(axis: NonNullable<TextChartOptions['xAxis']>, width: number): string {
  const { first, last, title } = axis;
  const gap = width - first.length - last.length;
  if (gap < 1) return first.slice(0, width);
  if (gap < title.length + 2) return first + ' '.repeat(gap) + last;
  const left = Math.floor((gap - title.length) / 2);
  return first + ' '.repeat(left) + title + ' '.repeat(gap - title.length - left) + last;
}

function brailleRows(values: readonly number[], cols: number, rows: number, lo: number, hi: number): string[] {
  const dotCols = cols * 2;
  const dotRows = rows * 4;
  const bits = new Uint8Array(cols * rows);
  const setDot = (x: number, y: number): void => {
    bits[Math.floor(y / 4) * cols + Math.floor(x / 2)]! |= BRAILLE_BITS[x % 2]![y % 4]!;
  };
  plotOnGrid(values, dotCols, dotRows, lo, hi, (x0, y0, x1, y1) => segmentCells(x0, y0, x1, y1, setDot), setDot);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    let line = '';
    // An empty cell is a space, not the blank braille character, which some fonts draw as dots.
    for (let c = 0; c < cols; c++) line += bits[r * cols + c] === 0 ? ' ' : String.fromCharCode(0x2800 + bits[r * cols + c]!);
    lines.push(line);
  }
  return lines;
}

function asciiRows(values: readonly number[], cols: number, rows: number, lo: number, hi: number): string[] {
  const grid = Array.from({ length: rows }, () => new Array<string>(cols).fill(' '));
  const mark = (ch: string) => (x: number, y: number) => {
    // A value's '*' is never overwritten by the '.' of a line passing through its cell.
    if (grid[y]![x] !== '*') grid[y]![x] = ch;
  };
  plotOnGrid(values, cols, rows, lo, hi, (x0, y0, x1, y1) => segmentCells(x0, y0, x1, y1, mark('.')), mark('*'));
  return grid.map((row) => row.join(''));
}

/**
 * Whether the terminal can show braille and box-drawing characters. TERM=dumb cannot. Otherwise
 * the locale decides, read as C programs read it: the first of LC_ALL, LC_CTYPE, LANG that is set
 * and not empty; UTF-8 locales ("en_US.UTF-8", "C.utf8") can, anything else ("C", "POSIX",
 * "de_DE.ISO-8859-1") cannot. No locale at all means the C locale: ASCII.
 */
export function terminalSupportsUnicode(env: Readonly<Record<string, string | undefined>>): boolean {
  if ((env.TERM ?? '').toLowerCase() === 'dumb') return false;
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== '');
  if (locale === undefined) return false;
  return /utf-?8/i.test(locale);
}
