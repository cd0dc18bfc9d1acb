import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeChalk } from '../src/report/color.ts';
import { TrainReporter, type ReporterOptions } from '../src/cli/train-reporter.ts';

function reporter(options: Partial<ReporterOptions> = {}) {
  let stderr = '';
  let stdout = '';
  let now = 0;
  const r = new TrainReporter({
    stderr: { write: (s: string) => ((stderr += s), true), columns: 100 },
    stdout: { write: (s: string) => ((stdout += s), true) },
    chalk: makeChalk(0),
    progress: 'plain',
    json: false,
    quiet: false,
    now: () => now,
    ...options,
  });
  return { r, out: () => ({ stderr, stdout }), advance: (ms: number) => (now += ms) };
}

const batch = (b: number, batches = 100, epoch = 1) =>
  ({ event: 'batch', epoch, batch: b, batches, loss: 0.7, smoothedLoss: 0.69, imagesPerSecond: 1000 }) as const;

describe('the training reporter without a terminal', () => {
  it('prints a progress line only when nothing was printed for 10 seconds, with the method numbers, no escape codes', () => {
    const { r, out, advance } = reporter();
    r.handle({ event: 'start', runDir: 'runs/x', name: 'x', epochs: 3, firstEpoch: 1, batchesPerEpoch: 100, batchSize: 8, parameters: 10, layers: [], statistics: 0, optimizer: 'sgd', kernel: 'js', workers: 1, resumed: false });
    // 100 batches over 25 seconds: lines at 10 s and 20 s, none in between.
    for (let b = 1; b <= 100; b++) {
      advance(250);
      r.handle({ ...batch(b), extra: { bestFitness: -0.5, meanFitness: -0.6 } });
    }
    const lines = out().stderr.trim().split('\n').slice(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('epoch 1/3: batch 40/100, loss 0.6900, 1,000 img/s, bestFitness -0.5000, meanFitness -0.6000, ETA 0:15, run ETA 1:05');
    expect(lines[1]).toMatch(/^epoch 1\/3: batch 80\/100, /);
    expect(out().stderr).not.toMatch(/\x1b/);
  });

  it('a short epoch prints its epoch line only (a 2.5 s epoch printed 9 lines before)', () => {
    const { r, out, advance } = reporter();
    for (let epoch = 1; epoch <= 3; epoch++) {
      for (let b = 1; b <= 100; b++) {
        advance(25);
        r.handle(batch(b, 100, epoch));
      }
      r.handle({ event: 'epoch', epochs: 3, epoch, trainLoss: 0.6, valLoss: 0.5, valAccuracy: 0.7, seconds: 2.5, imagesPerSecond: 1000, lr: 0.1, kernel: 'js', workers: 1, best: epoch === 1 });
    }
    expect(out().stderr.trim().split('\n')).toEqual([
      'epoch 1/3  train loss 0.6000  val loss 0.5000  val acc 70.0%  2.5 s  1,000 img/s *',
      'epoch 2/3  train loss 0.6000  val loss 0.5000  val acc 70.0%  2.5 s  1,000 img/s',
      'epoch 3/3  train loss 0.6000  val loss 0.5000  val acc 70.0%  2.5 s  1,000 img/s',
    ]);
  });

  it('--json: events on stdout, one object per line; batch events stay off stdout', () => {
    const { r, out } = reporter({ json: true });
    r.handle(batch(1, 2));
    r.handle({ event: 'warning', message: 'careful' });
    expect(out().stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ event: 'warning', message: 'careful' }]);
  });
});

