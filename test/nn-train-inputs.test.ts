// nn-train on inputs it does not ship with: odd JSON, odd run folders, tampered checkpoints, finished
// runs, races that would overwrite, flags written oddly. Each case was a bug found by trying it; the
// test pins the fix. Library functions where that is enough, the built CLI (npm test builds dist/
// first) where the exit code, the one-line message or the files left behind are the point.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberOrString } from '../src/cli/common.ts';
import { finishedRun } from '../src/cli/nn-train.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { DEFAULT_CONFIG } from '../src/config/schema.ts';
import { readModelFile } from '../src/io/model-file.ts';
import { decodeCheckpoint, type Checkpoint } from '../src/io/checkpoint.ts';
import { checkpointTooLarge } from '../src/train/loop.ts';
import { RunFolder } from '../src/train/run-folder.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const ROOT = join(__dirname, '..');
const TRAIN = join(ROOT, 'bin', 'nn-train.js');
const EVAL = join(ROOT, 'bin', 'nn-eval.js');
let dir: string;
let images: string;

beforeAll(async () => {
  dir = makeTempDir('nn-train-inputs-');
  images = join(dir, 'images');
  await makeLabeledFolder(images, { cats: 12, dogs: 12, size: 8 });
}, 60_000);
afterAll(() => removeTempDir(dir));

function errorOf(fn: () => unknown): Error & { exitCode?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { exitCode?: number };
  }
  throw new Error('expected an error');
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A tiny, fast config: 4x4 RGB, 4 hidden units, 2 epochs of 3 batches, one thread. */
function config(name: string, patch: Record<string, unknown> = {}): string {
  return file(
    `${name}.json`,
    JSON.stringify({
      data: { train: images, width: 4, height: 4, validation: 0.25, cache: join(dir, 'cache') },
      model: { hidden: [4] },
      optimizer: { type: 'momentum', lr: 0.05 },
      training: { batchSize: 6, epochs: 2, seed: 3, workers: 1 },
      ...patch,
    }),
  );
}

