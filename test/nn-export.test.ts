// nn-export end to end: models of every layer kind, written as ONNX by the built command
// (`node bin/nn-export.js`, both input types), run by a real ONNX runtime (onnxruntime-web, the
// WebAssembly build, in this process) on the same images that the built nn-eval scores: every
// probability must equal nn-eval's within 1e-5. nn-eval's answers come from its jsonl output (6
// significant digits, so at most 5e-7 away from its float32 value).
//
// The models have random weights (He/Xavier), non-trivial biases, batch-norm scales and shifts and
// running statistics, so that a wrong axis, a wrong weight order or a forgotten statistic changes
// the answers; each model's answers must also differ between images by far more than 1e-5.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeSettingsOf } from '../src/data/decode.ts';
import { shiftedGeometry } from '../src/data/preprocessing.ts';
import { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET } from '../src/export/onnx.ts';
import { encodeFloats } from '../src/io/json-document.ts';
import { encodeModel, type Model, type Preprocessing, writeModelFile } from '../src/io/model-file.ts';
import { ACTIVATION_LAYER_TYPES, initParams, planNetwork, type LayerSpec, type Shape } from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';
import { main } from '../src/cli/nn-export.ts';
import { NN_TRAIN_VERSION } from '../src/version.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir, writeImage } from './helpers/images.ts';
import { runInProcess } from './helpers/in-process.ts';
import { builtPackage, runShell, sh } from './nn-eval-helpers.ts';

const { onnx } = onnxProto;
const TOLERANCE = 1e-5;

let dir: string;
let imagesDir: string;
let pkg: string;

const conv = (filters: number, kernel: number, stride: 1 | 2, padding: 'same' | 'valid', bias = true): LayerSpec => ({ type: 'conv', filters, kernel, stride, padding, bias });
const dense = (units: number, bias = true): LayerSpec => ({ type: 'dense', units, bias });
const bn = (epsilon = 1e-5): LayerSpec => ({ type: 'batchnorm', momentum: 0.1, epsilon });
const pool = (type: 'maxpool' | 'avgpool', size: number, stride: number): LayerSpec => ({ type, size, stride });

interface Case {
  name: string;
  input: Shape;
  layers: LayerSpec[];
  standardize: boolean;
  fit?: Preprocessing['fit'];
  /** data.shift of the training run: decoded larger, the network sees the centre window. */
  shift?: number;
  resize?: Preprocessing['resize'];
  /** Write the model as a version 1 file (a dense stack: `layers` must be one). */
  version1?: { hidden: number[]; activation: string };
}

