/**
 * The training loop: data -> network -> epochs of mini-batches -> validation -> run folder.
 *
 * It is a library function: the CLI passes a config, a run folder and an event sink, and gets back
 * how the run ended. Every random choice comes from the seed (init: Rng(seed); epoch e's shuffle
 * and flips: Rng(epochSeed(seed, e)); dropout: the counter-based noise of (seed, step, layer)), and
 * a checkpoint records the position inside the epoch, so a resumed run repeats exactly what an
 * uninterrupted one would have done.
 */
import { constants } from 'node:buffer';
import { networkSpec, type Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { Checkpoint, EpochMetrics } from '../io/checkpoint.ts';
import { readModelFile } from '../io/model-file.ts';
import type { TtaMode } from '../data/tta.ts';
import { validateWithTta } from './tta-validation.ts';
import { initParams } from '../nn/init.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { planNetwork, type NetworkPlan } from '../nn/plan.ts';
import { Rng } from '../random/rng.ts';
import { ExponentiallyWeightedAverage } from '../optim/ewa.ts';
import { batchCount, writeBatch } from '../data/batches.ts';
import { EpochBatches } from './epoch-batches.ts';
import { offerImages, prepareData, type PreparedData } from './data.ts';
import { gradientMethod, type Engine, type TrainMethod } from './engine.ts';
import type { EventSink } from './events.ts';
import type { RunFolder } from './run-folder.ts';
import { layerRows } from '../report/layer-table.ts';

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
  /**
   * Aborted (the first Ctrl-C) while the images load or the core starts: train() stops there and
   * rejects with signal.reason, having trained and written nothing.
   */
  signal?: AbortSignal;
  /** Creates the gradient core; tests may pass the single-thread kernel. */
  createEngine: (network: NetworkSpec, maxBatch: number, config: Config) => Promise<Engine>;
  /** Where the network runs, in words, for the start line ("gpu, nvidia nvidia-h200"; absent: not said). */
  device?: string;
  /** Builds a method for optimizer types the loop does not know itself (the genetic algorithm). */
  createMethod?: (engine: Engine, config: Config, plan: NetworkPlan, rng: Rng) => TrainMethod;
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

/** Where a run is: everything a checkpoint holds besides the config, weights and optimizer state. */
type Position = Pick<Checkpoint, 'epoch' | 'batch' | 'step' | 'history' | 'best' | 'stale' | 'partial'>;

/** What the steps of a run share. */
interface Run {
  opts: TrainOptions;
  config: Config;
  data: PreparedData;
  network: NetworkSpec;
  plan: NetworkPlan;
  engine: Engine;
  method: TrainMethod;
  /** Images per training batch, batches per epoch, images per validation batch. */
  batchSize: number;
  batchesPerEpoch: number;
  evalBatch: number;
  smoothing: ExponentiallyWeightedAverage;
  at: Position;
  batches: EpochBatches;
  /** Reused every epoch: the validation probabilities. */
  probabilities: Float32Array;
}

type Stop = { status: Exclude<TrainStatus, 'completed'>; message?: string } | null;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const data = await prepareData(opts.config, opts.onEvent, opts.resume?.normalization ?? null, opts.signal);
  const run = await startRun(opts, data);
  try {
    announce(run);
    let stop: Stop = null;
    while (stop === null && run.at.epoch < run.config.training.epochs) {
      stop = await trainEpoch(run);
      if (stop === null) stop = finishEpoch(run, validate(run));
    }
    const { tta } = run.config.training;
    if ((stop === null || stop.status === 'early-stopped') && tta !== null && run.at.best !== null && !(await validateBestWithTta(run, tta))) {
      stop = { status: 'interrupted', message: 'interrupted during the test-time augmentation of the best model; the model and the checkpoint are complete' };
    }
    const { history, best } = run.at;
    return { status: stop?.status ?? 'completed', history, best, seconds: (performance.now() - started) / 1000, ...(stop?.message ? { message: stop.message } : {}) };
  } finally {
    await run.engine.close();
  }
}