function run(cmd: string, args: string[]) {
  // A timeout, so that a hang (the bug some of these cases had) fails the test instead of stalling it.
  const r = spawnSync(process.execPath, [cmd, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const train = (...args: string[]) => run(TRAIN, args);

function expectUserError(r: { code: number | null; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('config text that JSON.parse reports badly or not at all', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    // V8 gives no position for these: the message used to claim the file was truncated.
    ['NaN', '{\n  "optimizer": {"type": "sgd", "lr": NaN}\n}', /invalid JSON at line 2, column 38: NaN is not a JSON number/],
    ['a bare word', '{"loss": bce}', /line 1, column 10: unexpected word bce \(strings need double quotes\)/],
    ['a binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]), /not a JSON text file/],
    ['UTF-16', Buffer.from('\ufeff{"loss": "bce"}', 'utf16le'), /not a JSON text file/],
    // JSON.parse keeps the last of two equal keys, silently.
    ['a duplicate key', '{"optimizer": {"type": "sgd", "lr": 0.1,\n "lr": 5}}', /line 2, column 2: duplicate key "lr" in optimizer/],
    ['a comment', '{\n  // the learning rate\n  "loss": "bce"\n}', /line 2, column 3: comments are not allowed in JSON/],
    ['single quotes', "{'loss': 'bce'}", /line 1, column 2: strings and names need double quotes/],
    ['a leading zero', '{"training": {"epochs": 07}}', /column 25: a number cannot start with 0/],
    ['text after the object', '{"loss": "bce"} x', /column 17: more text after the end of the JSON value/],
  ];
  for (const [name, content, message] of cases) {
    it(`names ${name} with its line and column`, () => {
      const path = file(`text-${name.replace(/\W+/g, '-')}.json`, content);
      const err = errorOf(() => loadConfigFile(path));
      expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(err.message).toMatch(message);
      expect(err.message).not.toMatch(/truncated/);
      expect(err.exitCode).toBe(2);
    });
  }

  it.runIf(existsSync('/dev/zero'))('does not read an endless file (/dev/zero) forever (needs /dev/zero)', () => {
    expect(errorOf(() => loadConfigFile('/dev/zero')).message).toBe('/dev/zero: cannot read the config file: it is larger than 1 MB (is it the right file?)');
  });

  it('still accepts a BOM and reports a real truncation as one', () => {
    expect(loadConfigFile(file('bom.json', '\ufeff{"loss": "mse"}')).loss).toBe('mse');
    expect(errorOf(() => loadConfigFile(file('cut.json', '{"loss": "mse", "data": {"wid'))).message).toMatch(/line 1, column 26: unterminated string/);
    expect(errorOf(() => loadConfigFile(file('cut2.json', '{"loss": "mse",'))).message).toMatch(/column 16: unexpected end of the file/);
  });
});

describe('config fields: what the message says was expected', () => {
  it('lists the alternatives of a union instead of "one of the accepted forms"', () => {
    expect(errorOf(() => loadConfigFile(file('ch.json', '{"data": {"channels": 2}}'))).message).toMatch(/data\.channels: expected 1 or 3, found 2$/);
    expect(errorOf(() => loadConfigFile(file('bs.json', '{"training": {"batchSize": "Full"}}'))).message).toMatch(/training\.batchSize: expected a number or "full", found "Full"$/);
  });

  it('gives one message for a number beyond every bound, not one per bound', () => {
    const err = errorOf(() => loadConfigFile(file('huge.json', '{"data": {"width": 99999999999999999999}}')));
    expect(err.message).toMatch(/data\.width: expected a number <= 1024, found 100000000000000000000$/);
  });

  it('names the flag of an override the optimizer does not take', () => {
    const path = file('ga.json', JSON.stringify({ optimizer: { type: 'genetic', population: 4 } }));
    const err = errorOf(() => loadConfigFile(path, [{ path: 'optimizer.lr', value: 0.1, flag: '--lr' }]));
    expect(err.message).toMatch(/: --lr \(optimizer\.lr\): unknown key; expected one of type, population/);
  });

  it('refuses more workers than the gradient core runs, before any work', () => {
    const path = file('w.json', '{"training": {"workers": 100}}');
    expect(errorOf(() => loadConfigFile(path)).message).toBe(`${path}: training.workers: expected a number <= 64, found 100`);
    const r = train('--config', config('w'), '--workers', '65', '--out', join(dir, 'w-run'));
    expectUserError(r, /--workers \(training\.workers\): expected a number <= 64/);
    expect(existsSync(join(dir, 'w-run'))).toBe(false);
  });

  it('reads flag values only as decimal numbers', () => {
    for (const v of ['0x10', '0b11', ' 7', '7 ', '', 'Infinity', '1e999']) expect(numberOrString(v)).toBe(v);
    expect([numberOrString('3'), numberOrString('-1'), numberOrString('.5'), numberOrString('1e-3'), numberOrString('2.')]).toEqual([3, -1, 0.5, 0.001, 2]);
  });
});

describe('the run folder: nothing already written is overwritten', () => {
  it.runIf(existsSync('/proc/self'))('does not hang on a folder that cannot be made under /proc (recursive mkdir loops there; needs /proc)', () => {
    const r = train('--config', config('proc'), '--out', '/proc/nn-train-test/run');
    expectUserError(r, /\/proc\/nn-train-test\/run: cannot create the run folder/);
  });

  it('refuses files a run would overwrite unless they are a config.json of its own', () => {
    const mine = join(dir, 'folder-mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'config.json'), JSON.stringify(DEFAULT_CONFIG));
    expect(RunFolder.create(mine).dir).toBe(mine); // a run that stopped before its first epoch ended

    const theirs = join(dir, 'folder-theirs');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'config.json'), '{"editor": "settings"}');
    writeFileSync(join(theirs, 'notes.txt'), 'x');
    expect(errorOf(() => RunFolder.create(theirs)).message).toBe(`${theirs}: already holds config.json, which a new run would overwrite; choose another --out`);
    expect(readFileSync(join(theirs, 'config.json'), 'utf8')).toBe('{"editor": "settings"}');

    // model.json without last.json cannot be resumed: no advice to --resume it.
    const modelOnly = join(dir, 'folder-model');
    mkdirSync(modelOnly);
    writeFileSync(join(modelOnly, 'model.json'), '{}');
    expect(errorOf(() => RunFolder.create(modelOnly)).message).toBe(`${modelOnly}: already holds model.json, which a new run would overwrite; choose another --out`);
    expect(() => RunFolder.assertFree(join(dir, 'folder-none'))).not.toThrow();
  });

  it('a run refused by its data leaves no run folder behind; a folder that was there stays', () => {
    const out = join(dir, 'no-data-run');
    expectUserError(train('--config', config('nodata'), '--data', join(dir, 'nope'), '--out', out), /nope: cannot read the image folder/);
    expect(existsSync(out)).toBe(false);
    const existing = join(dir, 'no-data-existing');
    mkdirSync(existing);
    expectUserError(train('--config', config('nodata'), '--data', join(dir, 'nope'), '--out', existing), /nope/);
    expect(readdirSync(existing)).toEqual([]);
    // The config.json given as --config inside --out is not removed.
    writeFileSync(join(existing, 'config.json'), readFileSync(config('nodata')));
    expectUserError(train('--config', join(existing, 'config.json'), '--data', join(dir, 'nope'), '--out', existing), /nope/);
    expect(readdirSync(existing)).toEqual(['config.json']);
  });

  it('gives two default run folders made in the same second two names', () => {
    const base = join(dir, 'unique', 'run-20260101-000000');
    const a = RunFolder.createUnique(base);
    const b = RunFolder.createUnique(base);
    expect([a.dir, b.dir]).toEqual([base, `${base}-2`]);
  });
});

describe('resuming', () => {
  let finished: string;
  beforeAll(() => {
    finished = join(dir, 'finished');
    const r = train('--config', config('finished'), '--out', finished, '--quiet');
    expect(r.code).toBe(0);
  }, 60_000);

  it('a finished run: nothing to do, exit 0, nothing rewritten', () => {
    const before = statSync(join(finished, 'last.json')).mtimeMs;
    const r = train('--resume', finished, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/nothing to do: all 2 epochs are trained/);
    expect(r.stderr).not.toMatch(/resuming/);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(done).toMatchObject({ event: 'done', status: 'completed', epochs: 2, model: join(finished, 'model.json') });
    expect(statSync(join(finished, 'last.json')).mtimeMs).toBe(before);
  });

  it('a run that stopped early is finished too', () => {
    const checkpoint = decodeCheckpoint(readFileSync(join(finished, 'last.json'), 'utf8'));
    const config = { ...checkpoint.config, training: { ...checkpoint.config.training, epochs: 10, patience: 2 } };
    const at = (c: Partial<Checkpoint>) => finishedRun({ ...checkpoint, ...c }, config);
    expect(at({ stale: 2, batch: 0 })).toMatchObject({ status: 'early-stopped' });
    expect(at({ stale: 1, batch: 0 })).toBeNull();
    expect(at({ stale: 2, batch: 1 })).toBeNull(); // interrupted inside an epoch: go on
  });

  it('resumes a checkpoint of version 1 (before layer lists and data.resize: no statistics, hidden/activation, lanczos3 pixels)', () => {
    // A run of the time: its images were resized by sharp's lanczos3, and its config had no data.resize.
    const out = join(dir, 'version-1');
    const legacy = config('legacy', { data: { train: images, width: 4, height: 4, validation: 0.25, cache: join(dir, 'cache'), resize: 'lanczos3' } });
    expect(train('--config', legacy, '--out', out, '--quiet').code).toBe(0);
    const doc = JSON.parse(readFileSync(join(out, 'last.json'), 'utf8'));
    doc.version = 1;
    delete doc.stats;
    delete doc.config.model.layers;
    delete doc.config.data.resize;
    delete doc.config.data.shift;
    delete doc.config.data.brightness;
    delete doc.config.data.contrast;
    writeFileSync(join(out, 'last.json'), JSON.stringify(doc));
    const r = train('--resume', out, '--epochs', '3', '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8')).epoch).toBe(3);
  });

  it('refuses --out somewhere else, which used to be ignored', () => {
    expectUserError(train('--resume', finished, '--epochs', '3', '--out', join(dir, 'elsewhere')), /--out .*elsewhere: a resumed run goes on in its own folder/);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
  });

  /** A copy of the finished run whose last.json is edited by `edit`. */
  function tampered(name: string, edit: (doc: any) => void): string {
    const out = join(dir, name);
    mkdirSync(out);
    for (const f of readdirSync(finished)) writeFileSync(join(out, f), readFileSync(join(finished, f)));
    const doc = JSON.parse(readFileSync(join(out, 'last.json'), 'utf8'));
    edit(doc);
    writeFileSync(join(out, 'last.json'), JSON.stringify(doc));
    return out;
  }

  it('refuses a checkpoint that does not fit its own config, exit 2 instead of a crash or a silent partial load', () => {
    const cases: [string, (doc: any) => void, RegExp][] = [
      ['hidden', (d) => (d.config.model.hidden = [5]), /last\.json: bad checkpoint: params: holds 201 weights, the network of its config has 251/],
      ['partial', (d) => (d.partial = null), /last\.json: bad checkpoint: partial: expected an object/],
      ['history', (d) => (d.history = 'x'), /last\.json: bad checkpoint: history: expected an array, found "x"/],
      ['best', (d) => (d.best = { epoch: 1 }), /last\.json: bad checkpoint: best\.valLoss: required, expected a number/],
      ['step', (d) => (d.step = 5), /last\.json: bad checkpoint: epoch 2, batch 0, step 5 is not a position of a run with 3 batches per epoch/],
      ['buffer', (d) => (d.optimizer.buffers.v.data = 'AAAA'), /last\.json: bad checkpoint: optimizer\.buffers\.v\.data: holds 3 bytes/],
    ];
    for (const [name, edit, message] of cases) {
      const out = tampered(`tampered-${name}`, edit);
      const before = readFileSync(join(out, 'model.json'), 'utf8');
      expectUserError(train('--resume', out, '--epochs', '3', '--quiet'), message);
      expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe(before);
    }
  }, 60_000);
});

describe('races', () => {
  it('--print-config prints the configs as they would race, and trains nothing', () => {
    const out = join(dir, 'race-print');
    const r = train('--config', config('ra'), '--config', config('rb', { optimizer: { type: 'adam', lr: 0.01 } }), '--print-config', '--out', out);
    expect(r.code).toBe(0);
    const configs = JSON.parse(r.stdout);
    expect(configs.map((c: any) => [c.optimizer.type, c.out])).toEqual([
      ['momentum', join(out, 'ra')],
      ['adam', join(out, 'rb')],
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a folder that holds a race before training, so its comparison survives', () => {
    const out = join(dir, 'race-again');
    expect(train('--config', config('ra'), '--config', config('rb'), '--out', out, '--quiet').code).toBe(0);
    const chart = readFileSync(join(out, 'compare.svg'), 'utf8');
    // Another config first: it used to train, overwrite compare.svg, and only then be refused.
    expectUserError(train('--config', config('rc'), '--config', config('ra'), '--out', out), /race-again: already holds compare\.svg, race\.tsv/);
    expect(existsSync(join(out, 'rc'))).toBe(false);
    expect(readFileSync(join(out, 'compare.svg'), 'utf8')).toBe(chart);
  }, 60_000);
});

describe('data and divergence', () => {
  it('says that data.limit is why a class is missing', () => {
    expectUserError(train('--config', config('lim'), '--limit', '1', '--out', join(dir, 'lim')), /training needs both classes, found \d cats and \d dogs among the 1 images that data\.limit = 1 keeps/);
  });

  it('names data.validation when the split leaves a side empty', () => {
    const tiny = config('tiny', { data: { train: images, width: 4, height: 4, validation: 0.01, limit: 8, cache: join(dir, 'cache') } });
    expectUserError(train('--config', tiny, '--out', join(dir, 'tiny')), /8 images are too few for data\.validation = 0\.01 \(8 would be left for training, 0 for validation\)/);
  });

  it('refuses a split whose training side holds one class only', async () => {
    const three = join(dir, 'three');
    await makeLabeledFolder(three, { cats: 2, dogs: 1, size: 8 });
    const c = config('three', { data: { train: three, width: 4, height: 4, validation: 0.5, cache: join(dir, 'cache') } });
    expectUserError(train('--config', c, '--out', join(dir, 'three-run')), /with data\.validation = 0\.5 the training images hold only cats \(1 image; 2 cats and 1 dog in all\)/);
  });

  it('a run that diverges before its first checkpoint reports no checkpoint, exit 3', () => {
    const out = join(dir, 'diverged');
    const r = train('--config', config('div', { optimizer: { type: 'sgd', lr: 100 } }), '--out', out, '--json');
    expect(r.code).toBe(3);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(done).toMatchObject({ event: 'done', status: 'diverged', model: null, checkpoint: null });
    expect(existsSync(join(out, 'last.json'))).toBe(false);
  });

  it('NaN or Infinity in a later epoch: exit status diverged, the best model and the last checkpoint stay as they were', async () => {
    const { createCore } = await import('../src/core/index.ts');
    const { train } = await import('../src/train/loop.ts');
    const { validateConfig } = await import('../src/config/load.ts');
    const cfg = validateConfig(JSON.parse(readFileSync(config('nan'), 'utf8')), 'nan.json', [{ path: 'training.epochs', value: 5, flag: '--epochs' }]);
    // 3 batches per epoch. `poison` breaks the run in epoch 3 (steps 6, 7, 8): a NaN batch loss from
    // step 6 on, or a weight that becomes Infinity at its last step, whose batch loss is still finite.
    for (const poison of ['nan-loss', 'infinite-weights'] as const) {
      const out = join(dir, `poison-${poison}`);
      const result = await train({
        config: cfg,
        name: poison,
        folder: RunFolder.create(out),
        onEvent: () => {},
        createEngine: async (network, maxBatch, c) => {
          const core = await createCore({ network, maxBatch, loss: c.loss, kernel: 'js' });
          let step = 0;
          const trainStep = core.trainStep.bind(core);
          core.trainStep = (B: number, lr: number, at?: number) => {
            const loss = trainStep(B, lr, at);
            step++;
            if (poison === 'nan-loss' && step > 6) return NaN;
            if (poison === 'infinite-weights' && step === 9) core.params[0] = Infinity;
            return loss;
          };
          return core;
        },
      });
      expect(result.status).toBe('diverged');
      expect(result.history.map((m) => m.epoch)).toEqual([1, 2]);
      expect(result.message).toMatch(poison === 'nan-loss' ? /epoch 3, batch 1: the batch loss is NaN; try a lower learning rate/ : /in epoch 3: the weights are no longer finite/);
      const checkpoint = decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8'));
      expect([checkpoint.epoch, checkpoint.batch]).toEqual([2, 0]);
      expect(checkpoint.params.every(Number.isFinite)).toBe(true);
      const model = readModelFile(join(out, 'model.json'));
      expect(model.meta.epoch).toBe(result.best!.epoch);
      expect(model.params.every(Number.isFinite)).toBe(true);
    }
  });

  it('the genetic algorithm diverging gets a hint it can use (it has no learning rate)', () => {
    const ga = config('ga-div', { optimizer: { type: 'genetic', population: 4, elite: 0, mutationRate: 1, mutationScale: 1000 } });
    const r = train('--config', ga, '--out', join(dir, 'ga-div'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/diverged.*try a smaller optimizer\.mutationScale than 1000/);
  });

  it('refuses before training a run whose checkpoint could not be written (it used to fail after the first epoch)', () => {
    // 3 buffers (weights, Adam's m and v) of 50M floats: 800 MB of base64, over V8's 512 MB strings.
    expect(checkpointTooLarge(3 * 50_000_000)).toMatch(/^764 MB of text, more than the 512 MB a JavaScript string can hold$/);
    expect(checkpointTooLarge(3 * 3_200_000)).toBeNull(); // the reference 12288-256-64-1 network with Adam
    // 4 characters per 3 bytes, plus 1M characters for the config and history.
    expect(checkpointTooLarge(150_000, 2_000_000)).toBeNull(); // 800,000 + 1,000,000
    expect(checkpointTooLarge(200_000, 2_000_000)).not.toBeNull(); // 1,066,668 + 1,000,000
  });

  it('the model of an edge-case network (no hidden layer, grey, 1x1) is read by nn-eval', () => {
    const out = join(dir, 'edge');
    const edge = config('edge', { data: { train: images, width: 1, height: 1, channels: 1, validation: 0.25, cache: join(dir, 'cache') }, model: { hidden: [] } });
    expect(train('--config', edge, '--out', out, '--quiet').code).toBe(0);
    expect(readModelFile(join(out, 'model.json')).network.layers).toEqual([{ type: 'dense', units: 1, bias: true }]);
    const r = run(EVAL, [join(out, 'model.json'), images]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(24);
  });
});

describe('stdout and stderr going away', () => {
  /** Runs nn-train with pipes; `close` destroys our end of stdout or stderr once it is called. */
  function runClosing(args: string[], close: (child: ReturnType<typeof spawn>) => void): Promise<number | null> {
    const child = spawn(process.execPath, [TRAIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    close(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    return new Promise((resolve) => child.on('exit', (code) => (clearTimeout(timer), resolve(code))));
  }

  it('--json | head -1: the run stops like Ctrl-C (exit 130, checkpoint written), not "done" with exit 0', async () => {
    const out = join(dir, 'closed-stdout');
    // Long enough (18,000 batches) that the run is still going when the pipe closes.
    const long = config('long', { training: { batchSize: 1, epochs: 1000, seed: 1, workers: 1 } });
    const code = await runClosing(['--config', long, '--out', out, '--json'], (child) => {
      child.stdout!.once('data', () => child.stdout!.destroy());
      child.stderr!.resume();
    });
    expect(code).toBe(130);
    const checkpoint = decodeCheckpoint(readFileSync(join(out, 'last.json'), 'utf8'));
    expect(checkpoint.epoch).toBeLessThan(1000);
  }, 60_000);

  it('stderr closed: the run goes on and ends as usual (it used to crash with exit 1)', async () => {
    const out = join(dir, 'closed-stderr');
    const code = await runClosing(['--config', config('stderr'), '--out', out], (child) => {
      child.stderr!.destroy();
      child.stdout!.resume();
    });
    expect(code).toBe(0);
    expect(readModelFile(join(out, 'model.json')).params.length).toBeGreaterThan(0);
  }, 60_000);

  it.runIf(existsSync('/dev/full'))('stdout on a full disk: one line and exit 1, no stack trace (needs /dev/full)', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [TRAIN, '--config', config('full'), '--print-config'], { cwd: dir, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      // stderr: the layer table for people, then the one error line.
      expect(r.stderr).toMatch(/^layer +output +parameters\n/);
      expect(r.stderr.endsWith('\nnn-train: cannot write to stdout: no space left on the device\n')).toBe(true);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      closeSync(fd);
    }
  });
});