const CASES: Case[] = [
  {
    name: 'mlp-v1',
    input: { height: 7, width: 5, channels: 3 },
    layers: [dense(9), { type: 'tanh' }, dense(5), { type: 'tanh' }, dense(1)],
    standardize: false,
    version1: { hidden: [9, 5], activation: 'tanh' },
  },
  {
    name: 'mlp-grey-standardized',
    input: { height: 9, width: 6, channels: 1 },
    layers: [dense(6), { type: 'sigmoid' }, bn(), dense(1, false)],
    standardize: true,
    fit: 'cover',
  },
  {
    // conv -> batch norm -> relu -> pool, twice (the second conv valid with stride 2), then flatten
    // of a 2x2x5 map (a dense layer reads it in HWC order), batch norm per unit, dropout.
    name: 'cnn-rgb-standardized',
    input: { height: 17, width: 15, channels: 3 },
    layers: [
      conv(4, 3, 1, 'same', false), bn(), { type: 'relu' }, pool('maxpool', 2, 2),
      conv(5, 3, 2, 'valid'), bn(1e-3), { type: 'leaky_relu' }, pool('avgpool', 2, 1),
      { type: 'flatten' }, dense(7), bn(), { type: 'tanh' }, { type: 'dropout', rate: 0.5 }, dense(1),
    ],
    standardize: true,
  },
  {
    // Grey, no standardisation; an even kernel with stride 2 on odd sides (the SAME_UPPER extra pad
    // after), overlapping average pooling, a 1x1 convolution, global average pooling.
    name: 'cnn-grey-global-pool',
    input: { height: 15, width: 9, channels: 1 },
    layers: [
      conv(6, 4, 2, 'same'), { type: 'relu' }, pool('avgpool', 3, 2), { type: 'dropout', rate: 0.3 },
      conv(3, 1, 1, 'valid'), bn(), { type: 'sigmoid' }, { type: 'globalavgpool' }, dense(1),
    ],
    standardize: false,
    fit: 'contain',
  },
  {
    // Batch norm straight on the image, a 5x5 stride-2 convolution, and a dense layer reading a
    // 3x2x6 map without a flatten layer.
    name: 'cnn-rgb-bn-first',
    input: { height: 12, width: 7, channels: 3 },
    layers: [bn(), conv(6, 5, 2, 'same'), { type: 'leaky_relu' }, pool('maxpool', 2, 2), dense(4), { type: 'relu' }, dense(1)],
    standardize: false,
  },
  {
    // A dense layer's output (1x1x8) read by a convolution and pooled: flat -> (N, 8, 1, 1).
    name: 'dense-then-conv',
    input: { height: 5, width: 5, channels: 3 },
    layers: [dense(8), { type: 'tanh' }, conv(4, 3, 1, 'same'), pool('maxpool', 1, 1), { type: 'globalavgpool' }, dense(1)],
    standardize: true,
  },
  {
    // Every activation layer (src/nn/activations.ts), each after a dense layer: a new activation's
    // ONNX nodes are checked here as soon as it is registered.
    name: 'every-activation',
    input: { height: 4, width: 4, channels: 3 },
    layers: [...ACTIVATION_LAYER_TYPES.flatMap((type): LayerSpec[] => [dense(6), { type }]), dense(1)],
    standardize: true,
  },
  {
    // Trained with data.shift 3 and the linear resize: the file is fed the 13x11 decoded image and
    // must crop its centre 7x5 window itself, as nn-eval does.
    name: 'cnn-shifted-window',
    input: { height: 7, width: 5, channels: 3 },
    layers: [conv(4, 3, 1, 'same'), bn(), { type: 'relu' }, pool('maxpool', 2, 2), dense(1)],
    standardize: true,
    shift: 3,
    resize: 'linear',
  },
];

/** A model with random weights and non-trivial biases, batch-norm parameters and statistics. */
function makeModel(c: Case, seed: number): Model {
  const network = { input: c.input, layers: c.layers };
  const plan = planNetwork(network);
  const rng = new Rng(seed);
  const params = new Float32Array(plan.paramCount);
  initParams(plan, params, rng);
  for (const s of plan.params) {
    if (s.init.kind !== 'constant') continue; // biases, gamma, beta
    for (let i = s.offset; i < s.offset + s.length; i++) params[i] = s.name === 'gamma' ? 0.5 + rng.uniform() : rng.uniform() - 0.5;
  }
  const stats = new Float32Array(plan.statCount);
  for (const s of plan.stats) {
    for (let i = s.offset; i < s.offset + s.length; i++) stats[i] = s.name === 'mean' ? 0.6 * (rng.uniform() - 0.5) : 0.3 + 1.5 * rng.uniform();
  }
  const { height, width, channels } = c.input;
  const mean = [0.52, 0.47, 0.41].slice(0, channels);
  const std = [0.24, 0.22, 0.27].slice(0, channels);
  const preprocessing: Preprocessing = {
    width,
    height,
    channels: channels as 1 | 3,
    fit: c.fit ?? 'fill',
    scale: 1 / 255,
    mean: c.standardize ? mean : null,
    std: c.standardize ? std : null,
    ...(c.shift !== undefined ? shiftedGeometry(width, height, c.shift) : {}),
    ...(c.resize !== undefined ? { resize: c.resize } : {}),
  };
  return { network, preprocessing, params, stats, meta: { case: c.name } };
}

