import { describe, expect, it } from 'vitest';
import { makeChalk } from '../src/report/color.ts';
import { TrainReporter } from '../src/report/train-reporter.ts';

function reporter(json = false) {
  let stderr = '';
  let stdout = '';
  const r = new TrainReporter({
    stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
    chalk: makeChalk(0),
    bars: false,
    json,
    quiet: false,
  });
  return { r, out: () => ({ stderr, stdout }) };
}

describe('the training reporter without a terminal', () => {
  it('prints a plain line every tenth of a long epoch, with the method numbers, and no escape codes', () => {
    const { r, out } = reporter();
    for (let b = 1; b <= 100; b++) {
      r.handle({ event: 'batch', epoch: 1, batch: b, batches: 100, loss: 0.7, smoothedLoss: 0.69, imagesPerSecond: 1000, extra: { bestFitness: -0.5, meanFitness: -0.6 } });
    }
    const lines = out().stderr.trim().split('\n');
    expect(lines).toHaveLength(9); // batches 10, 20, ..., 90 (the epoch line closes the 10th tenth)
    expect(lines[0]).toBe('epoch 1: batch 10/100, loss 0.6900, 1,000 img/s | bestFitness -0.5000 | meanFitness -0.6000');
    expect(out().stderr).not.toMatch(/\x1b\[/);
  });

  it('--json: events on stdout, one object per line; batch events stay off stdout', () => {
    const { r, out } = reporter(true);
    r.handle({ event: 'batch', epoch: 1, batch: 1, batches: 2, loss: 0.7, smoothedLoss: 0.7, imagesPerSecond: 10 });
    r.handle({ event: 'warning', message: 'careful' });
    expect(out().stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ event: 'warning', message: 'careful' }]);
  });
});
