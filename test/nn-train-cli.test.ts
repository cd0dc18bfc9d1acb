// nn-train end to end: the built command as a child process, on pictures the test makes itself.
// (npm test builds dist/ first.)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../src/io/model-file.ts';
import { decodeCheckpoint } from '../src/io/checkpoint.ts';
import { UserError } from '../src/errors.ts';
import { RunFolder } from '../src/train/run-folder.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const BIN = join(__dirname, '..', 'bin', 'nn-train.js');
let dir: string;
let images: string;

/** A small, fast config: 16x16 RGB, one hidden layer, ~20 batches per epoch. */
function writeConfig(name: string, overrides: Record<string, unknown> = {}): string {
  const config = {
    data: { train: images, width: 16, height: 16, channels: 3, validation: 0.25, cache: join(dir, 'cache') },
    model: { hidden: [12], activation: 'relu' },
    loss: 'bce',
    optimizer: { type: 'momentum', lr: 0.05, beta: 0.9 },
    training: { batchSize: 8, epochs: 3, seed: 5, workers: 2 },
    ...overrides,
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

const bytes = (path: string) => Buffer.from(readModelFile(path).params.buffer).toString('base64');

beforeAll(async () => {
  dir = makeTempDir('nn-train-cli-');
  images = join(dir, 'images');
  await makeLabeledFolder(images, { cats: 100, dogs: 100, size: 24 });
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('nn-train, end to end', () => {
  it('trains, reports JSON lines on stdout, and leaves a complete run folder', () => {
    const out = join(dir, 'run-json');
    const r = run(['--config', writeConfig('json'), '--json', '--out', out]);
    expect(r.stderr).not.toMatch(/\x1b\[/); // not a TTY: no escape codes
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.map((e) => e.event)).toEqual(['dataset', 'start', 'epoch', 'epoch', 'epoch', 'done']);
    const epochs = events.filter((e) => e.event === 'epoch');
    for (const e of epochs) {
      for (const k of ['trainLoss', 'valLoss', 'valAccuracy', 'seconds', 'imagesPerSecond']) expect(Number.isFinite(e[k])).toBe(true);
    }
    // The task is learnable: the last epoch is clearly better than chance.
    expect(epochs[2]!.valAccuracy).toBeGreaterThan(0.8);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ status: 'completed', model: join(out, 'model.json'), epochs: 3 });
    expect(readdirSync(out).sort()).toEqual(['config.json', 'last.json', 'loss.svg', 'metrics.jsonl', 'model.json']);
    const metrics = jsonLines(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(metrics[2].valLoss).toBe(epochs[2]!.valLoss);
    const best = metrics.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(readModelFile(join(out, 'model.json')).meta.epoch).toBe(best.epoch);
    expect(decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8')).epoch).toBe(3);
    // Plain lines on stderr, one per epoch (epochs are short: no progress line in between).
    expect(r.stderr.match(/^epoch \d\/3 /gm)).toHaveLength(3);
    expect(r.stderr).not.toMatch(/batch \d+\//);
    // The end: what was written and what it is for; the chart with its epoch axis, no trailing spaces.
    expect(r.stderr).toContain(`files in ${out}:\n  model.json     the model of epoch ${best.epoch}, the best: for nn-eval\n  last.json      the checkpoint after epoch 3: for nn-train --resume\n`);
    expect(r.stderr).toMatch(/^ +1 +epoch +3$/m);
    expect(r.stderr).not.toMatch(/ $/m);
  }, 60_000);

  it('gives the same model for the same config and seed, with 1 or 2 workers', () => {
    const a = run(['--config', writeConfig('det'), '--out', join(dir, 'det-a'), '--quiet']);
    const b = run(['--config', writeConfig('det'), '--out', join(dir, 'det-b'), '--quiet', '--workers', '1']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(bytes(join(dir, 'det-a', 'model.json'))).toBe(bytes(join(dir, 'det-b', 'model.json')));
  }, 60_000);

  it('refuses a bad config before any work, exit 2, one line naming the file and the field', () => {
    const path = writeConfig('bad', { optimizer: { type: 'sgd', learningrate: 0.1 } });
    const out = join(dir, 'bad-run');
    const r = run(['--config', path, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`nn-train: ${path}: `);
    expect(r.stderr).toContain('optimizer.learningrate: unknown key (did you mean "lr"?)');
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing data folder', () => {
    const r = run(['--config', writeConfig('nodata'), '--data', join(dir, 'nope'), '--out', join(dir, 'nodata-run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('stops a diverging run with exit 3 and a hint to lower the learning rate', () => {
    const r = run(['--config', writeConfig('diverge', { optimizer: { type: 'sgd', lr: 100 } }), '--out', join(dir, 'diverge'), '--epochs', '5']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/diverged.*lower learning rate/);
  }, 60_000);

  it('--print-config prints the resolved config with the overrides', () => {
    const r = run(['--config', writeConfig('print'), '--print-config', '--lr', '0.5', '--epochs', '7']);
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.optimizer).toMatchObject({ type: 'momentum', lr: 0.5, form: 'ewa', biasCorrection: false });
    expect(config.training.epochs).toBe(7);
  });

  it('resume with a larger --epochs gives the same model as training straight through', () => {
    const config = writeConfig('extend');
    expect(run(['--config', config, '--out', join(dir, 'straight'), '--epochs', '4', '--quiet']).code).toBe(0);
    expect(run(['--config', config, '--out', join(dir, 'extended'), '--epochs', '2', '--quiet']).code).toBe(0);
    const resumed = run(['--resume', join(dir, 'extended'), '--epochs', '4', '--json']);
    expect(resumed.code).toBe(0);
    expect(jsonLines(resumed.stdout).filter((e) => e.event === 'epoch').map((e) => e.epoch)).toEqual([3, 4]);
    const last = (d: string) => decodeCheckpoint(readFileSync(join(dir, d, 'last.json'), 'utf8'));
    expect(Buffer.from(last('extended').params.buffer)).toEqual(Buffer.from(last('straight').params.buffer));
    expect(bytes(join(dir, 'extended', 'model.json'))).toBe(bytes(join(dir, 'straight', 'model.json')));
    // Anything else changed is refused.
    const other = run(['--resume', join(dir, 'extended'), '--lr', '0.3', '--epochs', '5']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/cannot resume with a different config \(optimizer\.lr: 0\.05 -> 0\.3\)/);
  }, 90_000);

  it('the first Ctrl-C checkpoints mid-epoch and ends the process by SIGINT; the resumed run ends bit-identical', async () => {
    // Enough epochs that the run is still going when the signal lands, however busy the machine.
    const config = writeConfig('sigint', { training: { batchSize: 2, epochs: 8, seed: 9, workers: 2 } });
    expect(run(['--config', config, '--out', join(dir, 'sigint-straight'), '--quiet']).code).toBe(0);

    const out = join(dir, 'sigint-run');
    const child = spawn(process.execPath, [BIN, '--config', config, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let interrupted = false;
    const sent = new Promise<void>((resolve) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        // After the first epoch, one Ctrl-C in the middle of the second.
        if (stdout.includes('"event":"epoch"') && !interrupted) {
          interrupted = true;
          child.kill('SIGINT');
          resolve();
        }
      });
    });
    const ended = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    await sent;
    expect(ended).toEqual([null, 'SIGINT']); // a shell sees status 130, and stops its loop (test/terminal.test.ts)
    expect(stderr).toMatch(/continue with: nn-train --resume/);
    const checkpoint = decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8'));
    // Mid-epoch, past epoch 1 (150 training images in batches of 2: 75 batches an epoch), and the
    // step count says exactly that many batches were trained.
    expect(checkpoint.epoch * 1000 + checkpoint.batch).toBeGreaterThan(1000);
    expect(checkpoint.batch).toBeGreaterThan(0);
    expect(checkpoint.batch).toBeLessThan(75);
    expect(checkpoint.step).toBe(checkpoint.epoch * 75 + checkpoint.batch);
    expect(checkpoint.history).toHaveLength(checkpoint.epoch);
    const resumed = run(['--resume', out, '--quiet']);
    expect(resumed.code).toBe(0);
    expect(bytes(join(out, 'model.json'))).toBe(bytes(join(dir, 'sigint-straight', 'model.json')));
    const last = (d: string) => decodeCheckpoint(readFileSync(join(d, 'last.json'), 'utf8'));
    expect(Buffer.from(last(out).params.buffer)).toEqual(Buffer.from(last(join(dir, 'sigint-straight')).params.buffer));
  }, 90_000);

  it('kill -9 at several moments leaves every file of the run whole, and the checkpoint at the last epoch finished', async () => {
    // 150 training images in batches of 2: 75 batches an epoch. A checkpoint is written after each
    // epoch's model and metrics (and on Ctrl-C), so a kill -9 anywhere in an epoch must leave the
    // checkpoint of the epoch before, at its batch 0, and a resume must redo the killed epoch whole.
    const config = writeConfig('kill', { training: { batchSize: 2, epochs: 50, seed: 3, workers: 2 } });
    const perEpoch = 75;
    type Moment = { name: string; trigger: 'start' | 'epoch'; count: number; delay: 'none' | 'short' | 'after-checkpoint' };
    const moments: Moment[] = [
      { name: 'kill-first-epoch', trigger: 'start', count: 1, delay: 'short' }, // training, nothing saved yet
      { name: 'kill-epoch-end', trigger: 'epoch', count: 1, delay: 'none' }, // while epoch 1's files are written
      { name: 'kill-mid-epoch', trigger: 'epoch', count: 1, delay: 'after-checkpoint' }, // inside epoch 2 (or later), once checkpoint 1 exists
    ];
    /**
     * Runs the config, kills it with SIGKILL at the moment, and says how many epochs it reported in
     * all (read to the end of its stdout: an epoch's event is written before its checkpoint, so the
     * count bounds the checkpoint whatever this process's lag in reading it).
     */
    const killAt = (m: Moment, out: string) =>
      new Promise<{ epochsSeen: number; signal: NodeJS.Signals | null }>((resolve) => {
        const child = spawn(process.execPath, [BIN, '--config', config, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
        child.on('close', (_code, signal) => resolve({ epochsSeen, signal }));
        let text = '';
        let epochsSeen = 0;
        let fired = false;
        child.stdout.on('data', (d: Buffer) => {
          text += String(d);
          const lines = text.split('\n');
          text = lines.pop()!;
          for (const line of lines) {
            const e = JSON.parse(line) as { event: string };
            if (e.event === 'epoch') epochsSeen++;
            const count = m.trigger === 'start' ? (e.event === 'start' ? 1 : 0) : epochsSeen;
            if (!fired && e.event === m.trigger && count >= m.count) {
              fired = true;
              const kill = () => child.kill('SIGKILL');
              if (m.delay !== 'after-checkpoint') setTimeout(kill, m.delay === 'short' ? 30 : 0);
              else {
                // Once the epoch's checkpoint is on disk (fsync can be slow on a busy machine), a few
                // batches into the next epoch.
                const written = () => existsSync(join(out, 'last.json')) && decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8')).epoch >= m.count;
                const poll = setInterval(() => {
                  if (!written()) return;
                  clearInterval(poll);
                  setTimeout(kill, 10);
                }, 5);
              }
            }
          }
        });
      });
    const outs = moments.map((m) => join(dir, m.name));
    const killed = await Promise.all(moments.map((m, i) => killAt(m, outs[i]!)));
    for (const [i, m] of moments.entries()) {
      const out = outs[i]!;
      const { epochsSeen, signal } = killed[i]!;
      expect(signal, m.name).toBe('SIGKILL'); // killed, not finished
      JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      if (!existsSync(join(out, 'last.json'))) {
        // Killed before the first checkpoint: at most epoch 1's files (its model is written just
        // before its event, metrics.jsonl and loss.svg just after), each whole; --resume says
        // there is nothing to resume. (A kill inside an atomic write leaves its hidden temp file.)
        expect(epochsSeen, m.name).toBeLessThanOrEqual(1);
        const files = readdirSync(out).filter((f) => !/^\..+\.\d+\.\d+\.tmp$/.test(f));
        for (const f of files) expect(['config.json', 'model.json', 'metrics.jsonl', 'loss.svg'], `${m.name}: ${f}`).toContain(f);
        if (files.includes('model.json')) expect(readModelFile(join(out, 'model.json')).meta.epoch, m.name).toBe(1);
        if (files.includes('metrics.jsonl')) expect(jsonLines(readFileSync(join(out, 'metrics.jsonl'), 'utf8')), m.name).toHaveLength(1);
        if (files.includes('loss.svg')) expect(readFileSync(join(out, 'loss.svg'), 'utf8').trimEnd().endsWith('</svg>'), m.name).toBe(true);
        expect(() => RunFolder.open(out), m.name).toThrow(new UserError(`${out}: holds no last.json checkpoint to resume from`));
        continue;
      }
      // The checkpoint is whole, at an epoch's end: the last one reported, or the one before when
      // the kill came while that epoch's files were being written.
      const checkpoint = decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8'));
      expect([checkpoint.batch, checkpoint.step], m.name).toEqual([0, checkpoint.epoch * perEpoch]);
      expect(checkpoint.epoch, m.name).toBeGreaterThanOrEqual(Math.max(1, epochsSeen - 1));
      expect(checkpoint.epoch, m.name).toBeLessThanOrEqual(epochsSeen);
      if (m.delay === 'after-checkpoint') expect(checkpoint.epoch, m.name).toBeGreaterThanOrEqual(m.count);
      expect(checkpoint.history.map((h) => h.epoch), m.name).toEqual(Array.from({ length: checkpoint.epoch }, (_, k) => k + 1));
      const metrics = jsonLines(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
      expect(metrics.length - checkpoint.epoch, m.name).toBeGreaterThanOrEqual(0); // metrics are written just before it
      expect(metrics.length - checkpoint.epoch, m.name).toBeLessThanOrEqual(1);
      expect(readModelFile(join(out, 'model.json')).meta.epoch, m.name).toBeLessThanOrEqual(checkpoint.epoch + 1);
    }
    // The run killed inside an epoch resumes at the start of that epoch and trains all of it
    // (that a resume gives the straight run's model is checked above, after Ctrl-C).
    const mid = outs[2]!;
    const at = decodeCheckpoint(readFileSync(join(mid, 'last.json'), 'utf8')).epoch;
    expect(run(['--resume', mid, '--epochs', String(at + 1), '--quiet']).code).toBe(0);
    const resumed = decodeCheckpoint(readFileSync(join(mid, 'last.json'), 'utf8'));
    expect([resumed.epoch, resumed.batch, resumed.step]).toEqual([at + 1, 0, (at + 1) * perEpoch]);
    expect(jsonLines(readFileSync(join(mid, 'metrics.jsonl'), 'utf8')).map((h) => h.epoch)).toEqual(Array.from({ length: at + 1 }, (_, k) => k + 1));
    expect(readdirSync(mid).filter((f) => f.endsWith('.tmp'))).toEqual([]); // a killed write's temp file is gone after the resume
  }, 90_000);

  it('races several configs on the same data and seed: compare.svg and a table', async () => {
    const sgd = writeConfig('race-sgd', { optimizer: { type: 'sgd', lr: 0.1 }, training: { batchSize: 16, epochs: 2, seed: 4, workers: 2 } });
    const adam = writeConfig('race-adam', { optimizer: { type: 'adam', lr: 0.01 }, training: { batchSize: 16, epochs: 2, seed: 99, workers: 2 } });
    const out = join(dir, 'race');
    const r = run(['--config', sgd, '--config', adam, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/race-adam\.json: racing on the data and seed of/);
    const [header, ...rows] = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(header).toEqual(['name', 'optimizer', 'bestValLoss', 'bestValAccuracy', 'epochs', 'seconds', 'imagesPerSecond', 'status']);
    expect(rows.map((row) => row.slice(0, 2))).toEqual([['race-sgd', 'sgd'], ['race-adam', 'adam']]);
    for (const row of rows) {
      expect(Number(row[2])).toBeGreaterThan(0);
      expect(row[7]).toBe('completed');
    }
    // Each run's best validation loss is the one its own metrics say.
    const metrics = jsonLines(readFileSync(join(out, 'race-adam', 'metrics.jsonl'), 'utf8'));
    expect(Number(rows[1]![2])).toBeCloseTo(Math.min(...metrics.map((m) => m.valLoss)), 4);
    expect(JSON.parse(readFileSync(join(out, 'race-adam', 'config.json'), 'utf8')).training.seed).toBe(4);
    const { default: sharp } = await import('sharp');
    const stats = await sharp(join(out, 'compare.svg')).stats();
    expect(stats.channels[0]!.stdev).toBeGreaterThan(5); // not blank
    expect(readFileSync(join(out, 'race.tsv'), 'utf8')).toBe(r.stdout);
    // Who won, by how much: the lower best validation loss of the two rows.
    const [a, b] = rows.map((row) => ({ name: row[0]!, loss: Number(row[2]) }));
    const [winner, second] = a!.loss <= b!.loss ? [a!, b!] : [b!, a!];
    expect(r.stderr).toContain(`winner: ${winner.name}, best validation loss ${winner.loss.toFixed(4)}`);
    expect(r.stderr).toContain(`${(second.loss - winner.loss).toFixed(4)} lower than ${second.name} (${second.loss.toFixed(4)})`);
  }, 90_000);

  it('stopped early: says after which epoch, why, and the total time', () => {
    // A learning rate so small that the weights never change: no epoch improves on the first.
    const r = run(['--config', writeConfig('early', { optimizer: { type: 'sgd', lr: 1e-30 }, training: { batchSize: 50, epochs: 10, seed: 1, workers: 1, patience: 2 } }), '--out', join(dir, 'early')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^stopped early after epoch 3: no better validation loss for 2 epochs \(patience 2\); [\d.]+ s in all$/m);
  }, 60_000);

  it('honours NO_COLOR and FORCE_COLOR on stderr', () => {
    const cfg = writeConfig('color', { training: { batchSize: 50, epochs: 1, seed: 1, workers: 1 } });
    const forced = run(['--config', cfg, '--out', join(dir, 'color-1')], { FORCE_COLOR: '1' });
    expect(forced.stderr).toMatch(/\x1b\[/);
    const none = run(['--config', cfg, '--out', join(dir, 'color-2')], { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(none.stderr).not.toMatch(/\x1b\[/);
  }, 60_000);
});