/** The same model as a version 1 file (what nn-train wrote for dense stacks before layer lists). */
function version1Text(c: Case, model: Model): string {
  const { height, width, channels } = c.input;
  return JSON.stringify({
    format: 'nn-train-model',
    version: 1,
    architecture: { inputSize: height * width * channels, ...c.version1 },
    preprocessing: model.preprocessing,
    weights: encodeFloats(model.params),
    meta: {},
  });
}

interface Scored {
  paths: string[];
  /** nn-eval's p_dog per path. */
  expected: number[];
  /** nn-eval's stderr, '' when all went well. */
  error: string;
}

/** Runs the built nn-eval on the images folder (jsonl) and returns its answers in its order. */
async function nnEval(modelPath: string): Promise<Scored> {
  const r = await runShell(`node ${sh(join(pkg, 'bin/nn-eval.js'))} ${sh(modelPath)} ${sh(imagesDir)} --format jsonl --workers 1 -q`);
  const lines = r.code === 0 ? r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; p_dog: number }) : [];
  return { paths: lines.map((l) => l.path), expected: lines.map((l) => l.p_dog), error: r.code === 0 ? r.stderr : `exit ${r.code}: ${r.stderr}` };
}

async function nnExport(args: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runShell(`node ${sh(join(pkg, 'bin/nn-export.js'))} ${args}`, { cwd: dir });
}

/** The images decoded as nn-eval decodes them (the decoded size: before the window), one (N, H, W, C) uint8 batch. */
async function decodeBatch(paths: string[], pre: Preprocessing): Promise<Uint8Array> {
  const settings = decodeSettingsOf(pre);
  const size = settings.width * settings.height * settings.channels;
  const batch = new Uint8Array(paths.length * size);
  for (const [i, path] of paths.entries()) batch.set(await decodeImage(path, settings), i * size);
  return batch;
}

/** p_dog of each image by onnxruntime-web. */
async function runOnnx(onnxFile: Uint8Array, batch: Uint8Array, type: 'uint8' | 'float32', pre: Preprocessing): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnxFile);
  try {
    const { width, height, channels } = decodeSettingsOf(pre);
    const n = batch.length / (width * height * channels);
    const data = type === 'uint8' ? batch : Float32Array.from(batch);
    const out = await session.run({ image: new ort.Tensor(type, data, [n, height, width, channels]) });
    const p = out.p_dog!;
    expect(p.dims).toEqual([n, 1]);
    return Array.from(p.data as Float32Array);
  } finally {
    await session.release();
  }
}

beforeAll(async () => {
  pkg = await builtPackage();
  ort.env.wasm.numThreads = 1;
  dir = makeTempDir('nn-export-');
  imagesDir = join(dir, 'images');
  // Labeled synthetic cats and dogs, and pictures of other sizes and kinds, all resized by the decoder.
  await makeLabeledFolder(imagesDir, { cats: 3, dogs: 3, size: 24 });
  await writeImage(join(imagesDir, 'a.png'), 'png', { width: 23, height: 17, seed: 3 });
  await writeImage(join(imagesDir, 'b.jpg'), 'jpeg', { width: 31, height: 19, seed: 5 });
  await writeImage(join(imagesDir, 'c.png'), 'grayscale-png', { width: 15, height: 15, seed: 7 });
  await writeImage(join(imagesDir, 'd.png'), 'rgba-png', { width: 20, height: 26, seed: 9 });
  await writeImage(join(imagesDir, 'e.jpg'), 'exif-rotated-jpeg', { width: 18, height: 12, seed: 11 });
}, 60_000);
afterAll(() => removeTempDir(dir));

