import { describe, expect, it } from 'vitest';
import { terminalSupportsUnicode, textChart } from '../src/report/text-chart.ts';

const loss = [0.693, 0.61, 0.55, 0.5, 0.46, 0.43, 0.41, 0.395, 0.385, 0.38];
const chars = (line: string): string[] => [...line];

/** The plot part of each line (after the gutter's axis character), padded back to a common width. */
function plotPart(lines: string[], axisChars: string): string[] {
  const parts = lines.map((line) => {
    const i = chars(line).findIndex((c) => axisChars.includes(c));
    return chars(line).slice(i + 1).join('');
  });
  const width = Math.max(...parts.map((p) => chars(p).length));
  return parts.map((p) => p + ' '.repeat(width - chars(p).length));
}

describe('text chart', () => {
  it('gives exactly `height` lines of at most `width` characters, none ending in a space, in both modes', () => {
    for (const unicode of [true, false]) {
      for (const [width, height] of [[40, 6], [20, 3], [8, 2], [3, 1]] as const) {
        const lines = textChart(loss, { width, height, unicode });
        expect(lines).toHaveLength(height);
        for (const line of lines) {
          expect(chars(line).length).toBeLessThanOrEqual(width);
          expect(line).not.toMatch(/ $/);
        }
      }
    }
  });

  it('with an epoch axis: the axis line and the first and last epoch under the first and last columns', () => {
    const lines = textChart(loss, { width: 40, height: 4, unicode: true, format: (v) => v.toFixed(4), xAxis: { first: '1', last: '10', title: 'epoch' } });
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^0\.6930 ┤/); // the labels as the caller writes them
    expect(lines[3]).toMatch(/^0\.3800 ┤/);
    expect(lines[4]).toBe('       └' + '─'.repeat(32));
    expect(lines[5]).toBe('        1' + ' '.repeat(12) + 'epoch' + ' '.repeat(12) + '10');
    expect(chars(lines[5]!).length).toBe(40);
    const ascii = textChart(loss, { width: 30, height: 3, unicode: false, xAxis: { first: '3', last: '12', title: 'epoch' } });
    expect(ascii[3]).toMatch(/^ +\+-+$/);
    expect(ascii[4]).toMatch(/^ +3 +epoch +12$/);
  });

  it('labels the largest value on the top row and the smallest on the bottom row', () => {
    const lines = textChart(loss, { width: 40, height: 6, unicode: true });
    expect(lines[0]).toMatch(/^0\.693 ┤/);
    expect(lines[5]).toMatch(/^ 0\.38 ┤/);
    expect(lines.slice(1, 5).every((l) => l.startsWith('      │'))).toBe(true);
  });

  it('draws braille in Unicode mode and printable ASCII only otherwise', () => {
    const unicode = textChart(loss, { width: 40, height: 6, unicode: true }).join('');
    expect(unicode).toMatch(/[\u2801-\u28ff]/);
    const ascii = textChart(loss, { width: 40, height: 6, unicode: false }).join('\n');
    expect(ascii).toMatch(/^[\x20-\x7e\n]*$/);
    expect(ascii).toContain('*');
  });

  it('follows the data: a falling curve starts top left and ends bottom right', () => {
    const plot = plotPart(textChart(loss, { width: 30, height: 5, unicode: false }), '+|');
    // First value: the top row's first column; last value: the bottom row's last column.
    expect(plot[0]![0]).toBe('*');
    expect(plot[4]!.at(-1)).toBe('*');
    // Every value is a '*' and the rows of the '*'s never go up from left to right.
    const rowOfColumn: number[] = [];
    for (let c = 0; c < plot[0]!.length; c++) {
      const r = plot.findIndex((row) => row[c] === '*');
      if (r >= 0) rowOfColumn.push(r);
    }
    expect(rowOfColumn).toHaveLength(loss.length);
    expect(rowOfColumn).toEqual([...rowOfColumn].sort((a, b) => a - b));
  });

  it('puts a rising braille curve in the opposite corners', () => {
    const rising = [...loss].reverse();
    const plot = plotPart(textChart(rising, { width: 30, height: 4, unicode: true }), '┤│');
    // Braille dot 7 (bottom left, 0x40) in the first cell of the bottom row; dot 4 (top right, 0x08) in the last cell of the top row.
    expect(plot[3]!.codePointAt(0)! & 0x40).toBe(0x40);
    expect(plot[0]!.codePointAt(plot[0]!.length - 1)! & 0x08).toBe(0x08);
  });

  it('breaks the line at NaN and Infinity and says when there is nothing to draw', () => {
    const plot = plotPart(textChart([1, 2, NaN, 2, 1], { width: 16, height: 3, unicode: false }), '+|');
    // A 13-column plot puts the values in columns 0, 3, 6, 9, 12 (i * 12 / 4); the NaN gets no '*'.
    const stars = plot.flatMap((row) => chars(row).flatMap((c, i) => (c === '*' ? [i] : [])));
    expect(stars).toHaveLength(4);
    // No '.' is drawn across the gap between the second and fourth values.
    const dotsInGap = plot.flatMap((row) => chars(row).slice(4, 8)).filter((c) => c === '.');
    expect(dotsInGap).toHaveLength(0);
    for (const values of [[], [NaN, Infinity]]) {
      const lines = textChart(values, { width: 20, height: 3, unicode: true });
      expect(lines[1]).toContain('(no data)');
    }
  });

  it('draws a flat series on the middle row, labelled once', () => {
    const lines = textChart([0.5, 0.5, 0.5], { width: 20, height: 5, unicode: false });
    expect(lines[2]).toMatch(/^0\.5 \+\*/);
    expect(lines.filter((l) => l.includes('0.5'))).toHaveLength(1);
  });
});

describe('terminalSupportsUnicode', () => {
  it('follows the locale: LC_ALL, then LC_CTYPE, then LANG', () => {
    expect(terminalSupportsUnicode({ LANG: 'en_US.UTF-8', TERM: 'xterm-256color' })).toBe(true);
    expect(terminalSupportsUnicode({ LANG: 'C.utf8' })).toBe(true);
    expect(terminalSupportsUnicode({ LANG: 'C' })).toBe(false);
    expect(terminalSupportsUnicode({ LANG: 'de_DE.ISO-8859-1' })).toBe(false);
    expect(terminalSupportsUnicode({ LC_ALL: 'C', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(terminalSupportsUnicode({ LC_ALL: '', LC_CTYPE: 'fr_FR.UTF-8', LANG: 'C' })).toBe(true);
    expect(terminalSupportsUnicode({})).toBe(false);
  });

  it('says no on a dumb terminal whatever the locale', () => {
    expect(terminalSupportsUnicode({ LANG: 'en_US.UTF-8', TERM: 'dumb' })).toBe(false);
  });
});
