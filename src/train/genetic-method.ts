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
 *   fitness[i] = -(loss of individual i on the first n samples): engine.params <- individual i,
 *     then engine.evaluate(n), the core's ordinary inference pass (split across its threads), so
 *     the algorithm is a user of the core like any other
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
import type { NetworkPlan } from '../nn/plan.ts';
import { initParams, type InitName } from '../nn/init.ts';
import type { Rng } from '../random/rng.ts';
import { GeneticAlgorithm, type GeneticSpec } from '../optim/genetic.ts';
import type { SavedState } from '../io/checkpoint.ts';
import type { Engine, TrainMethod } from './engine.ts';

/** What the method needs to make fresh individuals: the network's plan and its init scheme. */
export interface GeneticInit {
  plan: NetworkPlan;
  scheme: InitName;
}

export const GENETIC_STATE_TYPE = 'genetic';

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
  const n = init.plan.paramCount;
  if (n !== engine.params.length) throw new Error(`genetic: the network has ${n} weights, the engine ${engine.params.length}`);
  if (config.elite > config.population) {
    throw new UserError(`optimizer.elite: ${config.elite} is more than optimizer.population (${config.population}); elite must be at most the population`);
  }
  const ga = allocate(n, config, rng);
  const P = ga.size;
  const losses = new Float64Array(P);
  let seeded = false;
  // Sums over the current epoch's generations, for epochExtra().
  let generations = 0;
  let bestSum = 0;
  let meanSum = 0;
  const last = { bestFitness: NaN, meanFitness: NaN };

  const seed = (): void => {
    ga.individual(0).set(engine.params);
    for (let i = 1; i < P; i++) initParams(init.plan, ga.individual(i), rng, init.scheme);
    seeded = true;
  };

  return {
    trainBatch(batch: number): number {
      if (!seeded) seed();
      for (let i = 0; i < P; i++) {
        engine.params.set(ga.individual(i));
        losses[i] = engine.evaluate(batch);
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
 * the network's plan, the config's init scheme.
 */
export function createGeneticMethod(engine: Engine, config: Config, plan: NetworkPlan, rng: Rng): GeneticTrainMethod {
  if (config.optimizer.type !== 'genetic') throw new Error(`createGeneticMethod: optimizer type is "${config.optimizer.type}", not "genetic"`);
  return geneticMethod(engine, config.optimizer, { plan, scheme: config.model.init }, rng);
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
