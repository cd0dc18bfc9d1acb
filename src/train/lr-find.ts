/**
 * The learning-rate finder (Smith, "Cyclical Learning Rates", 2017; the "LR range test"): train
 * from the seeded start for a few hundred batches while the learning rate grows exponentially,
 *
 *   lr_i = minLr * (maxLr / minLr)^(i / (steps - 1)),   i = 0 .. steps - 1,
 *
 * record the loss of each batch, smooth it with a bias-corrected exponentially weighted average
 * (beta 0.98, as the training display does), and stop early once the smoothed loss has blown up
 * (over 4x its minimum, or not finite). Nothing is saved but the curve: the weights are thrown
 * away, so the config and the run folder of a real run are untouched.
 *
 * The suggestion (suggestLearningRate) is the smaller of two rates read off the smoothed curve:
 *   - halfway down: the first rate at which the smoothed loss has made half of its fall, from its
 *     highest point to its minimum. Training there makes good progress and is far from the edge;
 *   - a decade below the minimum (fastai's `lr_min / 10`): past the minimum the rate is too large,
 *     and a tenth of it keeps a margin for a whole run.
 * Why not the minimum alone: the range test reaches its minimum with a network already trained by
 * the smaller rates before it, and with Adam's moments already estimated. A fresh run starts
 * without either: Adam at a tenth of the minimum found on configs/cnn-small.json (0.017) blew up
 * in its second batch. Why not the steepest descent (the usual second reading): on the noisy curves
 * of real runs (dropout, augmentation, batch norm) it was a ripple of the noise three decades below
 * the real descent (3e-6 for RMSprop on cnn-small.json, whose loss falls between 1e-4 and 1e-2);
 * the halfway point depends on the two ends of the fall, which noise moves little.
 */
import type { Config, GradientOptimizerConfig } from '../config/schema.ts';
import { networkSpec } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { initParams } from '../nn/init.ts';
import { planNetwork } from '../nn/plan.ts';
import { Rng } from '../random/rng.ts';
import { ExponentiallyWeightedAverage } from '../optim/ewa.ts';
import { offerImages, prepareData } from './data.ts';
import { optimizerSpec, type Engine } from './engine.ts';
import { EpochBatches } from './epoch-batches.ts';
import type { EventSink } from './events.ts';
import { layerRows } from '../report/layer-table.ts';

export interface LrFindOptions {
  config: Config;
  /** For the announcement: the config's name and where the figure will go. */
  name: string;
  outDir: string;
  onEvent: EventSink;
  createEngine: (network: NetworkSpec, maxBatch: number, config: Config) => Promise<Engine>;
  /** Batches to train (default 200), and the range of rates (default 1e-7 to 10). */
  steps?: number;
  minLr?: number;
  maxLr?: number;
  /** Polled after every batch: true stops the search (Ctrl-C); the curve so far is kept. */
  shouldStop?: () => boolean;
  /** Aborted while the images load: the search stops there (train's signal). */
  signal?: AbortSignal;
}

export interface LrFindResult {
  /** Per batch trained: its learning rate, its loss, the smoothed loss. */
  lrs: number[];
  losses: number[];
  smoothed: number[];
  suggestion: LrSuggestion | null;
  /** Why the search ended: all steps done, the loss blew up, or it was stopped. */
  ended: 'steps' | 'diverged' | 'stopped';
}

export interface LrSuggestion {
  /** The rate to use: min(halfway, minimum / 10). */
  lr: number;
  /** The first rate at which the smoothed loss is halfway down from its highest point to its minimum. */
  halfway: number;
  /** The rate at the lowest smoothed loss. */
  minimum: number;
}

/** Smoothed losses this many times their minimum mean the rate is far too large. */
const BLOW_UP = 4;

