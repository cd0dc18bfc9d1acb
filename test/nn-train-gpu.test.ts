// --device on the commands, end to end (the built commands as child processes). Without an adapter:
// the exit-2 messages (Vulkan pointed at a driver list that does not exist, so Dawn finds none).
// With one (lavapipe in CI and here): a run on the GPU against the same run on the CPU, and a run
// that moves from the GPU to the CPU on resume. Outside CI those are skipped, visibly, without an
// adapter; with CI set they run and fail.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeAdapter, findAdapter } from '../src/core/gpu/adapter.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

const TRAIN = join(__dirname, '..', 'bin', 'nn-train.js');
const EVAL = join(__dirname, '..', 'bin', 'nn-eval.js');
const NO_ADAPTER = { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' };

const found = await findAdapter();
const adapter = 'info' in found ? describeAdapter(found.info) : null;
const runGpu = adapter !== null || Boolean(process.env.CI);

let dir: string;
let images: string;

function writeConfig(name: string, overrides: Record<string, unknown> = {}): string {
  const config = {
    data: { train: images, width: 12, height: 12, channels: 3, validation: 0.25, cache: join(dir, 'cache') },
    model: { hidden: [10, 6], activation: 'tanh' },
    loss: 'bce',
    optimizer: { type: 'adam', lr: 0.003, clipNorm: 1, weightDecay: 0.0001 },
    training: { batchSize: 8, epochs: 3, seed: 5 },
    ...overrides,
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function run(bin: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { XDG_RUNTIME_DIR: dir, ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * stderr without the lines Dawn and the Vulkan loader print themselves, natively ("Warning: ...",
 * and the C++ place of a Vulkan error: "    at CheckVkSuccessImpl (.../VulkanError.cpp:106)").
 */
const ownLines = (stderr: string) => stderr.split('\n').filter((l) => l.trim() !== '' && !/^Warning: /.test(l) && !/^\s+at \w+ \(.*\.cpp:\d+\)$/.test(l));

const epochs = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>)
    .filter((e) => e.event === 'epoch');

beforeAll(async () => {
  dir = makeTempDir('nn-train-gpu-');
  images = join(dir, 'images');
  await makeLabeledFolder(images, { cats: 40, dogs: 40, size: 16 });
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('--device gpu without an adapter', { timeout: 60_000 }, () => {
  it('nn-train: exit 2, one line saying what was looked for and how to get one', () => {
    const r = run(TRAIN, ['--config', writeConfig('no-adapter'), '--device', 'gpu', '--out', join(dir, 'never')], NO_ADAPTER);
    expect(r.code).toBe(2);
    const lines = ownLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nn-train: training\.device gpu: (no WebGPU adapter found|the optional package webgpu is not installed).*; looked for a WebGPU adapter through the npm package webgpu .*lavapipe.*--device cpu$/);
  });

  it('nn-eval: exit 2 the same way; --device auto falls back to the CPU and says so', () => {
    const config = writeConfig('cpu-model', { training: { batchSize: 8, epochs: 1, seed: 5 } });
    const out = join(dir, 'cpu-model');
    expect(run(TRAIN, ['--config', config, '--out', out, '--quiet']).code).toBe(0);
    const r = run(EVAL, [join(out, 'model.json'), images, '--device', 'gpu'], NO_ADAPTER);
    expect(r.code).toBe(2);
    expect(ownLines(r.stderr)).toEqual([expect.stringMatching(/^nn-eval: --device gpu: .*looked for a WebGPU adapter/)]);
    const auto = run(TRAIN, ['--config', config, '--device', 'auto', '--out', join(dir, 'auto'), '--no-progress'], NO_ADAPTER);
    expect(auto.code).toBe(0);
    expect(auto.stderr).toMatch(/on cpu \(auto: (no WebGPU adapter found(: no Vulkan loader \(libvulkan\.so\.1\))?|the optional package webgpu is not installed)\)/);
  });
});

describe.runIf(runGpu)(`--device gpu (${adapter ? `on ${adapter}` : 'needs a WebGPU adapter'})`, { timeout: 120_000 }, () => {
  it('trains as the CPU does: each epoch\'s losses within 1e-3, the adapter in the metrics; nn-eval agrees within 1e-4', () => {
    const config = writeConfig('both');
    const cpu = run(TRAIN, ['--config', config, '--json', '--out', join(dir, 'on-cpu')]);
    const gpu = run(TRAIN, ['--config', config, '--json', '--device', 'gpu', '--out', join(dir, 'on-gpu')]);
    expect(cpu.code).toBe(0);
    expect(gpu.code, gpu.stderr).toBe(0);
    const [c, g] = [epochs(cpu.stdout), epochs(gpu.stdout)];
    expect(g).toHaveLength(3);
    for (let e = 0; e < 3; e++) {
      expect(Math.abs(g[e]!.trainLoss - c[e]!.trainLoss) / c[e]!.trainLoss).toBeLessThan(1e-3);
      expect(Math.abs(g[e]!.valLoss - c[e]!.valLoss) / c[e]!.valLoss).toBeLessThan(1e-3);
      expect(g[e]!.kernel).toMatch(/^webgpu: /);
    }
    expect(g[2]!.trainLoss).toBeLessThan(g[0]!.trainLoss);
    const predictions = (device: string) =>
      run(EVAL, [join(dir, 'on-gpu', 'model.json'), images, '--device', device, '--format', 'jsonl', '--quiet'])
        .stdout.trim()
        .split('\n')
        .map((l) => JSON.parse(l).p_dog as number);
    const [pc, pg] = [predictions('cpu'), predictions('gpu')];
    expect(pg).toHaveLength(80);
    for (let i = 0; i < pc.length; i++) expect(Math.abs(pg[i]! - pc[i]!)).toBeLessThan(1e-4);
  });

  it('a run started on the GPU resumes on the CPU (the files do not depend on the device)', () => {
    const config = writeConfig('move');
    const out = join(dir, 'moved');
    expect(run(TRAIN, ['--config', config, '--device', 'gpu', '--epochs', '2', '--out', out, '--quiet']).code).toBe(0);
    const resumed = run(TRAIN, ['--resume', out, '--epochs', '3', '--device', 'cpu', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const straight = run(TRAIN, ['--config', config, '--json', '--out', join(dir, 'straight')]);
    const [r, s] = [epochs(resumed.stdout), epochs(straight.stdout)];
    expect(r.map((e) => e.epoch)).toEqual([3]);
    expect(Math.abs(r[0]!.trainLoss - s[2]!.trainLoss) / s[2]!.trainLoss).toBeLessThan(1e-3);
  });

  it('a batch whose buffers exceed the adapter\'s limit is refused before training: exit 2, one line with the buffer, sizes and a batch that fits', () => {
    // A 3x3 conv of 32 filters on 64x64 images: 512 KiB of output a sample; one image over the limit.
    const limit = 'limits' in found ? Math.min(found.limits.maxStorageBufferBindingSize, found.limits.maxBufferSize) : 128 * 2 ** 20;
    const fits = Math.floor(limit / (512 * 1024));
    const config = writeConfig('too-big', {
      data: { train: images, width: 64, height: 64, channels: 3, validation: 0.25, cache: join(dir, 'cache') },
      model: { layers: [{ type: 'conv', filters: 32, kernel: 3, bias: false }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 1 }] },
      training: { batchSize: fits + 1, epochs: 1, seed: 5 },
    });
    const out = join(dir, 'too-big-run');
    const r = run(TRAIN, ['--config', config, '--device', 'gpu', '--out', out]);
    expect(r.code).toBe(2);
    expect(ownLines(r.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^nn-train: training\\.batchSize: the GPU buffer for layers\\[0\\] \\(conv\\) output needs [\\d.]+ MiB \\(${(fits + 1) * 512 * 1024} bytes\\) at batch ${fits + 1}, over the adapter's limit of [\\d.]+ MiB \\(${limit} bytes, max\\w+\\); a batch of at most ${fits} fits$`)),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('the race, the learning-rate finder and the genetic algorithm run on it as on the CPU', () => {
    // Epoch events after each run's start event, by run name.
    const byRun = (stdout: string) => {
      const runs: Record<string, number[][]> = {};
      let name = '';
      for (const line of stdout.split('\n').filter((l) => l.startsWith('{'))) {
        const e = JSON.parse(line) as Record<string, any>;
        if (e.event === 'start') name = e.name;
        if (e.event === 'epoch') (runs[name] ??= []).push([e.trainLoss, e.valLoss, e.kernel.startsWith('webgpu: ') ? 1 : 0]);
      }
      return runs;
    };
    const close = (a: number, b: number) => Math.abs(a - b) / Math.abs(b) < 1e-3;

    const race = [writeConfig('race-adam'), writeConfig('race-momentum', { optimizer: { type: 'momentum', lr: 0.05, beta: 0.9 } })].flatMap((c) => ['--config', c]);
    const [raceCpu, raceGpu] = ['cpu', 'gpu'].map((device) => run(TRAIN, [...race, '--device', device, '--json', '--out', join(dir, `race-${device}`)]));
    expect(raceGpu!.code, raceGpu!.stderr).toBe(0);
    const [rc, rg] = [byRun(raceCpu!.stdout), byRun(raceGpu!.stdout)];
    expect(Object.keys(rg).sort()).toEqual(['race-adam', 'race-momentum']);
    for (const name of Object.keys(rg)) {
      expect(rg[name]).toHaveLength(3);
      rg[name]!.forEach(([train, val, onGpu], e) => {
        expect(onGpu, `${name} epoch ${e + 1} on the GPU`).toBe(1);
        expect(close(train!, rc[name]![e]![0]!) && close(val!, rc[name]![e]![1]!), `${name} epoch ${e + 1}`).toBe(true);
      });
    }

    const finder = ['cpu', 'gpu'].map((device) => {
      const r = run(TRAIN, ['--config', writeConfig('find'), '--find-lr', '--device', device, '--json', '--out', join(dir, `find-${device}`)]);
      expect(r.code, r.stderr).toBe(0);
      const found = JSON.parse(r.stdout.split('\n').find((l) => l.includes('"lr-find"'))!) as { suggestion: number; batches: number; ended: string };
      return { ...found, stderr: r.stderr };
    });
    expect(finder[1]!.stderr).toMatch(/on webgpu: /);
    expect(finder[1]!.batches).toBe(finder[0]!.batches);
    expect(finder[1]!.ended).toBe(finder[0]!.ended);
    // The rates step by a factor of about 1.1 a batch: the same suggestion, or the next rate at most.
    expect(Math.abs(Math.log(finder[1]!.suggestion / finder[0]!.suggestion))).toBeLessThan(Math.log(1.2));

    const genetic = writeConfig('genetic', {
      model: { hidden: [6], activation: 'relu' },
      optimizer: { type: 'genetic', population: 12, elite: 2 },
      training: { batchSize: 32, epochs: 3, seed: 5 },
    });
    const [gc, gg] = ['cpu', 'gpu'].map((device) => byRun(run(TRAIN, ['--config', genetic, '--device', device, '--json', '--out', join(dir, `genetic-${device}`)]).stdout).genetic!);
    expect(gg).toHaveLength(3);
    gg!.forEach(([train, val, onGpu], e) => {
      expect(onGpu).toBe(1);
      expect(close(train!, gc![e]![0]!) && close(val!, gc![e]![1]!), `generation ${e + 1}`).toBe(true);
    });
  });

  it('trains a small CNN (conv, batch norm, max pool, dropout) as the CPU does, from its images held on the GPU with flips, shifts and jitter', () => {
    const config = writeConfig('cnn', {
      data: { train: images, width: 12, height: 12, channels: 3, validation: 0.25, cache: join(dir, 'cache'), flip: true, shift: 2, brightness: 0.2, contrast: 0.2 },
      model: { layers: [{ type: 'conv', filters: 4, kernel: 3, bias: false }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'maxpool' }, { type: 'flatten' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 1 }] },
      optimizer: { type: 'momentum', lr: 0.05, beta: 0.9 },
      training: { batchSize: 8, epochs: 2, seed: 5 },
    });
    const cpu = run(TRAIN, ['--config', config, '--json', '--out', join(dir, 'cnn-cpu')]);
    const gpu = run(TRAIN, ['--config', config, '--json', '--device', 'gpu', '--out', join(dir, 'cnn-gpu')]);
    expect(gpu.code, gpu.stderr).toBe(0);
    const start = (stdout: string) => JSON.parse(stdout.split('\n').find((l) => l.includes('"event":"start"'))!) as { imagesOnDevice?: boolean };
    expect(start(gpu.stdout).imagesOnDevice).toBe(true);
    expect(start(cpu.stdout).imagesOnDevice).toBeUndefined();
    const [c, g] = [epochs(cpu.stdout), epochs(gpu.stdout)];
    expect(g).toHaveLength(2);
    for (let e = 0; e < 2; e++) {
      expect(Math.abs(g[e]!.trainLoss - c[e]!.trainLoss) / c[e]!.trainLoss).toBeLessThan(1e-3);
      expect(Math.abs(g[e]!.valLoss - c[e]!.valLoss) / c[e]!.valLoss).toBeLessThan(1e-3);
    }
  });
});
