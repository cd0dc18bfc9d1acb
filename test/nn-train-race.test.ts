import { describe, expect, it } from 'vitest';
import { raceTable, raceWinner, type RaceRow } from '../src/train/race.ts';

const rows: RaceRow[] = [
  { name: 'sgd', optimizer: 'sgd', bestValLoss: 0.63161, bestValAccuracy: 0.642, epochs: 8, seconds: 12.2, imagesPerSecond: 6213, status: 'completed' },
  { name: 'momentum-classic', optimizer: 'momentum', bestValLoss: 0.6379, bestValAccuracy: 0.627, epochs: 8, seconds: 12.5, imagesPerSecond: 16207, status: 'completed' },
  { name: 'adam', optimizer: 'adam', bestValLoss: null, bestValAccuracy: null, epochs: 0, seconds: 0.4, imagesPerSecond: 0, status: 'diverged' },
];

describe('the race table', () => {
  it('is TSV by default (race.tsv, and stdout when it is not a terminal)', () => {
    expect(raceTable(rows).split('\n')[1]).toBe('sgd\tsgd\t0.6316\t0.6420\t8\t12.2\t6213\tcompleted');
  });

  it('on a terminal: aligned columns, numbers to the right, no trailing spaces', () => {
    const lines = raceTable(rows, { aligned: true }).trimEnd().split('\n');
    expect(lines).toEqual([
      'name              optimizer  bestValLoss  bestValAccuracy  epochs  seconds  imagesPerSecond  status',
      'sgd               sgd             0.6316           0.6420       8     12.2             6213  completed',
      'momentum-classic  momentum        0.6379           0.6270       8     12.5            16207  completed',
      'adam              adam                                          0      0.4                0  diverged',
    ]);
  });

  it('says who won by the best validation loss, and by how much (as printed)', () => {
    expect(raceWinner(rows)).toBe('winner: sgd, best validation loss 0.6316 (accuracy 64.2%), 0.0063 lower than momentum-classic (0.6379)');
    expect(raceWinner(rows.slice(0, 1))).toBeNull(); // one run with a loss: no race to win
    expect(raceWinner([rows[0]!, { ...rows[1]!, bestValLoss: 0.63159 }])).toMatch(/^no clear winner: /);
  });
});