describe('the training reporter on a terminal', () => {
  // cli-progress keeps time with Date.now() and redraws on a timer: both are faked.
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const live = (options: Partial<ReporterOptions> = {}) => reporter({ progress: 'live', now: () => Date.now(), ...options });

  it('draws the epoch bar in place with the loss, images/s and the ETAs, and erases it before the epoch line', () => {
    const { r, out } = live();
    r.handle({ event: 'start', runDir: 'runs/x', name: 'x', epochs: 10, firstEpoch: 1, batchesPerEpoch: 38, batchSize: 8, parameters: 10, layers: [], statistics: 0, optimizer: 'sgd', kernel: 'js', workers: 1, resumed: false });
    // 19 batches of 0.1 s: 19 left in this epoch (1.9 s), 8 epochs after it.
    for (let b = 1; b <= 19; b++) {
      vi.advanceTimersByTime(100);
      r.handle({ ...batch(b, 38, 2), smoothedLoss: 0.3494, imagesPerSecond: 9260 });
    }
    vi.advanceTimersByTime(100);
    const frames = out().stderr.split('\x1b[?25l')[1]!.split('\r').filter((f) => f !== '');
    // Each frame: CR, autowrap off, the text, erase below, autowrap on, CR (the cursor back to the line's start).
    // The run's ETA: 2 s left (cli-progress rounds its ETA up) + 8 epochs of 2 + 2 s.
    const last = /^\x1b\[\?7l(epoch 2\/10 (█+)(░+) 19\/38 \| loss 0\.3494 \| 9,260 img\/s \| ETA 0:02 \| run ETA 0:34)\x1b\[J\x1b\[\?7h$/.exec(frames.at(-1)!);
    expect(last, frames.at(-1)).not.toBeNull();
    expect(Math.abs(last![2]!.length - last![3]!.length)).toBeLessThanOrEqual(1); // half full
    expect([...last![1]!].length).toBe(99); // the terminal's 100 columns, less the one the cursor may need
    expect(frames[0]).toBe('\x1b[?7l\x1b[J\x1b[?7h'); // nothing drawn before the first batch
    expect(frames.length).toBeLessThanOrEqual(21); // at most one frame per 0.1 s (cli-progress's fps)
    r.handle({ event: 'epoch', epochs: 10, epoch: 2, trainLoss: 0.6, valLoss: 0.5, valAccuracy: 0.7, seconds: 4, imagesPerSecond: 1000, lr: 0.1, kernel: 'js', workers: 1, best: false });
    expect(out().stderr).toContain('\x1b[?25h\r\x1b[Jepoch  2/10  train loss 0.6000  val loss 0.5000  val acc 70.0%  4.0 s  1,000 img/s\n');
  });

  it('on resume the bar starts at the batch it resumes from, and its rate counts only the batches trained since', () => {
    const { r, out } = live();
    r.handle({ event: 'start', runDir: 'runs/x', name: 'x', epochs: 2, firstEpoch: 2, batchesPerEpoch: 40, batchSize: 8, parameters: 10, layers: [], statistics: 0, optimizer: 'sgd', kernel: 'js', workers: 1, resumed: true });
    vi.advanceTimersByTime(1000);
    r.handle(batch(21, 40, 2));
    vi.advanceTimersByTime(100);
    expect(out().stderr).toContain('epoch 2/2 ████████████████░░░░░░░░░░░░░░ 21/40 | loss 0.6900 | 1,000 img/s | ETA -\x1b[J'); // no rate yet
    vi.advanceTimersByTime(900);
    r.handle(batch(22, 40, 2)); // 1 batch in 1 s: 18 left
    vi.advanceTimersByTime(100);
    expect(out().stderr).toContain('epoch 2/2 █████████████████░░░░░░░░░░░░░ 22/40 | loss 0.6900 | 1,000 img/s | ETA 0:18\x1b[J');
  });

  it('--json on the same terminal: the bar is erased while a JSON line is written, then drawn again', () => {
    let screen = '';
    const stream = { write: (s: string) => ((screen += s), true), columns: 80, isTTY: true };
    const r = new TrainReporter({ stderr: stream, stdout: stream, chalk: makeChalk(0), progress: 'live', json: true, quiet: false });
    r.handle(batch(1, 10));
    vi.advanceTimersByTime(100);
    screen = '';
    r.handle({ event: 'warning', message: 'careful' });
    // Erase the bar (the cursor is at its start), the JSON line, the bar again; then the warning above the bar.
    expect(screen.startsWith('\r\x1b[J{"event":"warning","message":"careful"}\n\r\x1b[?7lepoch 1 ')).toBe(true);
    r.close();
  });
});
