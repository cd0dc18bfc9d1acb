/**
 * nn-eval's speed, end to end: images per second from a folder of images to predictions
 * (list the folder, decode and resize with the training pipeline, convert, forward pass in the
 * gradient core, format TSV lines), as `nn-eval model.json DIR` does it minus process start-up.
 *
 *   npm run build && flock /tmp/bench.lock npm run bench:eval -- --data DIR [options]
 *
 *   --data DIR        folder of images (required), e.g. data/train
 *   --model FILE      model file; default: a randomly initialised model of the reference network
 *                     (64x64x3 -> 256 -> 64 -> 1, ReLU), written to a temporary folder and read back
 *   --runs N          timed runs (default 5); the figures are medians
 *   --limit N         only the first N images of DIR (default: all)
 *   --batch-size N    images per forward pass (default: nn-eval's, 256)
 *   --workers N       core threads (default: one per core)
 *   --kernel NAME     auto | relaxed-simd | simd | js
 *   --decode-only     skip the forward pass (the decoding ceiling, for comparison)
 *
 * The core is started once (its start-up is reported apart); each run decodes every image again
 * (the decoded-pixel cache of training is not used by nn-eval). Progress on stderr; a table and,
 * last, one JSON line on stdout:
 *   {"bench":"eval","images":N,"runs":R,"workers":W,"kernel":K,"batchSize":B,"decoderProcesses":P,
 *    "imagesPerSecond":X,"forwardImagesPerSecond":Y,"coreStartSeconds":S,"model":"..."}
 * imagesPerSecond is the end-to-end rate (median over runs); forwardImagesPerSecond counts only
 * the time spent in core.predict.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reportError } from '../cli/common.ts';
import { EVAL_DEFAULTS } from '../cli/eval-options.ts';
import { createCore } from '../core/index.ts';
import type { KernelChoice } from '../core/index.ts';
import { decoderProcessCount } from '../data/decode-stream.ts';
import { EXIT, UserError } from '../errors.ts';
import { decodeInputs } from '../eval/decode-inputs.ts';
import { createFormatter } from '../eval/formats.ts';
import { inputItems, labelOfFile, listImageFolder, planInputs, plannedCount, type InputPlan } from '../eval/inputs.ts';
import { predictBatches } from '../eval/predict.ts';
import { readModelFile, writeModelFile } from '../io/model-file.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { denseStack, planNetwork } from '../nn/plan.ts';
import { initParams } from '../nn/init.ts';
import type { Model } from '../io/model-file.ts';
import { Rng } from '../random/rng.ts';
import { median, positiveOption as positive } from './common.ts';

const REFERENCE: NetworkSpec = { input: { height: 64, width: 64, channels: 3 }, layers: denseStack([256, 64], 'relu') };



/** A random model of the reference network, written and read back like any model file. */
function referenceModel(): Model {
  const dir = mkdtempSync(join(tmpdir(), 'nn-bench-eval-'));
  try {
    const plan = planNetwork(REFERENCE);
    const params = new Float32Array(plan.paramCount);
    initParams(plan, params, new Rng(1));
    const path = join(dir, 'random-model.json');
    writeModelFile(path, {
      network: REFERENCE,
      preprocessing: { width: 64, height: 64, channels: 3, fit: 'fill', resize: 'linear', scale: 1 / 255, mean: null, std: null },
      params,
      stats: new Float32Array(plan.statCount),
      meta: { note: 'random initialisation, for benchmarks' },
    });
    return readModelFile(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      model: { type: 'string' },
      runs: { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      workers: { type: 'string' },
      kernel: { type: 'string' },
      'decode-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.data === undefined) throw new UserError('give the folder of images: --data DIR (e.g. data/train)');
  const runs = positive('runs', values.runs, 5);
  const batchSize = positive('batch-size', values['batch-size'], EVAL_DEFAULTS.batchSize);
  const workers = values.workers === undefined ? undefined : positive('workers', values.workers, 1);
  const kernel = (values.kernel ?? 'auto') as KernelChoice;
  const decodeOnly = values['decode-only'] === true;
  const model = values.model === undefined ? referenceModel() : readModelFile(values.model);
  const modelName = `${model.network.layers.map((l) => l.type).join('-')}${values.model === undefined ? ' (random MLP 12288-256-64-1)' : ` (${values.model})`}`;

  let plan: InputPlan = await planInputs([values.data], { listFolder: listImageFolder, labelFile: labelOfFile });
  if (values.limit !== undefined) plan = [plan.flatMap((part) => (part === 'stdin' ? [] : part)).slice(0, positive('limit', values.limit, 1))];
  const images = plannedCount(plan)!;

  const coreStart = performance.now();
  const core = await createCore({ network: model.network, maxBatch: batchSize, loss: 'bce', kernel, ...(workers !== undefined ? { workers } : {}) });
  const coreStartSeconds = (performance.now() - coreStart) / 1000;
  core.params.set(model.params);
  core.stats.set(model.stats);
  let forwardSeconds = 0;
  const engine = {
    input: core.input,
    predict(B: number, out: Float32Array): void {
      const t = performance.now();
      if (decodeOnly) out.fill(0.5, 0, B);
      else core.predict(B, out);
      forwardSeconds += (performance.now() - t) / 1000;
    },
  };
  const processes = decoderProcessCount(images);
  process.stderr.write(`bench:eval: ${images} images from ${values.data}, model ${modelName}, core ${core.kernel} x${core.workers} (started in ${coreStartSeconds.toFixed(2)} s), ${processes} decoder processes, batch ${batchSize}, ${runs} runs${decodeOnly ? ', DECODE ONLY (no forward pass)' : ''}\n`);

  const rates: number[] = [];
  const forwardRates: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      forwardSeconds = 0;
      let predicted = 0;
      let skipped = 0;
      let bytes = 0;
      const formatter = createFormatter('tsv', { threshold: 0.5, clip: 0.005 });
      const t0 = performance.now();
      const decoded = decodeInputs(inputItems(plan, { listFolder: listImageFolder, labelFile: labelOfFile, stdin: () => process.stdin }), model.preprocessing, { expected: images });
      for await (const batch of predictBatches(decoded, model.preprocessing, engine, batchSize)) {
        predicted += batch.predictions.length;
        skipped += batch.skipped.length;
        bytes += formatter.batch(batch.predictions).length;
      }
      const seconds = (performance.now() - t0) / 1000;
      rates.push(predicted / seconds);
      forwardRates.push(predicted / forwardSeconds);
      process.stderr.write(
        `  run ${r + 1}: ${predicted} predicted, ${skipped} skipped, ${seconds.toFixed(2)} s, ${Math.round(predicted / seconds)} images/s end to end, forward ${forwardSeconds.toFixed(2)} s (${bytes} bytes of TSV)\n`,
      );
    }
  } finally {
    await core.close();
  }
  const result = {
    bench: 'eval',
    images,
    runs,
    workers: core.workers,
    kernel: core.kernel,
    batchSize,
    decodeOnly,
    decoderProcesses: processes,
    imagesPerSecond: Math.round(median(rates)),
    forwardImagesPerSecond: decodeOnly ? null : Math.round(median(forwardRates)),
    coreStartSeconds: Number(coreStartSeconds.toFixed(3)),
    model: modelName,
  };
  process.stdout.write(`images/s end to end (median of ${runs})\t${result.imagesPerSecond}\n`);
  if (!decodeOnly) process.stdout.write(`images/s in the forward pass alone\t${result.forwardImagesPerSecond}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return EXIT.ok;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => (process.exitCode = reportError('bench:eval', err)),
);
