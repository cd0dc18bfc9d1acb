/**
 * The genetic algorithm (src/optim/genetic.ts) as a training method: one generation per batch.
 *
 * The population is seeded at the first generation, from whatever engine.params then holds (the
 * loop's seeded initialisation): individual 0 is exactly those weights, and individuals 1..P-1 are
 * fresh initialisations of the same architecture and scheme (He / Xavier, src/nn/init.ts) drawn
 * from the method's own Rng. A population of independent starts, rather than copies of one start
 * plus noise, gives selection and crossover something to choose between from the first generation.
 *
 * trainBatch(n) = one generation on the batch the loop has put in engine.input / engine.labels:
 *   fitness[i] = -(loss of individual i on the first n samples), forward passes only:
 *     - an engine created with the `population` option (src/core, population >= P) gets all the
 *       individuals copied into engine.population and one engine.evaluatePopulation(P, n) call,
 *       which hands whole individuals to the threads, one at a time each;
 *     - any other engine: engine.params <- individual i; engine.evaluate(n), for each i in turn
 *       (each evaluation is then split across the core's threads).
 *   engine.params <- the fittest individual (the loop validates and saves engine.params)
 *   evolve: rank, elitism, selection, crossover, mutation (the next generation)
 *   return the fittest individual's loss on this batch
 * so the train loss the loop reports is the best individual's batch loss, and the weights it
 * validates at the end of an epoch are those of the last generation's best. A NaN loss gives an
 * individual fitness -Infinity (it is never selected while any other is finite).
 *
 * epochExtra() reports the averages over the epoch's generations (and resets them):
 *   bestFitness = mean over generations of max_i fitness[i]
 *   meanFitness = mean over generations of (1/P) sum_i fitness[i]
 * (averaged, like the epoch's train loss, rather than the last generation's noisy single batch).
 *
 * saveState()/loadState() carry the whole state: population, fitness, generation, mutation scale,
 * the Rng's words and the epoch's partial sums, so a resumed run continues bit for bit.
 */
