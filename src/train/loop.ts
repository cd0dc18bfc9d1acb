/**
 * The training loop: data -> engine -> epochs of mini-batches -> validation -> run folder.
 *
 * It is a library function: the CLI passes a config, a run folder and an event sink, and gets back
 * how the run ended. Every random choice comes from the seed (init: Rng(seed); epoch e's shuffle
 * and flips: Rng(epochSeed(seed, e))), and a checkpoint records the position inside the epoch, so a
 * resumed run repeats exactly what an uninterrupted one would have done.
 */
import { constants } from 'node:buffer';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { parameterCount, type Architecture } from '../nn/architecture.ts';
import { initParams } from '../nn/init.ts';
import { Rng } from '../nn/rng.ts';
import { ExponentiallyWeightedAverage } from '../optim/ewa.ts';
import type { Checkpoint, EpochMetrics } from './checkpoint.ts';
import { batchCount, epochOrder, fillBatch } from '../data/batches.ts';
import { prepareData, type PreparedData } from './data.ts';
import { gradientMethod, type Engine, type TrainMethod } from './engine.ts';
import type { EventSink } from './events.ts';
import type { RunFolder } from './run-folder.ts';

export type TrainStatus = 'completed' | 'early-stopped' | 'interrupted' | 'diverged';

export interface TrainOptions {
  config: Config;
  /** Name of the run (the config file's base name), shown and stored in the model's meta. */
  name: string;
  folder: RunFolder;
  /** A checkpoint to continue from (already checked against the config by the caller). */
  resume?: Checkpoint | null;
  onEvent: EventSink;
  /** Polled after every batch: true asks the loop to checkpoint and stop (the first Ctrl-C). */
  shouldStop?: () => boolean;
  /** Creates the gradient core; tests may pass the single-thread kernel. */
  createEngine: (arch: Architecture, maxBatch: number, config: Config) => Promise<Engine>;
  /** Builds a method for optimizer types the loop does not know itself (the genetic algorithm). */
  createMethod?: (engine: Engine, config: Config, data: PreparedData, rng: Rng) => TrainMethod;
}

export interface TrainResult {
  status: TrainStatus;
  history: EpochMetrics[];
  best: Checkpoint['best'];
  seconds: number;
  message?: string;
}

/** A batch loss above this (or not finite) means the run has diverged: no working model gets there. */
export const DIVERGED_LOSS = 50;