describe('nn-export: onnxruntime-web gives the probabilities of nn-eval', () => {
  // Each case's model file and nn-eval run, all started at once (they are separate processes);
  // each test awaits its own.
  const models = new Map<string, Model>();
  const scoring = new Map<string, Promise<Scored>>();
  beforeAll(() => {
    for (const [k, c] of CASES.entries()) {
      const model = makeModel(c, 100 + k);
      const modelPath = join(dir, `${c.name}.json`);
      if (c.version1) writeFileSync(modelPath, version1Text(c, model));
      else writeModelFile(modelPath, model);
      models.set(c.name, model);
      scoring.set(c.name, nnEval(modelPath));
    }
  });

  for (const c of CASES) {
    it(`${c.name}: uint8 and float32 inputs, every image within ${TOLERANCE}`, async () => {
      const model = models.get(c.name)!;
      const scored = await scoring.get(c.name)!;
      expect(scored.error).toBe('');
      expect(scored.paths).toHaveLength(11);
      const batch = await decodeBatch(scored.paths, model.preprocessing);
      for (const type of ['uint8', 'float32'] as const) {
        const got = await runOnnx(exportOnnx(model, type).bytes, batch, type, model.preprocessing);
        const worst = Math.max(...got.map((p, i) => Math.abs(p - scored.expected[i]!)));
        expect({ type, worst: worst <= TOLERANCE ? 'ok' : worst }).toEqual({ type, worst: 'ok' });
      }
      // The answers differ between images by far more than the tolerance, so the check above means something.
      expect(Math.max(...scored.expected) - Math.min(...scored.expected)).toBeGreaterThan(0.02);
    }, 60_000);
  }

  it('the batch dimension is dynamic: one image at a time gives the same answers as the whole batch', async () => {
    const c = CASES[2]!;
    const model = makeModel(c, 7);
    const file = exportOnnx(model).bytes;
    const paths = [join(imagesDir, 'a.png'), join(imagesDir, 'b.jpg'), join(imagesDir, 'dog.1.jpg')];
    const batch = await decodeBatch(paths, model.preprocessing);
    const whole = await runOnnx(file, batch, 'uint8', model.preprocessing);
    const size = batch.length / paths.length;
    for (let i = 0; i < paths.length; i++) {
      const [one] = await runOnnx(file, batch.subarray(i * size, (i + 1) * size), 'uint8', model.preprocessing);
      expect(Math.abs(one! - whole[i]!)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('the ONNX file', () => {
  it('declares IR 7 and opset 13, the input image [N, H, W, C] and the output p_dog [N, 1], and its metadata', () => {
    const c = CASES[2]!;
    const model = makeModel(c, 1);
    for (const type of ['uint8', 'float32'] as const) {
      const m = onnx.ModelProto.decode(exportOnnx(model, type).bytes);
      expect(Number(m.irVersion)).toBe(ONNX_IR_VERSION);
      expect(ONNX_IR_VERSION).toBe(7);
      expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
      expect(ONNX_OPSET).toBe(13);
      expect(m.producerName).toBe('nn-train');
      expect(m.producerVersion).toBe(NN_TRAIN_VERSION);
      const [input] = m.graph!.input!;
      expect(input!.name).toBe('image');
      expect(input!.type!.tensorType!.elemType).toBe(type === 'uint8' ? onnx.TensorProto.DataType.UINT8 : onnx.TensorProto.DataType.FLOAT);
      expect(input!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 17, 15, 3]);
      const [output] = m.graph!.output!;
      expect(output!.name).toBe('p_dog');
      expect(output!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 1]);
      expect(Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]))).toEqual({
        width: '15',
        height: '17',
        channels: '3',
        color: 'RGB',
        fit: 'fill',
        resize: 'lanczos3',
        input_type: type,
        input_layout: 'NHWC',
        labels: '{"0":"cat","1":"dog"}',
        output: 'p_dog = P(dog) = P(label 1), shape [N, 1]',
        scale: String(1 / 255),
        mean: '[0.52,0.47,0.41]',
        std: '[0.24,0.22,0.27]',
        nn_train_version: NN_TRAIN_VERSION,
      });
      // Dropout is left out; batch norm stays a node of its own with its statistics.
      const ops = m.graph!.node!.map((n) => n.opType);
      expect(ops).not.toContain('Dropout');
      expect(ops.filter((o) => o === 'BatchNormalization')).toHaveLength(3);
      expect(ops.slice(0, 5)).toEqual(type === 'uint8' ? ['Cast', 'Mul', 'Sub', 'Div', 'Transpose'] : ['Mul', 'Sub', 'Div', 'Transpose', 'Conv']);
      expect(ops.at(-1)).toBe('Sigmoid');
    }
  });

  it('a model trained with data.shift takes the decoded image and crops the window itself; its metadata says both', () => {
    const c = CASES.find((k) => k.name === 'cnn-shifted-window')!;
    const exported = exportOnnx(makeModel(c, 1));
    expect(exported.input).toEqual({ height: 13, width: 11, channels: 3 }); // what nn-export's summary line names
    const m = onnx.ModelProto.decode(exported.bytes);
    expect(m.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 13, 11, 3]);
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta).toMatchObject({ width: '11', height: '13', resize: 'linear', input_window: '{"left":3,"top":3,"width":5,"height":7}' });
    expect(m.graph!.node!.map((n) => n.opType).slice(0, 3)).toEqual(['Slice', 'Cast', 'Mul']);
  });

  it('a greyscale model without standardisation says so: no mean or std, no Sub or Div', () => {
    const m = onnx.ModelProto.decode(exportOnnx(makeModel(CASES[3]!, 1)).bytes);
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta).toMatchObject({ channels: '1', color: 'grey', fit: 'contain', mean: 'null', std: 'null' });
    expect(m.graph!.node!.map((n) => n.opType).slice(0, 3)).toEqual(['Cast', 'Mul', 'Transpose']);
  });
});

