import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrainCli, OVERRIDE_FLAGS } from '../src/cli/train-options.ts';
import { describeConfig, configTableMarkdown, layerTableMarkdown } from '../src/config/describe.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { DEFAULT_CONFIG } from '../src/config/schema.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nn-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

function errorOf(fn: () => unknown): Error & { exitCode?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { exitCode?: number };
  }
  throw new Error('expected an error');
}

describe('config files', () => {
  it('every shipped config is valid, each optimizer has one, and cnn.json is a convolutional network', () => {
    const configsDir = join(__dirname, '..', 'configs');
    const files = readdirSync(configsDir).filter((f) => f.endsWith('.json'));
    for (const t of ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'genetic', 'quickstart', 'cnn', 'cnn-small']) expect(files).toContain(`${t}.json`);
    for (const f of files) {
      const config = loadConfigFile(join(configsDir, f));
      if (f.startsWith('cnn')) expect(config.model.layers?.some((l) => l.type === 'conv')).toBe(true);
      else if (f !== 'quickstart.json') expect(config.optimizer.type).toBe(f.replace('.json', ''));
    }
  });

  it("the CNN race's configs: cnn-small.json with each optimizer, nothing else changed but the rate and the epochs", () => {
    const raceDir = join(__dirname, '..', 'configs', 'cnn-race');
    const small = loadConfigFile(join(__dirname, '..', 'configs', 'cnn-small.json'));
    const files = readdirSync(raceDir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['adam.json', 'momentum-classic.json', 'momentum.json', 'nesterov.json', 'rmsprop.json', 'sgd.json']);
    for (const f of files) {
      const config = loadConfigFile(join(raceDir, f));
      expect(config.optimizer.type).toBe(f.replace('-classic', '').replace('.json', ''));
      expect({ ...config, optimizer: null, training: { ...config.training, epochs: 0 } }).toEqual({ ...small, optimizer: null, training: { ...small.training, epochs: 0 } });
    }
  });

  it('fills defaults from the schema', () => {
    const config = loadConfigFile(write('min.json', { optimizer: { type: 'adam', lr: 0.001 } }));
    expect(config.optimizer).toEqual({ type: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, schedule: { type: 'constant' }, warmupSteps: 0, weightDecay: 0, clipNorm: null });
    expect(config.training).toEqual(DEFAULT_CONFIG.training);
    expect(config.data.width).toBe(64);
  });

  const cases: [string, unknown, RegExp][] = [
    ['an unknown key, with a suggestion', { optimizer: { type: 'sgd', learningrate: 0.1, lr: 0.1 } }, /optimizer\.learningrate: unknown key \(did you mean "lr"\?\)/],
    ['a typo at the top level', { trainng: {} }, /trainng: unknown key \(did you mean "training"\?\)/],
    ['a negative learning rate', { optimizer: { type: 'sgd', lr: -1 } }, /optimizer\.lr: expected a number > 0, found -1/],
    ['a missing learning rate', { optimizer: { type: 'adam' } }, /optimizer\.lr: required, expected a number/],
    ['an unknown optimizer', { optimizer: { type: 'adamw', lr: 1 } }, /optimizer\.type: expected "type" to be one of "sgd", "momentum", "nesterov", "rmsprop", "adam", "genetic", found "adamw"/],
    ['a field of another optimizer', { optimizer: { type: 'sgd', lr: 0.1, beta1: 0.9 } }, /optimizer\.beta1: unknown key; expected one of type, lr/],
    ['a string for a number', { training: { epochs: 'ten' } }, /training\.epochs: expected a number, found "ten"/],
    ['a fractional batch size', { training: { batchSize: 2.5 } }, /training\.batchSize: expected/],
    ['a bad enum', { loss: 'hinge' }, /loss: expected one of "mse", "bce", found "hinge"/],
    ['channels 2', { data: { channels: 2 } }, /data\.channels: expected/],
    ['beta of 1', { optimizer: { type: 'momentum', lr: 0.1, beta: 1 } }, /optimizer\.beta: expected a number < 1, found 1/],
    ['an array at the top', [1, 2], /expected a JSON object at the top level, found an array/],
    ['more elites than individuals', { optimizer: { type: 'genetic', population: 4, elite: 9 } }, /optimizer\.population: elite and tournamentSize must each be at most population/],
  ];
  for (const [name, content, message] of cases) {
    it(`refuses ${name}`, () => {
      const path = write(`${name.replace(/\W+/g, '-')}.json`, content);
      const err = errorOf(() => loadConfigFile(path));
      expect(err.message.startsWith(`${path}: `)).toBe(true);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('\n');
      expect(err.exitCode).toBe(2);
    });
  }

  it('lists every bad field in one message', () => {
    const path = write('many.json', { loss: 'x', training: { epochs: 0, seed: -1 } });
    const err = errorOf(() => loadConfigFile(path));
    expect(err.message).toMatch(/loss: .*; training\.epochs: .*; training\.seed: /);
  });

  it('reports invalid JSON with line and column', () => {
    const path = write('syntax.json', '{\n  "loss": "bce",\n  "training": { "epochs": 3, }\n}\n');
    const err = errorOf(() => loadConfigFile(path));
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid JSON at line 3, column 30`));
    const truncated = write('truncated.json', '{"loss": "bce", "training": {');
    expect(errorOf(() => loadConfigFile(truncated)).message).toMatch(/invalid JSON at line 1, column 30: unexpected end of the file/);
    expect(errorOf(() => loadConfigFile(write('empty.json', ''))).message).toMatch(/empty\.json: the config file is empty/);
  });

  it('names a missing file', () => {
    expect(errorOf(() => loadConfigFile(join(dir, 'nope.json'))).message).toBe(`${join(dir, 'nope.json')}: cannot read the config file: no such file or folder`);
  });

  it('names the command-line flag when an override is bad', () => {
    const path = write('ok.json', {});
    const parsed = parseTrainCli(['--config', path, '--lr', 'fast', '--epochs', '0']);
    if (parsed.kind !== 'run') throw new Error('expected run');
    const err = errorOf(() => loadConfigFile(path, parsed.args.overrides));
    expect(err.message).toMatch(/--lr \(optimizer\.lr\): expected a number, found "fast"/);
    expect(err.message).toMatch(/--epochs \(training\.epochs\): expected a number >= 1, found 0/);
  });

  it('applies overrides over the file', () => {
    const path = write('base.json', { optimizer: { type: 'sgd', lr: 0.1 } });
    const parsed = parseTrainCli(['-c', path, '--lr', '0.5', '--batch-size', 'full', '--limit', '100', '--data', 'x/y', '--seed', '7', '--workers', '1', '--out', 'o']);
    if (parsed.kind !== 'run') throw new Error('expected run');
    const config = loadConfigFile(path, parsed.args.overrides);
    expect(config.optimizer).toMatchObject({ type: 'sgd', lr: 0.5 });
    expect(config.training).toMatchObject({ batchSize: 'full', seed: 7, workers: 1 });
    expect(config.data).toMatchObject({ limit: 100, train: 'x/y' });
    expect(config.out).toBe('o');
  });
});

describe('command line', () => {
  it('--help: the required config in the usage line, options in groups, defaults from the schema, examples', () => {
    const parsed = parseTrainCli(['--help']);
    expect(parsed.kind).toBe('help');
    const text = parsed.kind === 'help' ? parsed.text : '';
    expect(text).toMatch(/^Usage: nn-train --config FILE \[options\]\n {7}nn-train --resume DIR \[--epochs N\] \[options\]\n/);
    expect(text.match(/^[A-Z][a-z ]+[^\n]*:$/gm)).toEqual(['Config (one of --config or --resume is required):', 'Data:', 'Model and training:', 'Output:', 'Display:', 'Other:', 'Examples:']);
    for (const o of OVERRIDE_FLAGS) expect(text).toContain(o.flags.split(' ')[0]);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toMatch(/--epochs <n> passes over the training set \[training\.epochs, default 10\]/);
    expect(flat).toMatch(/--lr <x> learning rate \[optimizer\.lr\]/);
    // Nullable fields: what null means is the default, and null is not offered as a value.
    expect(flat).toMatch(/--workers <n> threads of the gradient core \[training\.workers, default one per core\]/);
    expect(flat).toMatch(/--limit <n> use only N of the images \(a fixed sample, stratified by class\) \[data\.limit, default all\]/);
    expect(flat).toMatch(/--out <dir> run folder \[out, default runs\/<config name>-<timestamp>\]/);
    expect(text).not.toMatch(/null/);
    expect(text).not.toContain('(default: false)');
    expect(text).toMatch(/^ {2}nn-train --config configs\/quickstart\.json/m);
    expect(text).toContain('nn-train --help-config');
    for (const f of ['--json', '--quiet', '--resume', '--print-config', '--no-color', '--color', '--no-progress', '--help-config']) expect(text).toContain(f);
  });

  it('--help-config prints every field of the schema with its type, default and meaning', () => {
    const parsed = parseTrainCli(['--help-config']);
    expect(parsed.kind).toBe('help');
    const text = parsed.kind === 'help' ? parsed.text : '';
    for (const row of describeConfig()) expect(text).toMatch(new RegExp(`^${row.path.replace(/\./g, '\\.')} +\\S`, 'm'));
    expect(text).toMatch(/^training\.epochs +integer >= 1, <= 100000; default 10\n +passes over the training set$/m);
    expect(text).toMatch(/^optimizer\.lr +number > 0, <= 100; required$/m);
  });

  it('a config given without --config, and a typed null, get a hint', () => {
    expect(errorOf(() => parseTrainCli(['configs/momentum.json'])).message).toBe('configs/momentum.json: give the config with --config: nn-train --config configs/momentum.json');
    expect(errorOf(() => parseTrainCli(['runs/x'])).message).toMatch(/^runs\/x: unexpected argument; a config is given with --config FILE, a run to continue with --resume DIR/);
    expect(errorOf(() => parseTrainCli(['-c', 'a.json', '--out', 'null'])).message).toBe(
      '--out null: the command line takes no null; leave out --out for the default (runs/<config name>-<timestamp>), or write ./null for a folder of that name',
    );
    expect(errorOf(() => parseTrainCli(['-c', 'a.json', '--workers', 'null'])).message).toBe('--workers null: the command line takes no null; leave out --workers for the default (one per core)');
    expect(errorOf(() => parseTrainCli(['-c', 'a.json', '--limit', 'null'])).exitCode).toBe(2);
    const ok = parseTrainCli(['-c', 'a.json', '--out', './null']);
    expect(ok.kind === 'run' && ok.args.overrides).toEqual([{ path: 'out', value: './null', flag: '--out' }]);
  });

  it('refuses unknown flags and a missing config as usage errors', () => {
    expect(errorOf(() => parseTrainCli(['--config', 'a.json', '--learning-rate', '1'])).message).toMatch(/unknown option '--learning-rate'/);
    expect(errorOf(() => parseTrainCli([])).message).toMatch(/give a config with --config FILE/);
    expect(errorOf(() => parseTrainCli([])).exitCode).toBe(2);
  });

  it('collects several configs for a race, and the colour flags', () => {
    const parsed = parseTrainCli(['--config', 'a.json', '--config', 'b.json', '--no-color', '--json']);
    expect(parsed.kind === 'run' && parsed.args).toMatchObject({ configs: ['a.json', 'b.json'], color: false, json: true });
    const p2 = parseTrainCli(['--config', 'a.json']);
    expect(p2.kind === 'run' && p2.args.color).toBeUndefined();
  });
});

describe('src/config/README.md', () => {
  // The two tables between the markers are generated from the schema (src/config/describe.ts).
  // When a field changes, the failing test prints the expected text: paste it between the markers.
  const reference = readFileSync(join(__dirname, '..', 'src', 'config', 'README.md'), 'utf8');
  const generated = (name: string): string | undefined =>
    new RegExp(`<!-- begin ${name} -->\\n([\\s\\S]*?)\\n<!-- end ${name} -->`).exec(reference)?.[1];

  it('documents every config field, with the type, default and meaning the schema has', () => {
    expect(generated('config table')).toBe(configTableMarkdown());
    expect(describeConfig().length).toBeGreaterThan(30);
  });

  it('documents every layer type and its fields, as the schema has them', () => {
    expect(generated('layer table')).toBe(layerTableMarkdown());
  });
});
