/**
 * Checks the Python recipe of src/export/README.md (src/bench/pillow_recipe.py): Pillow's pixels, fed
 * to the model's ONNX file, must give nn-eval's P(dog).
 *
 *   npm run build && npm run bench:onnx-python -- --model MODEL.json [options] IMAGES_OR_FOLDERS...
 *
 *   --model FILE      a model file written by nn-train (required)
 *   --python CMD      the Python with Pillow (default /usr/bin/python3: Debian's python3-pil)
 *   --recipe NAME     nn-train (default: the recipe) or naive (Image.resize((w, h)), for comparison)
 *   --fit NAME        score with this fit instead of the model's (fill, cover, contain): nn-eval and
 *                     the recipe both use it (the weights are the model's; the check is the pixels')
 *   --tolerance X     the largest |p - p_nn-eval| allowed (default 0.01): exit 1 above it
 *   --make-kinds OUT  instead: write photos of the kinds the recipe's steps 2-4 handle into OUT, made
 *                     from the JPEGs given: in turn EXIF-rotated (orientation 6, then 3), with a
 *                     Display P3 colour profile, and PNG with transparency (three alpha bands)
 *
 * Per image: nn-eval's p (the built bin/nn-eval.js, jsonl); the recipe's pixels (the Python script,
 * run once on the whole list) through the ONNX graph (exportOnnx, run by onnxruntime-web); and, to
 * tell the decoder from the graph, nn-train's own pixels (decodeImage) through the same graph. The
 * pixels are compared too (levels 0-255). Human-readable lines on stderr; one JSON object on stdout.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as ort from 'onnxruntime-web';
import { decodeImage, decodeSettingsOf } from '../data/decode.ts';
import { FIT_NAMES, type FitName } from '../data/preprocessing.ts';
import { labelOfFile } from '../eval/inputs.ts';
import { exportOnnx } from '../export/onnx.ts';
import { readModelFile, writeModelFile } from '../io/model-file.ts';
import { median } from './common.ts';

const run = promisify(execFile);
const say = (line: string): void => void process.stderr.write(line + '\n');
// dist-bench/bench/onnx-python.js and src/bench/onnx-python.ts both sit two folders below the package.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BATCH = 64;

/** nn-eval's P(dog) per path, in its output order. */
async function nnEval(modelPath: string, inputs: string[]): Promise<Map<string, number>> {
  const { stdout } = await run(process.execPath, [join(root, 'bin', 'nn-eval.js'), modelPath, ...inputs, '--format', 'jsonl', '--quiet'], { maxBuffer: 1 << 28 });
  const p = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { path: string; p_dog: number };
    p.set(row.path, row.p_dog);
  }
  return p;
}

/** P(dog) of each image of `pixels` (N x H x W x C bytes) through the ONNX graph. */
async function onnxP(session: ort.InferenceSession, pixels: Uint8Array, h: number, w: number, c: number): Promise<Float32Array> {
  const size = h * w * c;
  const n = pixels.length / size;
  const p = new Float32Array(n);
  for (let i = 0; i < n; i += BATCH) {
    const k = Math.min(BATCH, n - i);
    const image = new ort.Tensor('uint8', pixels.subarray(i * size, (i + k) * size), [k, h, w, c]);
    const out = await session.run({ image });
    p.set(out.p_dog!.data as Float32Array, i);
  }
  return p;
}

interface Gaps {
  max: number;
  mean: number;
  median: number;
  maxAt: number;
}

function gaps(a: ArrayLike<number>, b: ArrayLike<number>): Gaps {
  const d = Array.from({ length: a.length }, (_, i) => Math.abs(a[i]! - b[i]!));
  const maxAt = d.reduce((best, x, i) => (x > d[best]! ? i : best), 0);
  return { max: d[maxAt] ?? 0, mean: d.reduce((s, x) => s + x, 0) / Math.max(1, d.length), median: d.length ? median(d) : 0, maxAt };
}

/**
 * The recipe's functions as src/export/README.md shows them must be the script's (from `def fit_window`
 * to the end of decode_like_nn_train): the check would otherwise pass for lines no reader sees.
 */
function checkReadmeRecipe(script: string): void {
  const code = readFileSync(script, 'utf8');
  const start = code.indexOf('def fit_window');
  const end = code.indexOf('def decode_naive');
  const functions = code.slice(start, end).trim();
  const readme = readFileSync(join(root, 'src', 'export', 'README.md'), 'utf8');
  if (start < 0 || end < 0 || !readme.includes(functions)) throw new Error(`src/export/README.md's Python recipe differs from ${script}'s fit_window and decode_like_nn_train`);
}

