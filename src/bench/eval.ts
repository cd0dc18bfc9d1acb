/**
 * nn-eval's speed as a user sees it: images per second from a fresh start, process start included,
 * `nn-eval MODEL DIR > /dev/null` timed from spawn to exit; and, for context, its two parts alone:
 * decoding (the decoding pipeline with nn-eval's settings, no forward pass) and inference
 * (core.predict on full batches, no decoding).
 *
 *   npm run build && flock /tmp/bench.lock npm run bench:eval -- --data DIR [options]
 *
 *   --data DIR        folder of images (required), e.g. a folder of 2,000 photos
 *   --model FILE      model file; default: configs/cnn.json's network with random weights and its
 *                     preprocessing (the speed does not depend on the weights), written to a temporary folder
 *   --runs N          end-to-end runs (default 5); the figures are medians
 *   --batch-size N    passed to nn-eval (default: nn-eval's own)
 *   --batch-sizes LIST  several batch sizes, e.g. 8,16,32,64: each round runs this checkout's nn-eval
 *                     once per size, alternating (how nn-eval's default was chosen); one line per size
 *   --workers N       passed to nn-eval (default: nn-eval's own)
 *   --tta flip|shifts passed to nn-eval as --tta or --tta-shifts (2 or 18 forward passes an image;
 *                     the parts below stay one pass an image)
 *   --compare DIR     another checkout (built) of nn-train: its bin/nn-eval.js runs too, alternating
 *                     with this one's, so both see the same load on a shared machine
 *   --no-parts        skip the decode-only and inference-only measurements
 *
 * Progress on stderr; a table and, last, one JSON line on stdout:
 *   {"bench":"eval","images":N,"runs":R,"batchSize":B|null,"tta":"flip"|"shifts"|null,"imagesPerSecond":X,"compareImagesPerSecond":Y|null,"bySize":{B:X}|null,
 *    "decodeImagesPerSecond":D,"inferImagesPerSecond":I,"model":"..."}
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reportError } from '../cli/common.ts';
import { defaultEvalBatchSize } from '../cli/eval-options.ts';
import { loadConfigFile } from '../config/load.ts';
import { networkSpec } from '../config/schema.ts';
import { createCore } from '../core/index.ts';
import { decodeSettingsOf } from '../data/decode.ts';
import { decodeStream } from '../data/decode-stream.ts';
import { findImages } from '../data/find.ts';
import { shiftedGeometry } from '../data/preprocessing.ts';
import { maxTtaViews, TTA_MODES, type TtaMode } from '../data/tta.ts';
import { EXIT, UserError } from '../errors.ts';
import { evalCoreSplit, evalDecoding, type CoreSplit } from '../eval/decode-inputs.ts';
import { readModelFile, writeModelFile } from '../io/model-file.ts';
import type { Model } from '../io/model-file.ts';
import { initParams } from '../nn/init.ts';
import { planNetwork } from '../nn/plan.ts';
import { Rng } from '../random/rng.ts';
import { median, positiveOption as positive } from './common.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

/** configs/cnn.json's network with random weights and the preprocessing training would record (mean/std made up). */
function writeRandomCnnModel(dir: string): string {
  const config = loadConfigFile(join(ROOT, 'configs', 'cnn.json'));
  const network = networkSpec(config);
  const plan = planNetwork(network);
  const params = new Float32Array(plan.paramCount);
  initParams(plan, params, new Rng(1));
  const { width, height, channels, fit, resize, shift } = config.data;
  const path = join(dir, 'random-cnn.json');
  writeModelFile(path, {
    network,
    preprocessing: { width, height, channels, fit, resize, ...shiftedGeometry(width, height, shift), scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    params,
    stats: new Float32Array(plan.statCount),
    meta: { note: 'random weights of configs/cnn.json, for benchmarks' },
  });
  return path;
}

/** Runs `node SCRIPT args` with stdout counted and thrown away; its wall time in seconds and its line count. */
function timeCommand(script: string, args: string[]): Promise<{ seconds: number; lines: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${script} exited with ${code}: ${stderr.trim().split('\n').pop()}`));
      else resolvePromise({ seconds: (performance.now() - started) / 1000, lines });
    });
  });
}

/** Decoding alone, as nn-eval decodes (its decoder processes and lookahead), the bytes thrown away. */
async function decodeOnly(model: Model, paths: string[], batchSize: number, { decoderProcesses }: CoreSplit): Promise<number> {
  const started = performance.now();
  let n = 0;
  const inputs = paths.map((path) => ({ path, reason: null }));
  for await (const e of decodeStream(inputs, decodeSettingsOf(model.preprocessing), { expected: paths.length, ...evalDecoding(batchSize, decoderProcesses) })) if (e !== 'idle') n++;
  return n / ((performance.now() - started) / 1000);
}

/** core.predict alone on full batches of made-up inputs, about `images` of them, with nn-eval's core threads. */
async function inferOnly(model: Model, images: number, batchSize: number, { coreThreads }: CoreSplit): Promise<number> {
  const core = await createCore({ network: model.network, maxBatch: batchSize, loss: 'bce', warmUp: 'inference', workers: coreThreads });
  try {
    core.params.set(model.params);
    core.stats.set(model.stats);
    for (let i = 0; i < core.input.length; i++) core.input[i] = Math.sin(i);
    const out = new Float32Array(batchSize);
    const batches = Math.max(1, Math.round(images / batchSize));
    const started = performance.now();
    for (let b = 0; b < batches; b++) core.predict(batchSize, out);
    return (batches * batchSize) / ((performance.now() - started) / 1000);
  } finally {
    await core.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      model: { type: 'string' },
      runs: { type: 'string' },
      'batch-size': { type: 'string' },
      'batch-sizes': { type: 'string' },
      workers: { type: 'string' },
      compare: { type: 'string' },
      tta: { type: 'string' },
      'no-parts': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.data === undefined) throw new UserError('give the folder of images: --data DIR');
  const runs = positive('runs', values.runs, 5);
  const batchSize = values['batch-size'] === undefined ? null : positive('batch-size', values['batch-size'], 1);
  const sweep = values['batch-sizes'] === undefined ? [] : values['batch-sizes'].split(',').map((b) => positive('batch-sizes', b.trim(), 1));
  if (sweep.length > 0 && (batchSize !== null || values.compare !== undefined)) throw new UserError('--batch-sizes goes without --batch-size and --compare');
  const workers = values.workers === undefined ? undefined : positive('workers', values.workers, 1);
  const tta = (values.tta ?? null) as TtaMode | null;
  if (tta !== null && !(TTA_MODES as readonly string[]).includes(tta)) throw new UserError(`--tta: one of ${TTA_MODES.join(', ')}, got ${tta}`);
  const found = await findImages(values.data);
  const paths = found.files.map((f) => f.path);
  if (paths.length === 0) throw new UserError(`${values.data}: no images`);

  const tmp = mkdtempSync(join(tmpdir(), 'nn-bench-eval-'));
  try {
    const modelPath = values.model ?? writeRandomCnnModel(tmp);
    const model = readModelFile(modelPath);
    const modelName = values.model ?? 'configs/cnn.json, random weights';
    const args = [modelPath, values.data, '--quiet', '--no-progress'];
    if (batchSize !== null) args.push('--batch-size', String(batchSize));
    if (workers !== undefined) args.push('--workers', String(workers));
    const ttaFlag = tta === null ? null : tta === 'shifts' ? '--tta-shifts' : '--tta';
    if (ttaFlag !== null) args.push(ttaFlag);
    const ours = join(ROOT, 'bin', 'nn-eval.js');
    const commands: { name: string; script: string; args: string[] }[] =
      sweep.length > 0 ? sweep.map((b) => ({ name: `batch ${b}`, script: ours, args: [...args, '--batch-size', String(b)] })) : [{ name: 'this checkout', script: ours, args }];
    if (values.compare !== undefined) commands.push({ name: values.compare, script: join(resolve(values.compare), 'bin', 'nn-eval.js'), args });
    process.stderr.write(`bench:eval: ${paths.length} images from ${values.data}, model ${modelName}, nn-eval ${args.slice(2).join(' ')}, ${runs} runs${commands.length > 1 ? ' each, alternating' : ''}\n`);

    const rates: number[][] = commands.map(() => []);
    for (let r = 0; r < runs; r++) {
      for (const [c, command] of commands.entries()) {
        const { seconds, lines } = await timeCommand(command.script, command.args);
        if (lines !== paths.length) throw new Error(`${command.name}: ${lines} lines of output for ${paths.length} images`);
        rates[c]!.push(paths.length / seconds);
        process.stderr.write(`  run ${r + 1}, ${command.name}: ${seconds.toFixed(2)} s, ${Math.round(paths.length / seconds)} images/s\n`);
      }
    }
    const B = batchSize ?? defaultEvalBatchSize(tta);
    const split = evalCoreSplit(workers ?? null, maxTtaViews(tta));
    let decodeRate: number | null = null;
    let inferRate: number | null = null;
    if (!values['no-parts']) {
      decodeRate = median([await decodeOnly(model, paths, B, split), await decodeOnly(model, paths, B, split), await decodeOnly(model, paths, B, split)]);
      process.stderr.write(`  decoding alone: ${Math.round(decodeRate)} images/s\n`);
      inferRate = median([await inferOnly(model, paths.length, B, split), await inferOnly(model, paths.length, B, split), await inferOnly(model, paths.length, B, split)]);
      process.stderr.write(`  inference alone: ${Math.round(inferRate)} images/s\n`);
    }

    const result = {
      bench: 'eval',
      images: paths.length,
      runs,
      batchSize: B,
      tta,
      // With --batch-sizes: nn-eval's default batch, if it was one of them (bySize has them all).
      imagesPerSecond: sweep.length === 0 ? Math.round(median(rates[0]!)) : sweep.includes(B) ? Math.round(median(rates[sweep.indexOf(B)]!)) : null,
      compareImagesPerSecond: values.compare !== undefined ? Math.round(median(rates[1]!)) : null,
      bySize: sweep.length > 0 ? Object.fromEntries(sweep.map((b, i) => [b, Math.round(median(rates[i]!))])) : null,
      decodeImagesPerSecond: decodeRate === null ? null : Math.round(decodeRate),
      inferImagesPerSecond: inferRate === null ? null : Math.round(inferRate),
      model: modelName,
    };
    if (sweep.length > 0) {
      for (const [i, command] of commands.entries()) process.stdout.write(`nn-eval end to end, ${command.name}, fresh start (median of ${runs})\t${Math.round(median(rates[i]!))} images/s\n`);
    } else {
      process.stdout.write(`nn-eval${ttaFlag === null ? '' : ` ${ttaFlag}`} end to end, fresh start (median of ${runs})\t${result.imagesPerSecond} images/s\n`);
    }
    if (result.compareImagesPerSecond !== null) process.stdout.write(`${values.compare}'s nn-eval, same runs interleaved\t${result.compareImagesPerSecond} images/s\n`);
    if (decodeRate !== null) process.stdout.write(`decoding alone (median of 3)\t${result.decodeImagesPerSecond} images/s\n`);
    if (inferRate !== null) process.stdout.write(`inference alone, batch ${B} (median of 3)\t${result.inferImagesPerSecond} images/s\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return EXIT.ok;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => (process.exitCode = reportError('bench:eval', err)),
);
