// The genetic algorithm as a training method (src/train/genetic-method.ts), on a real network
// through the gradient core's single-thread 'js' kernel: it learns XOR, is deterministic, keeps its
// best, and resumes bit for bit, whether the core evaluates the population in one call or the
// method evaluates the individuals one by one.
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type GeneticConfig } from '../src/config/schema.ts';
import type { Architecture } from '../src/nn/architecture.ts';
import { initParams } from '../src/nn/init.ts';
import { Rng } from '../src/nn/rng.ts';
import { decodeCheckpoint, encodeCheckpoint, type SavedState } from '../src/train/checkpoint.ts';
import { evaluatesPopulation, geneticMethod, type GeneticTrainMethod } from '../src/train/genetic-method.ts';
import { createCore, type Core } from '../src/core/index.ts';
import { xorClusters } from '../src/data/xor.ts';

const ARCH: Architecture = { inputSize: 2, hidden: [8], activation: 'tanh' };
const CONFIG: GeneticConfig = {
  type: 'genetic',
  population: 40,
  elite: 2,
  selection: 'tournament',
  tournamentSize: 3,
  crossover: 'uniform',
  crossoverRate: 0.7,
  mutationRate: 0.1,
  mutationScale: 0.1,
  mutationDecay: 1,
};
const B = 64;


const TRAIN = xorClusters(512, new Rng(1));
const TEST = xorClusters(512, new Rng(2));

interface Setup {
  engine: Core;
  method: GeneticTrainMethod;
}

type Evaluation = 'population' | 'one by one';

/**
 * A 'js' core, with room for the population or without, a genetic method over it, and the seeded
 * init in engine.params (the loop initialises the weights after creating the method, as here).
 */
async function setup(config: Partial<GeneticConfig> = {}, seed = 1, evaluation: Evaluation = 'population'): Promise<Setup> {
  const c = { ...CONFIG, ...config };
  const engine = await createCore({ arch: ARCH, maxBatch: 512, loss: 'bce', kernel: 'js', population: evaluation === 'population' ? c.population : 0 });
  const method = geneticMethod(engine, c, { arch: ARCH, scheme: 'auto' }, new Rng(seed ^ 0x6a09e667));
  initParams(ARCH, engine.params, new Rng(seed), 'auto');
  return { engine, method };
}

/** Puts training batch g (cycling through TRAIN) into the engine. */
function loadBatch(engine: Core, g: number): void {
  const start = (g * B) % TRAIN.y.length;
  engine.input.set(TRAIN.x.subarray(start * 2, (start + B) * 2));
  engine.labels.set(TRAIN.y.subarray(start, start + B));
}

function generations(s: Setup, from: number, to: number): number[] {
  const losses: number[] = [];
  for (let g = from; g < to; g++) {
    loadBatch(s.engine, g);
    losses.push(s.method.trainBatch(B, g));
  }
  return losses;
}

