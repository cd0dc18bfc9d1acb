import { describe, expect, it } from 'vitest';
import { colorLevel, showProgress } from '../src/report/color.ts';

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

  it('progress only for a person at a terminal', () => {
    expect(showProgress(true, { TERM: 'xterm' }, false)).toBe(true);
    expect(showProgress(false, { TERM: 'xterm' }, false)).toBe(false);
    expect(showProgress(true, { TERM: 'dumb' }, false)).toBe(false);
    expect(showProgress(true, { TERM: 'xterm', NO_COLOR: '1' }, false)).toBe(false);
    expect(showProgress(true, { TERM: 'xterm' }, true)).toBe(false);
  });
});