/** The network, the core, the method and the starting position: fresh (seeded init) or the checkpoint's. */
async function startRun(opts: TrainOptions, data: PreparedData): Promise<Run> {
  const { config, folder } = opts;
  const resume = opts.resume ?? null;
  if (resume && resume.dataset.fingerprint !== data.fingerprint) {
    throw new UserError(
      `${folder.dir}: the images in ${config.data.train} changed since this run started (${resume.dataset.images} then, ${data.pixelsCount} now, or other files); resume needs the same data`,
    );
  }
  const network = networkSpec(config);
  const plan = planNetwork(network);
  const nTrain = data.train.length;
  const batchSize = config.training.batchSize === 'full' ? nTrain : Math.min(config.training.batchSize, nTrain);
  const evalBatch = Math.max(batchSize, Math.min(256, data.validation.length));
  const batchesPerEpoch = batchCount(nTrain, batchSize);
  const engine = await opts.createEngine(network, Math.max(batchSize, evalBatch), config);
  try {
    opts.signal?.throwIfAborted(); // stopped while the core started: before the first batch
    offerImages(engine, data, opts.onEvent);
    const method =
      config.optimizer.type === 'genetic'
        ? requireGenetic(opts)(engine, config, plan, new Rng(config.training.seed ^ 0x6a09e667))
        : gradientMethod(engine, config.optimizer, batchesPerEpoch, batchesPerEpoch * config.training.epochs);
    refuseUnsavable(engine, method, config);
    const smoothing = new ExponentiallyWeightedAverage(0.98, true);
    let at: Position = { epoch: 0, batch: 0, step: 0, history: [], best: null, stale: 0, partial: { lossSum: 0, images: 0, seconds: 0 } };
    if (resume) {
      checkResumable(resume, plan, batchesPerEpoch, config, folder.checkpointPath);
      engine.params.set(resume.params);
      engine.stats.set(resume.stats);
      try {
        method.loadState(resume.optimizer);
      } catch (err) {
        // The state comes from the file: a mismatch (buffer sizes, another optimizer) is the file's defect.
        throw new UserError(`${folder.checkpointPath}: bad checkpoint: optimizer: ${(err as Error).message}`);
      }
      const { epoch, batch, step, history, best, stale, partial } = resume;
      at = { epoch, batch, step, history: [...history], best, stale, partial: { ...partial } };
      smoothing.setState(resume.smoothing);
    } else {
      initParams(plan, engine.params, new Rng(config.training.seed), config.model.init);
    }
    return {
      opts,
      config,
      data,
      network,
      plan,
      engine,
      method,
      batchSize,
      batchesPerEpoch,
      evalBatch,
      smoothing,
      at,
      batches: new EpochBatches(data, config, batchSize),
      probabilities: new Float32Array(evalBatch),
    };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

function announce(run: Run): void {
  const { opts, config, engine, at } = run;
  opts.onEvent({
    event: 'start',
    runDir: opts.folder.dir,
    name: opts.name,
    epochs: config.training.epochs,
    firstEpoch: at.epoch + 1,
    batchesPerEpoch: run.batchesPerEpoch,
    batchSize: run.batchSize,
    parameters: run.plan.paramCount,
    layers: layerRows(run.plan),
    statistics: run.plan.statCount,
    optimizer: config.optimizer.type,
    kernel: engine.kernel,
    workers: engine.workers,
    ...(opts.device !== undefined ? { device: opts.device } : {}),
    ...(engine.rows ? { imagesOnDevice: true } : {}),
    resumed: opts.resume != null,
  });
}

/**
 * The rest of the current epoch's batches; stops early on divergence or when asked to (then
 * checkpoints). With a method whose losses come back late (the GPU core runs a few steps ahead of
 * its results), each loss is counted when it arrives, against the batch it belongs to, and all are
 * in before a checkpoint or the end of the epoch.
 */
async function trainEpoch(run: Run): Promise<Stop> {
  const { engine, method, at, batches } = run;
  batches.start(at.epoch);
  const epochStart = performance.now() - at.partial.seconds * 1000;
  const late = method.takeLosses ? method : null;
  /** Images of each batch whose loss has not come back yet, oldest first. */
  const pending: number[] = [];
  let pendingBatch = at.batch;
  let stop: Stop = null;
  const account = (loss: number, n: number, batch: number): void => {
    if (stop !== null) return;
    if (!Number.isFinite(loss) || loss > DIVERGED_LOSS) {
      stop = { status: 'diverged', message: divergedMessage(run, loss) };
      return;
    }
    at.partial.lossSum += loss * n;
    at.partial.images += n;
    at.partial.seconds = (performance.now() - epochStart) / 1000;
    const extra = method.batchExtra?.();
    run.opts.onEvent({
      event: 'batch',
      epoch: at.epoch + 1,
      batch: batch + 1,
      batches: run.batchesPerEpoch,
      loss,
      smoothedLoss: run.smoothing.push(loss),
      imagesPerSecond: at.partial.images / Math.max(at.partial.seconds, 1e-9),
      ...(extra ? { extra } : {}),
    });
  };
  const arrived = (loss: number) => account(loss, pending.shift()!, pendingBatch++);
  for (; at.batch < run.batchesPerEpoch; at.batch++) {
    const n = batches.fill(at.batch, engine);
    const loss = method.trainBatch(n, at.step);
    at.step++;
    if (late) {
      pending.push(n);
      late.takeLosses!(false, arrived);
    } else {
      account(loss, n, at.batch);
    }
    if (stop !== null) return stop;
    await yieldToEventLoop(); // lets Ctrl-C and progress redraws through
    if (run.opts.shouldStop?.() && at.batch + 1 < run.batchesPerEpoch) {
      late?.takeLosses!(true, arrived);
      if (stop !== null) return stop;
      at.batch++;
      run.opts.folder.writeCheckpoint(checkpoint(run));
      return { status: 'interrupted' };
    }
  }
  late?.takeLosses!(true, arrived);
  if (stop !== null) return stop;
  at.partial.seconds = (performance.now() - epochStart) / 1000;
  return null;
}

/** Validation of the epoch's weights: the epoch's metrics. */
function validate(run: Run): EpochMetrics {
  const { data, engine, method, at, probabilities, evalBatch } = run;
  const nVal = data.validation.length;
  const started = performance.now();
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < nVal; start += evalBatch) {
    const n = Math.min(evalBatch, nVal - start);
    writeBatch(data.source, data.validation, start, n, engine, null);
    lossSum += engine.evaluate(n, probabilities) * n;
    for (let i = 0; i < n; i++) if (probabilities[i]! >= 0.5 === engine.labels[i]! >= 0.5) correct++;
  }
  const seconds = at.partial.seconds + (performance.now() - started) / 1000; // the epoch's time includes its validation
  return {
    epoch: at.epoch + 1,
    trainLoss: at.partial.lossSum / at.partial.images,
    valLoss: nVal > 0 ? lossSum / nVal : NaN,
    valAccuracy: nVal > 0 ? correct / nVal : NaN,
    seconds,
    imagesPerSecond: at.partial.images / Math.max(seconds, 1e-9),
    lr: method.learningRate(Math.max(0, at.step - 1)),
    kernel: engine.kernel,
    workers: engine.workers,
  };
}

/**
 * training.tta: the best model (model.json) validated again with test-time augmentation; the
 * figures go to the event stream and into the model file's meta (`tta`). false when asked to stop
 * before the end (the files stay as they were).
 */
async function validateBestWithTta(run: Run, mode: TtaMode): Promise<boolean> {
  const { opts, engine, data } = run;
  const started = performance.now();
  const model = readModelFile(opts.folder.modelPath);
  engine.params.set(model.params);
  engine.stats.set(model.stats);
  const result = await validateWithTta(engine, data, mode, run.evalBatch, run.probabilities, () => opts.shouldStop?.() ?? false);
  if (result === null) return false;
  opts.folder.writeModel({ ...model, meta: { ...model.meta, tta: { ...result } } });
  opts.onEvent({ event: 'tta', epoch: run.at.best!.epoch, seconds: (performance.now() - started) / 1000, ...result });
  return true;
}

/** The end of an epoch: the best model, metrics, the checkpoint; then early stopping or a requested stop. */
function finishEpoch(run: Run, metrics: EpochMetrics): Stop {
  const { opts, config, engine, at } = run;
  if (!Number.isFinite(metrics.valLoss) || !allFinite(engine.params)) {
    return { status: 'diverged', message: `training diverged in epoch ${at.epoch + 1}: the weights are no longer finite numbers; try a lower learning rate` };
  }
  const improved = at.best === null || metrics.valLoss < at.best.valLoss;
  if (improved) {
    at.best = { epoch: metrics.epoch, valLoss: metrics.valLoss, valAccuracy: metrics.valAccuracy };
    at.stale = 0;
    const meta = { name: opts.name, epoch: metrics.epoch, valLoss: metrics.valLoss, valAccuracy: metrics.valAccuracy, optimizer: config.optimizer.type, seed: config.training.seed };
    opts.folder.writeModel({ network: run.network, preprocessing: run.data.preprocessing, params: engine.params, stats: engine.stats, meta });
  } else {
    at.stale++;
  }
  at.history.push(metrics);
  const extra = run.method.epochExtra?.();
  opts.onEvent({ event: 'epoch', epochs: config.training.epochs, ...metrics, best: improved, ...(extra ? { extra } : {}) });
  at.epoch++;
  at.batch = 0;
  at.partial = { lossSum: 0, images: 0, seconds: 0 };
  opts.folder.writeMetrics(at.history);
  opts.folder.writeCheckpoint(checkpoint(run));

  const { patience, epochs } = config.training;
  if (at.epoch >= epochs) return null;
  if (patience !== null && at.stale >= patience) {
    return { status: 'early-stopped', message: `no better validation loss for ${at.stale} epochs (patience ${patience})` };
  }
  if (opts.shouldStop?.()) return { status: 'interrupted' };
  return null;
}

function checkpoint(run: Run): Checkpoint {
  const { at } = run;
  return {
    config: run.config,
    ...at,
    params: run.engine.params,
    stats: run.engine.stats,
    optimizer: run.method.saveState(),
    smoothing: run.smoothing.getState(),
    dataset: { images: run.data.pixelsCount, fingerprint: run.data.fingerprint },
    normalization: run.data.normalization,
  };
}

function divergedMessage(run: Run, loss: number): string {
  const { config, method, at } = run;
  const lr = method.learningRate(at.step);
  return (
    `training diverged at epoch ${at.epoch + 1}, batch ${at.batch + 1}: the batch loss is ${loss}` +
    (lr !== null ? `; try a lower learning rate than ${lr} (for example --lr ${+(lr / 10).toPrecision(2)})` : '') +
    (config.optimizer.type === 'genetic' ? `; try a smaller optimizer.mutationScale than ${config.optimizer.mutationScale}` : '') +
    (at.best ? `; the best model so far (epoch ${at.best.epoch}) is intact` : '')
  );
}

/**
 * A checkpoint must fit the network and the batches its config gives (decodeCheckpoint checked its
 * structure only): the weight and statistics counts, the position in the epoch, and the
 * standardisation statistics. Otherwise engine.params.set would load a shorter vector silently, or
 * the loop would start past the end of an epoch.
 */
function checkResumable(c: Checkpoint, plan: NetworkPlan, batchesPerEpoch: number, config: Config, path: string): void {
  const bad = (what: string): never => {
    throw new UserError(`${path}: bad checkpoint: ${what}`);
  };
  if (c.params.length !== plan.paramCount) bad(`params: holds ${c.params.length} weights, the network of its config has ${plan.paramCount}`);
  if (c.stats.length !== plan.statCount) bad(`stats: holds ${c.stats.length} statistics, the network of its config has ${plan.statCount}`);
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
 * refused before training.
 */
function refuseUnsavable(engine: Engine, method: TrainMethod, config: Config): void {
  const stateFloats = Object.values(method.saveState().buffers).reduce((n, b) => n + b.length, 0);
  const tooLarge = checkpointTooLarge(engine.params.length + engine.stats.length + stateFloats);
  if (tooLarge) {
    throw new UserError(
      `the network's ${engine.params.length.toLocaleString('en-US')} weights and the ${config.optimizer.type} state make a checkpoint of ${tooLarge}; ` +
        `use a smaller network${config.optimizer.type === 'genetic' ? ' or optimizer.population' : ''}`,
    );
  }
}

/** Why a checkpoint of `floats` values is too large to write, or null. (`limit` is for tests.) */
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