const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config, folder, onEvent } = opts;
  const started = performance.now();
  const resume = opts.resume ?? null;

  const data = await prepareData(config, onEvent, resume?.normalization ?? null);
  if (resume && resume.dataset.fingerprint !== data.fingerprint) {
    throw new UserError(
      `${folder.dir}: the images in ${config.data.train} changed since this run started (${resume.dataset.images} then, ${data.pixelsCount} now, or other files); resume needs the same data`,
    );
  }
  const nTrain = data.train.length;
  const nVal = data.validation.length;
  const B = config.training.batchSize === 'full' ? nTrain : Math.min(config.training.batchSize, nTrain);
  const evalBatch = Math.max(B, Math.min(256, nVal));
  const batchesPerEpoch = batchCount(nTrain, B);
  const totalSteps = batchesPerEpoch * config.training.epochs;
  const arch: Architecture = {
    inputSize: data.preprocessing.width * data.preprocessing.height * data.preprocessing.channels,
    hidden: config.model.hidden,
    activation: config.model.activation,
  };

  const engine = await opts.createEngine(arch, Math.max(B, evalBatch), config);
  try {
    const method =
      config.optimizer.type === 'genetic'
        ? requireGenetic(opts)(engine, config, data, new Rng(config.training.seed ^ 0x6a09e667))
        : gradientMethod(engine, config.optimizer, batchesPerEpoch, totalSteps);
    const stateFloats = Object.values(method.saveState().buffers).reduce((n, b) => n + b.length, 0);
    const tooLarge = checkpointTooLarge(engine.params.length + stateFloats);
    if (tooLarge) {
      throw new UserError(
        `the network's ${engine.params.length.toLocaleString('en-US')} weights and the ${config.optimizer.type} state make a checkpoint of ${tooLarge}; ` +
          `use a smaller network${config.optimizer.type === 'genetic' ? ' or optimizer.population' : ''}`,
      );
    }

    // Where we start: fresh (seeded init) or from the checkpoint.
    let epoch = 0;
    let batch = 0;
    let step = 0;
    let history: EpochMetrics[] = [];
    let best: Checkpoint['best'] = null;
    let stale = 0;
    let partial = { lossSum: 0, images: 0, seconds: 0 };
    const smoothing = new ExponentiallyWeightedAverage(0.98, true);
    if (resume) {
      checkResumable(resume, arch, batchesPerEpoch, config, folder.checkpointPath);
      engine.params.set(resume.params);
      try {
        method.loadState(resume.optimizer);
      } catch (err) {
        // The state comes from the file: a mismatch (buffer sizes, another optimizer) is the file's defect.
        throw new UserError(`${folder.checkpointPath}: bad checkpoint: optimizer: ${(err as Error).message}`);
      }
      ({ epoch, batch, step, history, best, stale, partial } = resume);
      history = [...history];
      smoothing.setState(resume.smoothing);
    } else {
      initParams(arch, engine.params, new Rng(config.training.seed), config.model.init);
    }

    onEvent({
      event: 'start',
      runDir: folder.dir,
      name: opts.name,
      epochs: config.training.epochs,
      firstEpoch: epoch + 1,
      batchesPerEpoch,
      batchSize: B,
      parameters: parameterCount(arch),
      optimizer: config.optimizer.type,
      kernel: engine.kernel,
      workers: engine.workers,
      resumed: resume !== null,
    });

    const order = new Uint32Array(nTrain);
    const probabilities = new Float32Array(evalBatch);
    let status: TrainStatus = 'completed';
    let message: string | undefined;

    const checkpoint = (): Checkpoint => ({
      config,
      epoch,
      batch,
      step,
      params: engine.params,
      optimizer: method.saveState(),
      partial,
      smoothing: smoothing.getState(),
      history,
      best,
      stale,
      dataset: { images: data.pixelsCount, fingerprint: data.fingerprint },
      normalization: data.normalization,
    });

    training: while (epoch < config.training.epochs) {
      // This epoch's order and augmentation depend only on (seed, epoch): a resumed run sees the same ones.
      epochOrder(data.train, config.training.seed, epoch, order);
      data.augmentation?.draw(config.training.seed, epoch);
      let epochStart = performance.now() - partial.seconds * 1000;

      for (; batch < batchesPerEpoch; batch++) {
        const start = batch * B;
        const n = Math.min(B, nTrain - start);
        fillBatch(data.source, order, start, n, engine.input, engine.labels, data.augmentation);
        const loss = method.trainBatch(n, step);
        if (!Number.isFinite(loss) || loss > DIVERGED_LOSS) {
          status = 'diverged';
          const lr = method.learningRate(step);
          message =
            `training diverged at epoch ${epoch + 1}, batch ${batch + 1}: the batch loss is ${loss}` +
            (lr !== null ? `; try a lower learning rate than ${lr} (for example --lr ${+(lr / 10).toPrecision(2)})` : '') +
            (config.optimizer.type === 'genetic' ? `; try a smaller optimizer.mutationScale than ${config.optimizer.mutationScale}` : '') +
            (best ? `; the best model so far (epoch ${best.epoch}) is intact` : '');
          break training;
        }
        step++;
        partial.lossSum += loss * n;
        partial.images += n;
        const smoothed = smoothing.push(loss);
        const elapsed = (performance.now() - epochStart) / 1000;
        const extra = method.batchExtra?.();
        onEvent({
          event: 'batch',
          epoch: epoch + 1,
          batch: batch + 1,
          batches: batchesPerEpoch,
          loss,
          smoothedLoss: smoothed,
          imagesPerSecond: partial.images / Math.max(elapsed, 1e-9),
          ...(extra ? { extra } : {}),
        });
        await yieldToEventLoop(); // lets Ctrl-C and progress redraws through
        if (opts.shouldStop?.() && batch + 1 < batchesPerEpoch) {
          batch++;
          partial.seconds = (performance.now() - epochStart) / 1000;
          folder.writeCheckpoint(checkpoint());
          status = 'interrupted';
          break training;
        }
      }

      // Validation of the epoch's weights.
      let valLossSum = 0;
      let correct = 0;
      for (let start = 0; start < nVal; start += evalBatch) {
        const n = Math.min(evalBatch, nVal - start);
        fillBatch(data.source, data.validation, start, n, engine.input, engine.labels, null);
        valLossSum += engine.evaluate(n) * n;
        engine.predict(n, probabilities);
        for (let i = 0; i < n; i++) if (probabilities[i]! >= 0.5 === engine.labels[i]! >= 0.5) correct++;
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: partial.lossSum / partial.images,
        valLoss: nVal > 0 ? valLossSum / nVal : NaN,
        valAccuracy: nVal > 0 ? correct / nVal : NaN,
        seconds,
        imagesPerSecond: partial.images / seconds,
        lr: method.learningRate(Math.max(0, step - 1)),
        kernel: engine.kernel,
        workers: engine.workers,
      };
      if (!Number.isFinite(metrics.valLoss) || !allFinite(engine.params)) {
        status = 'diverged';
        message = `training diverged in epoch ${epoch + 1}: the weights are no longer finite numbers; try a lower learning rate`;
        break;
      }
      const improved = best === null || metrics.valLoss < best.valLoss;
      if (improved) {
        best = { epoch: metrics.epoch, valLoss: metrics.valLoss, valAccuracy: metrics.valAccuracy };
        stale = 0;
        folder.writeModel(arch, data.preprocessing, engine.params, { name: opts.name, epoch: metrics.epoch, valLoss: metrics.valLoss, valAccuracy: metrics.valAccuracy, optimizer: config.optimizer.type, seed: config.training.seed });
      } else {
        stale++;
      }
      history.push(metrics);
      const extra = method.epochExtra?.();
      onEvent({ event: 'epoch', epochs: config.training.epochs, ...metrics, best: improved, ...(extra ? { extra } : {}) });

      epoch++;
      batch = 0;
      partial = { lossSum: 0, images: 0, seconds: 0 };
      folder.writeMetrics(history);
      folder.writeCheckpoint(checkpoint());
      epochStart = performance.now();

      if (config.training.patience !== null && stale >= config.training.patience && epoch < config.training.epochs) {
        status = 'early-stopped';
        message = `no better validation loss for ${stale} epochs (patience ${config.training.patience})`;
        break;
      }
      if (opts.shouldStop?.() && epoch < config.training.epochs) {
        status = 'interrupted';
        break;
      }
    }
    return { status, history, best, seconds: (performance.now() - started) / 1000, ...(message ? { message } : {}) };
  } finally {
    await engine.close();
  }
}

