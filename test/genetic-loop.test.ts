// The genetic algorithm inside the real training loop (src/train/loop.ts), on small synthetic
// images: it learns, reports its fitness per epoch, and a run interrupted mid-epoch and resumed
// from its checkpoint ends with the same model, bit for bit, as one that ran straight through.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../src/config/schema.ts';
import { createCore } from '../src/core/index.ts';
import { createGeneticMethod } from '../src/train/genetic-method.ts';
import { LOSSES } from '../src/nn/losses.ts';
import { Network } from '../src/nn/network.ts';
import type { TrainEvent } from '../src/train/events.ts';
import { train, type TrainOptions, type TrainResult } from '../src/train/loop.ts';
import { RunFolder } from '../src/train/run-folder.ts';
import { makeLabeledFolder, makeTempDir, removeTempDir } from './helpers/images.ts';

let dir = '';
let config: Config;

beforeAll(async () => {
  dir = makeTempDir('nn-train-genetic-');
  await makeLabeledFolder(join(dir, 'images'), { cats: 100, dogs: 100, size: 16 });
  config = configSchema.parse({
    // Colour is the main cue of the synthetic pictures (src/data/demo.ts): keep 3 channels.
    data: { train: join(dir, 'images'), width: 8, height: 8, channels: 3, validation: 0.25, cache: join(dir, 'cache') },
    model: { hidden: [4], activation: 'tanh' },
    optimizer: { type: 'genetic', population: 16, elite: 2, mutationRate: 0.1, mutationScale: 0.1 },
    training: { batchSize: 30, epochs: 8, seed: 3 },
  });
});

afterAll(() => removeTempDir(dir));

/**
 * train() with the 'js' core and the genetic method, as the CLI wires them. `bestLosses` gets, for
 * each generation, the loss of the weights the method leaves in the engine (its fittest) on the
 * generation's batch, computed apart from the core: src/nn's float64 network on the same inputs.
 */
async function run(out: string, extra: Partial<TrainOptions> = {}, bestLosses?: number[]): Promise<{ result: TrainResult; events: TrainEvent[] }> {
  const events: TrainEvent[] = [];
  const result = await train({
    config,
    name: 'genetic',
    folder: extra.resume ? RunFolder.open(out) : RunFolder.create(out),
    onEvent: (e) => events.push(e),
    createEngine: (network, maxBatch, c) => createCore({ network, maxBatch, loss: c.loss, kernel: 'js' }),
    createMethod: (engine, c, plan, rng) => {
      const method = createGeneticMethod(engine, c, plan, rng);
      if (!bestLosses) return method;
      const net = new Network(plan, engine.labels.length, new Float64Array(plan.paramCount));
      return {
        ...method,
        trainBatch(n, step) {
          const loss = method.trainBatch(n, step);
          net.params.set(engine.params);
          const d = plan.input.height * plan.input.width * plan.input.channels;
          bestLosses.push(net.loss(Float64Array.from(engine.input.subarray(0, n * d)), Float64Array.from(engine.labels.subarray(0, n)), n, LOSSES[c.loss]));
          return loss;
        },
      };
    },
    ...extra,
  });
  return { result, events };
}

const modelWeights = (out: string): unknown => (JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { weights: unknown }).weights;

describe('the genetic algorithm in the training loop', () => {
  let straight: { result: TrainResult; events: TrainEvent[] };
  const straightDir = () => join(dir, 'straight');
  const bestLosses: number[] = [];

  beforeAll(async () => {
    straight = await run(straightDir(), {}, bestLosses);
  });

  it('trains to a good validation accuracy on distinguishable pictures', () => {
    expect(straight.result.status).toBe('completed');
    expect(straight.result.history).toHaveLength(8);
    // Chance is a loss of ln 2 = 0.693 and an accuracy of 0.5 (the classes are balanced).
    expect(straight.result.history[0]!.valLoss).toBeGreaterThan(0.6);
    expect(straight.result.best!.valLoss).toBeLessThan(0.5);
    expect(straight.result.best!.valAccuracy).toBeGreaterThan(0.75);
  });

  it('reports the epoch means of the best and mean fitness in every epoch event', () => {
    const epochs = straight.events.filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(8);
    for (const e of epochs) {
      expect(e.extra).toBeDefined();
      expect(e.extra!.bestFitness).toBeLessThan(0);
      expect(e.extra!.meanFitness).toBeLessThan(e.extra!.bestFitness!);
    }
    // The best fitness is minus the loss of the weights the method kept, as a network computed
    // apart from the core finds it on the same batches: 150 training images in batches of 30,
    // 5 generations per epoch.
    expect(bestLosses).toHaveLength(8 * 5);
    epochs.forEach((e, k) => {
      const mean = bestLosses.slice(5 * k, 5 * k + 5).reduce((a, b) => a + b, 0) / 5;
      expect(-e.extra!.bestFitness!).toBeCloseTo(mean, 5);
      expect(e.trainLoss).toBeCloseTo(mean, 5);
    });
  });

  it('interrupted mid-epoch and resumed, ends with the same model as straight through', async () => {
    const out = join(dir, 'interrupted');
    // 150 training images in batches of 30: 5 generations per epoch. The loop polls shouldStop after
    // every batch and at the end of every epoch: poll 8 is after batch 2 of epoch 2.
    let polls = 0;
    const first = await run(out, { shouldStop: () => ++polls >= 8 });
    expect(first.result.status).toBe('interrupted');
    const checkpoint = RunFolder.open(out).readCheckpoint();
    expect(checkpoint.optimizer.type).toBe('genetic');
    expect([checkpoint.epoch, checkpoint.batch, checkpoint.step]).toEqual([1, 2, 7]);
    expect(checkpoint.optimizer.scalars.generation).toBe(7);
    const resumed = await run(out, { resume: checkpoint });
    expect(resumed.result.status).toBe('completed');
    expect(modelWeights(out)).toEqual(modelWeights(straightDir()));
    const strip = (h: TrainResult['history']) => h.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
    expect(strip(resumed.result.history)).toEqual(strip(straight.result.history));
    const extras = (events: TrainEvent[]) => events.flatMap((e) => (e.event === 'epoch' ? [e.extra] : []));
    expect(extras(resumed.events)).toEqual(extras(straight.events).slice(-extras(resumed.events).length));
  });
});
