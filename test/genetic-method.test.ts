// The genetic algorithm as a training method (src/train/genetic-method.ts), on a real network
// through the gradient core's single-thread 'js' kernel: it learns XOR, is deterministic, keeps its
// best, and resumes bit for bit; it evaluates every individual with the core's ordinary evaluate().
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type GeneticConfig } from '../src/config/schema.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { mlp } from './helpers/networks.ts';
import { initParams } from '../src/nn/init.ts';
import { Rng } from '../src/random/rng.ts';
import { decodeCheckpoint, encodeCheckpoint, type SavedState } from '../src/io/checkpoint.ts';
import { geneticMethod, type GeneticTrainMethod } from '../src/train/genetic-method.ts';
import { createCore, type Core } from '../src/core/index.ts';
import { xorClusters } from '../src/data/xor.ts';

const NETWORK = mlp(2, [8], 'tanh');
const PLAN = planNetwork(NETWORK);
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

/**
 * A core (the 'js' kernel unless told), a genetic method over it, and the seeded init in
 * engine.params (the loop initialises the weights after creating the method, as here).
 */
async function setup(config: Partial<GeneticConfig> = {}, seed = 1, kernel: 'js' | 'auto' = 'js'): Promise<Setup> {
  const c = { ...CONFIG, ...config };
  const engine = await createCore({ network: NETWORK, maxBatch: 512, loss: 'bce', kernel });
  const method = geneticMethod(engine, c, { plan: PLAN, scheme: 'auto' }, new Rng(seed ^ 0x6a09e667));
  initParams(PLAN, engine.params, new Rng(seed), 'auto');
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
    stats: new Float32Array(0),
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

  it("evaluates each individual with the core's evaluate(), once per generation", async () => {
    const s = await setup();
    const evaluate = vi.spyOn(s.engine, 'evaluate');
    generations(s, 0, 3);
    expect(evaluate).toHaveBeenCalledTimes(3 * CONFIG.population);
    expect(evaluate).toHaveBeenCalledWith(B);
  });

  it('gives the same generations on the WebAssembly core, whatever its thread count (it is deterministic)', async () => {
    const one = await setup({}, 1, 'auto');
    const again = await setup({}, 1, 'auto');
    expect(generations(one, 0, 10)).toEqual(generations(again, 0, 10));
    expect(sameBits(one.method.saveState().buffers.population!, again.method.saveState().buffers.population!)).toBe(true);
    await one.engine.close();
    await again.engine.close();
  });

  for (const kernel of ['js', 'auto'] as const) {
    it(`leaves the best individual in engine.params and returns its loss (${kernel} kernel)`, async () => {
      const s = await setup({}, 1, kernel);
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
