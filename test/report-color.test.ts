import { describe, expect, it } from 'vitest';
import { colorLevel, progressStyle } from '../src/report/color.ts';

describe('colour and progress decisions', () => {
  it('colour: flag, then NO_COLOR, then FORCE_COLOR, then the terminal', () => {
    expect(colorLevel(true, { TERM: 'xterm' })).toBe(1);
    expect(colorLevel(false, { TERM: 'xterm' })).toBe(0);
    expect(colorLevel(true, { TERM: 'dumb' })).toBe(0);
    expect(colorLevel(true, { TERM: 'xterm', NO_COLOR: '1' })).toBe(0);
    expect(colorLevel(true, { TERM: 'xterm', NO_COLOR: '' })).toBe(1); // empty NO_COLOR does not count
    expect(colorLevel(false, { FORCE_COLOR: '1' })).toBe(1);
    expect(colorLevel(true, { FORCE_COLOR: '0' })).toBe(0);
    expect(colorLevel(false, { FORCE_COLOR: '3' })).toBe(3);
    expect(colorLevel(false, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(0);
    expect(colorLevel(false, { NO_COLOR: '1' }, true)).toBe(1); // --color wins
    expect(colorLevel(true, { FORCE_COLOR: '1' }, false)).toBe(0); // --no-color wins
  });

  it('a live bar only for a person at a terminal; NO_COLOR changes the colour, not the progress', () => {
    const on = { quiet: false, progress: true };
    expect(progressStyle(true, { TERM: 'xterm' }, on)).toBe('live');
    expect(progressStyle(true, { TERM: 'xterm', NO_COLOR: '1' }, on)).toBe('live');
    expect(progressStyle(false, { TERM: 'xterm' }, on)).toBe('plain');
    expect(progressStyle(true, { TERM: 'dumb' }, on)).toBe('plain');
    expect(progressStyle(true, { TERM: 'xterm' }, { quiet: false, progress: false })).toBe('plain'); // --no-progress
    expect(progressStyle(true, { TERM: 'xterm' }, { quiet: true, progress: true })).toBe('none');
  });
});