export async function findLearningRate(opts: LrFindOptions): Promise<LrFindResult> {
  const { config } = opts;
  const o = config.optimizer;
  if (o.type === 'genetic') throw new UserError('--find-lr: the genetic algorithm has no learning rate; use a gradient optimizer (optimizer.type)');
  const steps = opts.steps ?? 200;
  const minLr = opts.minLr ?? 1e-7;
  const maxLr = opts.maxLr ?? 10;
  const data = await prepareData(config, opts.onEvent, null, opts.signal);
  const network = networkSpec(config);
  const plan = planNetwork(network);
  const B = config.training.batchSize === 'full' ? data.train.length : Math.min(config.training.batchSize, data.train.length);
  const engine = await opts.createEngine(network, B, config);
  try {
    initParams(plan, engine.params, new Rng(config.training.seed), config.model.init);
    engine.setOptimizer(optimizerSpec(o as GradientOptimizerConfig), { weightDecay: o.weightDecay, clipNorm: o.clipNorm });
    offerImages(engine, data, opts.onEvent);
    const batches = new EpochBatches(data, config, B);
    opts.onEvent({
      event: 'start',
      runDir: opts.outDir,
      name: `${opts.name} (learning-rate finder, ${minLr} to ${maxLr})`,
      epochs: 1,
      firstEpoch: 1,
      batchesPerEpoch: steps,
      batchSize: B,
      parameters: plan.paramCount,
      layers: layerRows(plan),
      statistics: plan.statCount,
      optimizer: o.type,
      kernel: engine.kernel,
      workers: engine.workers,
      ...(engine.rows ? { imagesOnDevice: true } : {}),
      resumed: false,
    });
    const smoothing = new ExponentiallyWeightedAverage(0.98, true);
    const result: LrFindResult = { lrs: [], losses: [], smoothed: [], suggestion: null, ended: 'steps' };
    let best = Infinity;
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      const batch = step % batches.perEpoch;
      if (batch === 0) batches.start(Math.floor(step / batches.perEpoch));
      const n = batches.fill(batch, engine);
      const lr = minLr * (maxLr / minLr) ** (step / Math.max(1, steps - 1));
      let loss = engine.trainStep(n, lr, step);
      // The GPU core's loss comes back later: the finder needs each one before the next rate.
      engine.takeLosses?.(true, (value) => (loss = value));
      const smooth = smoothing.push(loss);
      result.lrs.push(lr);
      result.losses.push(loss);
      result.smoothed.push(smooth);
      const seconds = (performance.now() - started) / 1000;
      opts.onEvent({ event: 'batch', epoch: 1, batch: step + 1, batches: steps, loss, smoothedLoss: smooth, imagesPerSecond: ((step + 1) * B) / Math.max(seconds, 1e-9) });
      if (!Number.isFinite(smooth) || smooth > BLOW_UP * best) {
        result.ended = 'diverged';
        break;
      }
      best = Math.min(best, smooth);
      await new Promise<void>((resolve) => setImmediate(resolve)); // lets Ctrl-C and progress redraws through
      if (opts.shouldStop?.()) {
        result.ended = 'stopped';
        break;
      }
    }
    result.suggestion = suggestLearningRate(result.lrs, result.smoothed);
    return result;
  } finally {
    await engine.close();
  }
}

/**
 * The suggested rate from a range test's rates and smoothed losses (see the module comment), or
 * null when the curve is too short to read. The first tenth of the curve, where the average still
 * rests on a few batches, is not read: a network that learns little in a few hundred batches (a
 * multilayer perceptron on raw pixels) has a nearly flat curve, and a lucky first batch would
 * otherwise be its minimum, putting the suggestion below the range tested.
 */
export function suggestLearningRate(lrs: readonly number[], smoothed: readonly number[]): LrSuggestion | null {
  const finite = smoothed.findIndex((v) => !Number.isFinite(v));
  const n = finite < 0 ? smoothed.length : finite;
  if (n < 10) return null;
  const skip = Math.floor(n / 10);
  let min = skip;
  for (let i = skip + 1; i < n; i++) if (smoothed[i]! < smoothed[min]!) min = i;
  let high = skip;
  for (let i = skip + 1; i < min; i++) if (smoothed[i]! > smoothed[high]!) high = i;
  const half = (smoothed[high]! + smoothed[min]!) / 2;
  let halfway = high;
  while (halfway < min && smoothed[halfway]! > half) halfway++;
  const minimum = lrs[min]!;
  return { lr: Math.min(lrs[halfway]!, minimum / 10), halfway: lrs[halfway]!, minimum };
}