import type { Config, GeneticConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { parameterCount, type Architecture } from '../nn/architecture.ts';
import { initParams, type InitName } from '../nn/init.ts';
import type { Preprocessing } from '../data/preprocessing.ts';
import type { Rng } from '../nn/rng.ts';
import { GeneticAlgorithm, type GeneticSpec } from '../optim/genetic.ts';
import type { SavedState } from './checkpoint.ts';
import type { Engine, TrainMethod } from './engine.ts';

/** What the method needs to make fresh individuals: the network's shape and its init scheme. */
export interface GeneticInit {
  arch: Architecture;
  scheme: InitName;
}

export const GENETIC_STATE_TYPE = 'genetic';

/** An engine that evaluates many weight vectors in one call (src/core with its `population` option). */
export interface PopulationEngine extends Engine {
  /** Weight vectors the caller fills; their count is the core's `population` option. */
  readonly population: readonly Float32Array[];
  /** Mean loss of each of the first `count` population vectors on the first B samples, into out. */
  evaluatePopulation(count: number, B: number, out: Float64Array): void;
}

/** True when the engine can evaluate a population of `size` in one call. */
export function evaluatesPopulation(engine: Engine, size: number): engine is PopulationEngine {
  const e = engine as Partial<PopulationEngine>;
  return typeof e.evaluatePopulation === 'function' && Array.isArray(e.population) && e.population.length >= size;
}

export function geneticSpec(config: GeneticConfig): GeneticSpec {
  const { population, elite, selection, tournamentSize, crossover, crossoverRate, mutationRate, mutationScale, mutationDecay } = config;
  return { population, elite, selection, tournamentSize, crossover, crossoverRate, mutationRate, mutationScale, mutationDecay };
}

/** A TrainMethod that also reports the last generation's fitness, for a per-batch display. */
export interface GeneticTrainMethod extends TrainMethod {
  /** Best and mean fitness of the last generation (NaN before the first): a live object, read it at once. */
  batchExtra(): Readonly<{ bestFitness: number; meanFitness: number }>;
}

export function geneticMethod(engine: Engine, config: GeneticConfig, init: GeneticInit, rng: Rng): GeneticTrainMethod {
  const n = parameterCount(init.arch);
  if (n !== engine.params.length) throw new Error(`genetic: the architecture has ${n} weights, the engine ${engine.params.length}`);
  if (config.elite > config.population) {
    throw new UserError(`optimizer.elite: ${config.elite} is more than optimizer.population (${config.population}); elite must be at most the population`);
  }
  const ga = allocate(n, config, rng);
  const P = ga.size;
  const batched = evaluatesPopulation(engine, P) ? engine : null;
  const losses = new Float64Array(P);
  let seeded = false;
  // Sums over the current epoch's generations, for epochExtra().
  let generations = 0;
  let bestSum = 0;
  let meanSum = 0;
  const last = { bestFitness: NaN, meanFitness: NaN };

  const seed = (): void => {
    ga.individual(0).set(engine.params);
    for (let i = 1; i < P; i++) initParams(init.arch, ga.individual(i), rng, init.scheme);
    seeded = true;
  };

  return {
    trainBatch(batch: number): number {
      if (!seeded) seed();
      if (batched) {
        for (let i = 0; i < P; i++) batched.population[i]!.set(ga.individual(i));
        batched.evaluatePopulation(P, batch, losses);
      } else {
        for (let i = 0; i < P; i++) {
          engine.params.set(ga.individual(i));
          losses[i] = engine.evaluate(batch);
        }
      }
      const { fitness } = ga;
      let sum = 0;
      for (let i = 0; i < P; i++) {
        fitness[i] = Number.isNaN(losses[i]!) ? -Infinity : -losses[i]!;
        sum += fitness[i]!;
      }
      const best = ga.best();
      engine.params.set(ga.individual(best));
      const bestLoss = -fitness[best]!;
      last.bestFitness = fitness[best]!;
      last.meanFitness = sum / P;
      generations++;
      bestSum += last.bestFitness;
      meanSum += last.meanFitness;
      ga.evolve();
      return bestLoss;
    },

    learningRate: () => null,

    batchExtra: () => last,

    epochExtra(): Record<string, number> {
      const extra: Record<string, number> = generations > 0 ? { bestFitness: bestSum / generations, meanFitness: meanSum / generations } : {};
      generations = 0;
      bestSum = 0;
      meanSum = 0;
      return extra;
    },

    saveState(): SavedState {
      const s = ga.getState();
      return {
        type: GENETIC_STATE_TYPE,
        scalars: {
          seeded: seeded ? 1 : 0,
          generation: s.generation,
          mutationScale: s.mutationScale,
          rng: s.rng,
          fitness: Array.from(s.fitness), // JSON keeps doubles exactly; -Infinity comes back as null
          epochGenerations: generations,
          epochBestSum: bestSum,
          epochMeanSum: meanSum,
        },
        buffers: { population: s.population },
      };
    },

    loadState(state: SavedState): void {
      if (state.type !== GENETIC_STATE_TYPE) throw new Error(`genetic: cannot continue from the state of a "${state.type}" optimizer`);
      const population = state.buffers.population;
      if (!population) throw new Error('genetic: the saved state has no population');
      const scalar = (name: string): number => {
        const v = state.scalars[name];
        if (typeof v !== 'number') throw new Error(`genetic: the saved state's ${name} is not a number`);
        return v;
      };
      const list = (name: string): unknown[] => {
        const v = state.scalars[name] as unknown;
        if (!Array.isArray(v)) throw new Error(`genetic: the saved state's ${name} is not a list`);
        return v;
      };
      const fitness = Float64Array.from(list('fitness'), (f) => (typeof f === 'number' ? f : -Infinity));
      const wasSeeded = scalar('seeded') === 1;
      ga.setState({
        generation: scalar('generation'),
        mutationScale: scalar('mutationScale'),
        rng: list('rng') as number[],
        population: wasSeeded ? population : new Float32Array(P * n),
        fitness,
      });
      seeded = wasSeeded;
      generations = scalar('epochGenerations');
      bestSum = scalar('epochBestSum');
      meanSum = scalar('epochMeanSum');
    },
  };
}

/**
 * The training loop's createMethod (TrainOptions['createMethod']) for `optimizer.type: "genetic"`:
 * the network's shape from the config and the data's image size, the config's init scheme.
 */
export function createGeneticMethod(
  engine: Engine,
  config: Config,
  data: { preprocessing: Pick<Preprocessing, 'width' | 'height' | 'channels'> },
  rng: Rng,
): GeneticTrainMethod {
  if (config.optimizer.type !== 'genetic') throw new Error(`createGeneticMethod: optimizer type is "${config.optimizer.type}", not "genetic"`);
  const { width, height, channels } = data.preprocessing;
  const arch: Architecture = { inputSize: width * height * channels, hidden: config.model.hidden, activation: config.model.activation };
  return geneticMethod(engine, config.optimizer, { arch, scheme: config.model.init }, rng);
}

/** The algorithm's two population buffers, or a clear error when they do not fit in memory. */
function allocate(n: number, config: GeneticConfig, rng: Rng): GeneticAlgorithm {
  try {
    return new GeneticAlgorithm(n, geneticSpec(config), rng);
  } catch (e) {
    if (!(e instanceof RangeError) || e.message.startsWith('genetic:')) throw e;
    const gb = (2 * config.population * n * 4) / 1e9;
    throw new UserError(
      `optimizer.population: ${config.population} individuals of ${n} weights need ${gb.toFixed(1)} GB (two generations); use a smaller population or network`,
    );
  }
}