/** --make-kinds: the images given, in turn rotated by EXIF, with a P3 profile, and PNG with alpha. */
async function makeKinds(out: string, inputs: string[]): Promise<void> {
  const { default: sharp } = await import('sharp');
  mkdirSync(out, { recursive: true });
  for (const [i, file] of inputs.entries()) {
    const name = join(out, `${labelOfFile(file) === 0 ? 'cat' : 'dog'}.${i}`);
    const kind = i % 4;
    if (kind < 2) await sharp(file).withMetadata({ orientation: kind === 0 ? 6 : 3 }).jpeg({ quality: 90 }).toFile(`${name}.jpg`);
    else if (kind === 2) await sharp(file).withIccProfile('p3').jpeg({ quality: 90 }).toFile(`${name}.jpg`);
    else {
      const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const rgba = Buffer.alloc(info.width * info.height * 4);
      for (let p = 0; p < info.width * info.height; p++) {
        rgba.set(data.subarray(3 * p, 3 * p + 3), 4 * p);
        const x = p % info.width;
        rgba[4 * p + 3] = x < info.width / 3 ? 0 : x < (2 * info.width) / 3 ? 128 : 255;
      }
      await sharp(rgba, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toFile(`${name}.png`);
    }
  }
  say(`${inputs.length} images written to ${out}`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      recipe: { type: 'string', default: 'nn-train' },
      fit: { type: 'string' },
      tolerance: { type: 'string', default: '0.01' },
      'make-kinds': { type: 'string' },
    },
  });
  if (values['make-kinds'] !== undefined) return makeKinds(values['make-kinds'], positionals);
  if (values.model === undefined || positionals.length === 0) throw new Error('usage: bench:onnx-python -- --model MODEL.json [options] IMAGES_OR_FOLDERS...');
  if (values.fit !== undefined && !(FIT_NAMES as readonly string[]).includes(values.fit)) throw new Error(`--fit: expected one of ${FIT_NAMES.join(', ')}`);
  const tolerance = Number(values.tolerance);
  const script = join(root, 'src', 'bench', 'pillow_recipe.py');
  checkReadmeRecipe(script);
  const model = readModelFile(values.model);
  if (values.fit !== undefined) model.preprocessing = { ...model.preprocessing, fit: values.fit as FitName };
  const settings = decodeSettingsOf(model.preprocessing);
  if (settings.resize !== 'linear') throw new Error(`the recipe is for resize "linear"; the model has ${JSON.stringify(settings.resize)}`);
  const { width: w, height: h, channels: c } = settings;

  const dir = mkdtempSync(join(tmpdir(), 'onnx-python-'));
  try {
    const modelPath = join(dir, 'model.json');
    writeModelFile(modelPath, model);
    const expected = await nnEval(modelPath, positionals);
    const paths = [...expected.keys()];
    say(`${paths.length} images scored by nn-eval (${w}x${h}x${c}, fit ${settings.fit}, resize linear)`);

    writeFileSync(join(dir, 'paths.txt'), paths.join('\n') + '\n');
    const [python, ...pythonArgs] = values.python!.split(' ');
    const { stderr } = await run(python!, [...pythonArgs, script, '--width', String(w), '--height', String(h), '--channels', String(c),
      '--fit', settings.fit, '--list', join(dir, 'paths.txt'), '--out', join(dir, 'pixels.u8'), '--recipe', values.recipe!], { maxBuffer: 1 << 24 });
    say(stderr.trim());
    const pillow = new Uint8Array(readFileSync(join(dir, 'pixels.u8')));
    const size = w * h * c;
    if (pillow.length !== paths.length * size) throw new Error(`the recipe wrote ${pillow.length} bytes, expected ${paths.length * size}`);

    const ours = new Uint8Array(paths.length * size);
    for (const [i, path] of paths.entries()) ours.set(await decodeImage(path, settings), i * size);
    let differing = 0;
    let levelSum = 0;
    let levelMax = 0;
    for (let k = 0; k < ours.length; k++) {
      const d = Math.abs(ours[k]! - pillow[k]!);
      if (d > 0) differing++;
      levelSum += d;
      levelMax = Math.max(levelMax, d);
    }

    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(exportOnnx(model, 'uint8').bytes);
    const pRecipe = await onnxP(session, pillow, h, w, c);
    const pOurs = await onnxP(session, ours, h, w, c);
    await session.release();
    const pEval = paths.map((p) => expected.get(p)!);
    const recipe = gaps(pRecipe, pEval);
    const graph = gaps(pOurs, pEval);
    const sameDecision = pEval.filter((p, i) => p >= 0.5 === pRecipe[i]! >= 0.5).length;
    const spread = gaps(pEval, pEval.map(() => 0.5));

    say(`pixels, Pillow's (recipe ${values.recipe}) against nn-train's: ${differing} of ${ours.length} bytes differ, mean |difference| ${(levelSum / ours.length).toFixed(4)} levels, largest ${levelMax}`);
    say(`nn-eval's p: mean |p - 0.5| ${spread.mean.toFixed(3)} (how far from undecided the model's answers are)`);
    say(`ONNX on nn-train's pixels vs nn-eval: max |dp| ${graph.max.toExponential(2)} (the graph alone)`);
    say(`ONNX on Pillow's pixels vs nn-eval:   max |dp| ${recipe.max.toFixed(4)} (${paths[recipe.maxAt]}), mean ${recipe.mean.toFixed(5)}, median ${recipe.median.toFixed(5)}; same decision on ${sameDecision}/${paths.length}`);
    const pass = recipe.max <= tolerance;
    say(pass ? `within ${tolerance}: the recipe reproduces nn-eval` : `ABOVE ${tolerance}: the recipe does not reproduce nn-eval`);
    process.stdout.write(JSON.stringify({
      images: paths.length, recipe: values.recipe, fit: settings.fit, size: [w, h, c],
      pixels: { differingShare: differing / ours.length, meanAbsLevels: levelSum / ours.length, maxAbsLevels: levelMax },
      graphMaxAbsDp: graph.max,
      recipeAbsDp: { max: recipe.max, mean: recipe.mean, median: recipe.median, worst: paths[recipe.maxAt] },
      sameDecision, tolerance, pass,
    }) + '\n');
    if (!pass) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:onnx-python: ${(err as Error).message}\n`);
  process.exitCode = 2;
});