/**
 * A checkpoint must fit the network and the batches its config gives (decodeCheckpoint checked its
 * structure only): the weight count, the position in the epoch, and the standardisation statistics.
 * Otherwise engine.params.set would load a shorter vector silently, or the loop would start past
 * the end of an epoch.
 */
function checkResumable(c: Checkpoint, arch: Architecture, batchesPerEpoch: number, config: Config, path: string): void {
  const bad = (what: string): never => {
    throw new UserError(`${path}: bad checkpoint: ${what}`);
  };
  const count = parameterCount(arch);
  if (c.params.length !== count) bad(`params: holds ${c.params.length} weights, the network of its config has ${count}`);
  if (c.batch >= batchesPerEpoch || c.step !== c.epoch * batchesPerEpoch + c.batch) {
    bad(`epoch ${c.epoch}, batch ${c.batch}, step ${c.step} is not a position of a run with ${batchesPerEpoch} batches per epoch`);
  }
  const stats = c.normalization;
  if (config.data.standardize && (stats === null || stats.mean.length !== config.data.channels || stats.std.length !== config.data.channels)) {
    bad(`normalization: expected the mean and std of ${config.data.channels} channels (data.standardize is on)`);
  }
}

/**
 * The checkpoint is one JSON text with every float buffer in base64 (4 characters per 3 bytes), and
 * a JavaScript string holds at most MAX_STRING_LENGTH characters (2^29 - 24 in V8). A run whose
 * checkpoint cannot be encoded would train a whole epoch and then fail to save anything, so it is
 * refused before training. Returns why it is too large, or null. (`limit` is for tests.)
 */
export function checkpointTooLarge(floats: number, limit = constants.MAX_STRING_LENGTH): string | null {
  const characters = 4 * Math.ceil((floats * 4) / 3) + 1_000_000; // + the rest (config, history): far less than 1 MB
  if (characters <= limit) return null;
  const mb = (n: number) => `${Math.round(n / 2 ** 20).toLocaleString('en-US')} MB`;
  return `${mb(characters)} of text, more than the ${mb(limit)} a JavaScript string can hold`;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

function requireGenetic(opts: TrainOptions): NonNullable<TrainOptions['createMethod']> {
  if (!opts.createMethod) throw new Error('the genetic algorithm needs createMethod');
  return opts.createMethod;
}