describe('nn-export: command line', () => {
  const model = makeModel(CASES[1]!, 3);
  beforeAll(() => {
    mkdirSync(join(dir, 'cli'), { recursive: true });
    writeModelFile(join(dir, 'cli', 'model.json'), model);
  });

  it("--help names the default output and shows examples; --version is nn-train's", async () => {
    const help = await runInProcess(main, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('(default: the model path with .onnx in place of .json)');
    expect(help.stdout).toMatch(/Examples:\n {2}nn-export runs\/cnn\/model.json/);
    const version = await runInProcess(main, ['--version']);
    expect(version).toEqual({ code: 0, stdout: `${NN_TRAIN_VERSION}\n`, stderr: '' });
  });

  it("writes the default path, a named file and stdout (-o -): the library's bytes", async () => {
    const [r, named, piped] = await Promise.all([
      nnExport('cli/model.json -q'),
      nnExport('cli/model.json -o cli/named.onnx --input float32'),
      runShell(`node ${sh(join(pkg, 'bin/nn-export.js'))} cli/model.json -o - | od -An -v -tx1 | tr -d ' \\n'`, { cwd: dir }),
    ]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(dir, 'cli', 'model.onnx')).equals(Buffer.from(exportOnnx(model).bytes))).toBe(true);
    expect(named).toMatchObject({ code: 0, stdout: '' });
    expect(named.stderr).toMatch(/^nn-export: wrote cli\/named\.onnx: [\d,]+ bytes, 9 nodes; input image \[N, 9, 6, 1\] float32, output p_dog \[N, 1\]\n$/);
    expect(readFileSync(join(dir, 'cli', 'named.onnx')).equals(Buffer.from(exportOnnx(model, 'float32').bytes))).toBe(true);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(Buffer.from(exportOnnx(model).bytes).toString('hex'));
    expect(piped.stderr).toMatch(/^nn-export: wrote stdout: /);
  }, 30_000);

  it('refuses to write the binary onto a terminal, with a hint to use -o', async () => {
    // script(1) gives the command a pseudo-terminal as stdout.
    const r = await runShell(`script -qec ${sh(`node ${sh(join(pkg, 'bin/nn-export.js'))} cli/model.json -o -; echo "status=$?"`)} /dev/null`, { cwd: dir });
    expect(r.stdout).toContain('nn-export: will not write a binary ONNX file onto the terminal: give -o FILE');
    expect(r.stdout).toContain('status=2');
  }, 30_000);

  it('bad inputs: one line naming the file, exit 2, nothing written and an existing file untouched', async () => {
    const cli = join(dir, 'cli');
    writeFileSync(join(cli, 'last.json'), JSON.stringify({ format: 'nn-train-checkpoint', version: 2 }));
    writeFileSync(join(cli, 'future.json'), encodeModel(model).replace('"version":2', '"version":9'));
    writeFileSync(join(cli, 'keep.onnx'), 'previous contents');
    mkdirSync(join(cli, 'run'), { recursive: true });
    writeModelFile(join(cli, 'run', 'model.json'), model);
    mkdirSync(join(cli, 'folder.onnx'), { recursive: true });
    writeFileSync(join(cli, 'a-file'), '');
    const keep = join(cli, 'keep.onnx');
    const at = (name: string) => join(cli, name);
    for (const [argv, message] of [
      [[at('last.json'), '-o', keep], `${at('last.json')}: bad model file: format: this is a training checkpoint (last.json), not a model: give the model.json of the same run folder`],
      [[at('future.json'), '-o', keep], `${at('future.json')}: bad model file: version: expected 1 or 2, found 9 (written by a newer nn-train)`],
      [[at('missing.json'), '-o', keep], `${at('missing.json')}: cannot read the model file: no such file or folder`],
      [[at('run'), '-o', keep], `${at('run')}: cannot read the model file: is a folder, expected a file (the run's model is ${at('run/model.json')})`],
      [[at('model.json'), '-o', at('no-such-folder/x.onnx')], `${at('no-such-folder/x.onnx')}: cannot write the ONNX file: no such file or folder`],
      [[at('model.json'), '-o', at('a-file/x.onnx')], `${at('a-file/x.onnx')}: cannot write the ONNX file: ${at('a-file')} is not a folder`],
      [[at('model.json'), '-o', at('folder.onnx')], `${at('folder.onnx')}: cannot write the ONNX file: is a folder, expected a file`],
      [[at('model.json'), '-o', at('model.json')], `${at('model.json')}: cannot write the ONNX file: it is the model file`],
      [[at('model.json'), '-o', ''], '-o: expected a file name or - (see nn-export --help)'],
      [[at('model.json'), '--input', 'float64'], "option '--input <type>' argument 'float64' is invalid. Allowed choices are uint8, float32. (see nn-export --help)"],
      [[], "missing required argument 'model' (see nn-export --help)"],
    ] as const) {
      const r = await runInProcess(main, [...argv]);
      expect({ argv, ...r }).toEqual({ argv, code: 2, stdout: '', stderr: `nn-export: ${message}\n` });
    }
    expect(readFileSync(keep, 'utf8')).toBe('previous contents');
    expect(existsSync(at('last.onnx'))).toBe(false);
    expect(existsSync(at('future.onnx'))).toBe(false);
    expect(statSync(at('folder.onnx')).isDirectory()).toBe(true);
  });

  it('a folder that cannot be written, and a full disk', async () => {
    // root may write into any folder whatever its mode bits, but no one creates files in sysfs.
    const locked = join(dir, 'cli', 'locked');
    mkdirSync(locked, { recursive: true });
    chmodSync(locked, 0o555);
    const target = process.getuid?.() === 0 ? '/sys/nn-export-test.onnx' : join(locked, 'model.onnx');
    try {
      const r = await runInProcess(main, [join(dir, 'cli', 'model.json'), '-o', target]);
      expect(r).toEqual({ code: 2, stdout: '', stderr: `nn-export: ${target}: cannot write the ONNX file: permission denied\n` });
    } finally {
      chmodSync(locked, 0o755);
    }
    const full = await runInProcess(main, [join(dir, 'cli', 'model.json'), '-o', '/dev/full']);
    expect(full).toEqual({ code: 1, stdout: '', stderr: 'nn-export: /dev/full: cannot write the ONNX file: no space left on the device\n' });
  });
});