function accuracy(engine: Core, data: { x: Float32Array; y: Float32Array }): number {
  const n = data.y.length;
  engine.input.set(data.x);
  engine.labels.set(data.y);
  const p = new Float32Array(n);
  engine.predict(n, p);
  let correct = 0;
  for (let i = 0; i < n; i++) if (p[i]! >= 0.5 === data.y[i]! >= 0.5) correct++;
  return correct / n;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** What the loop's checkpoint does to the state: encode to the checkpoint's JSON text and decode. */
function throughCheckpoint(state: SavedState, params: Float32Array): SavedState {
  const text = encodeCheckpoint({
    config: DEFAULT_CONFIG,
    epoch: 0,
    batch: 0,
    step: 0,
    params,
    optimizer: state,
    partial: { lossSum: 0, images: 0, seconds: 0 },
    smoothing: { t: 0, average: 0 },
    history: [],
    best: null,
    stale: 0,
    dataset: { images: 0, fingerprint: '' },
    normalization: null,
  });
  return decodeCheckpoint(text).optimizer;
}

describe('geneticMethod', () => {
  it('learns XOR with a hidden layer: above 95% accuracy on held-out points', async () => {
    const s = await setup();
    const before = accuracy(s.engine, TEST);
    generations(s, 0, 150);
    const after = accuracy(s.engine, TEST); // engine.params holds the last generation's best
    expect(before).toBeLessThan(0.8);
    expect(after).toBeGreaterThan(0.95);
  });

  it('learns it with rank selection and one-point crossover too', async () => {
    const s = await setup({ selection: 'rank', crossover: 'one-point' });
    generations(s, 0, 200);
    expect(accuracy(s.engine, TEST)).toBeGreaterThan(0.95);
  });

  it('uses the core population call when the core has room for the population, else evaluate()', async () => {
    const batched = await setup();
    const single = await setup({}, 1, 'one by one');
    expect(evaluatesPopulation(batched.engine, CONFIG.population)).toBe(true);
    expect(evaluatesPopulation(single.engine, CONFIG.population)).toBe(false);
    const population = vi.spyOn(batched.engine, 'evaluatePopulation');
    const evaluate = vi.spyOn(single.engine, 'evaluate');
    generations(batched, 0, 3);
    generations(single, 0, 3);
    expect(population).toHaveBeenCalledTimes(3);
    expect(population).toHaveBeenCalledWith(CONFIG.population, B, expect.any(Float64Array));
    expect(evaluate).toHaveBeenCalledTimes(3 * CONFIG.population);
  });

  it('gives the same generations either way (the core evaluates both the same)', async () => {
    const batched = await setup();
    const single = await setup({}, 1, 'one by one');
    expect(generations(batched, 0, 20)).toEqual(generations(single, 0, 20));
    expect(sameBits(batched.method.saveState().buffers.population!, single.method.saveState().buffers.population!)).toBe(true);
  });

  for (const evaluation of ['population', 'one by one'] as const) {
    it(`leaves the best individual in engine.params and returns its loss (${evaluation})`, async () => {
      const s = await setup({}, 1, evaluation);
      loadBatch(s.engine, 0);
      const loss = s.method.trainBatch(B, 0);
      // The returned loss is that of the weights now in engine.params, on the same batch...
      expect(s.engine.evaluate(B)).toBe(loss);
      // ...and it is the best: the fitness of every individual of that generation is at most -loss,
      // and the elite at index 0 of the next generation is those weights, bit for bit.
      const state = s.method.saveState();
      expect(Math.max(...(state.scalars.fitness as number[]))).toBe(-loss);
      expect(sameBits(state.buffers.population!.subarray(0, s.engine.params.length), s.engine.params)).toBe(true);
    });
  }

  it('reports the epoch means of the best and mean fitness, then resets them', async () => {
    const s = await setup();
    const fitness: number[][] = [];
    for (let g = 0; g < 3; g++) {
      generations(s, g, g + 1);
      fitness.push(s.method.saveState().scalars.fitness as number[]);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const extra = s.method.epochExtra!();
    expect(extra.bestFitness).toBeCloseTo(mean(fitness.map((f) => Math.max(...f))), 12);
    expect(extra.meanFitness).toBeCloseTo(mean(fitness.map(mean)), 12);
    expect(extra.meanFitness).toBeLessThan(extra.bestFitness!);
    expect(s.method.epochExtra!()).toEqual({});
    // batchExtra: the last generation alone.
    const lastFitness = fitness.at(-1)!;
    expect(s.method.batchExtra()).toEqual({ bestFitness: Math.max(...lastFitness), meanFitness: mean(lastFitness) });
  });

  it('seeds the population with the initial weights as individual 0', async () => {
    const s = await setup();
    const init = Float32Array.from(s.engine.params);
    loadBatch(s.engine, 0);
    s.method.trainBatch(B, 0);
    // The state's fitness list holds the seeded generation's fitness; re-evaluating the initial
    // weights on the same batch gives individual 0's.
    const fitness = s.method.saveState().scalars.fitness as number[];
    s.engine.params.set(init);
    expect(-s.engine.evaluate(B)).toBe(fitness[0]);
  });

  it('gives the same population for the same seed, another for another seed', async () => {
    const a = await setup({}, 5);
    const b = await setup({}, 5);
    const c = await setup({}, 6);
    for (const s of [a, b, c]) generations(s, 0, 20);
    const pop = (s: Setup) => s.method.saveState().buffers.population!;
    expect(sameBits(pop(a), pop(b))).toBe(true);
    expect(sameBits(a.engine.params, b.engine.params)).toBe(true);
    expect(sameBits(pop(a), pop(c))).toBe(false);
  });

  it('with elitism the best loss on a fixed batch never increases', async () => {
    for (const elite of [1, 2]) {
      const s = await setup({ elite, mutationRate: 0.5, mutationScale: 0.5 });
      loadBatch(s.engine, 0);
      let previous = Infinity;
      for (let g = 0; g < 60; g++) {
        const loss = s.method.trainBatch(B, g); // the batch stays the same: trainBatch only reads it
        expect(loss).toBeLessThanOrEqual(previous);
        previous = loss;
      }
    }
  });

  it('checkpoint and resume continue identically, bit for bit', async () => {
    const whole = await setup();
    const wholeLosses = generations(whole, 0, 30);

    const first = await setup();
    const firstLosses = generations(first, 0, 12);
    const saved = throughCheckpoint(first.method.saveState(), first.engine.params);
    const params = Float32Array.from(first.engine.params);

    // A fresh method on a fresh core, resumed as the loop does: params first, then the state.
    const resumed = await setup();
    resumed.engine.params.set(params);
    resumed.method.loadState(saved);
    const resumedLosses = generations(resumed, 12, 30);

    expect([...firstLosses, ...resumedLosses]).toEqual(wholeLosses);
    expect(sameBits(resumed.engine.params, whole.engine.params)).toBe(true);
    expect(sameBits(resumed.method.saveState().buffers.population!, whole.method.saveState().buffers.population!)).toBe(true);
    expect(resumed.method.saveState().scalars).toEqual(whole.method.saveState().scalars);
    expect(resumed.method.epochExtra!()).toEqual(whole.method.epochExtra!()); // the epoch's partial sums too
  });

  it('keeps a -Infinity fitness through the checkpoint', async () => {
    const s = await setup({ population: 4, elite: 1 });
    loadBatch(s.engine, 0);
    s.method.trainBatch(B, 0);
    const state = s.method.saveState();
    (state.scalars.fitness as number[])[3] = -Infinity;
    const back = throughCheckpoint(state, s.engine.params);
    expect(back.scalars.fitness as unknown[]).toContain(null);
    const other = await setup({ population: 4, elite: 1 });
    other.method.loadState(back);
    expect((other.method.saveState().scalars.fitness as number[])[3]).toBe(-Infinity);
  });

  it('refuses the state of another optimizer or another population size', async () => {
    const s = await setup();
    expect(() => s.method.loadState({ type: 'adam', scalars: { t: 3 }, buffers: {} })).toThrow(/"adam"/);
    const small = await setup({ population: 10 });
    loadBatch(small.engine, 0);
    small.method.trainBatch(B, 0);
    expect(() => s.method.loadState(small.method.saveState())).toThrow(/population/);
  });

  it('refuses elite > population with the config field', async () => {
    await expect(setup({ population: 4, elite: 5 })).rejects.toThrow(/optimizer\.elite/);
  });

  it('has no learning rate', async () => {
    expect((await setup()).method.learningRate(0)).toBeNull();
  });
});
