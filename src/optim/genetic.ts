/**
 * A genetic algorithm over flat weight vectors: gradient-free training. It never sees a network,
 * only P individuals of n float32 weights each and one fitness number per individual (higher is
 * better; the trainer uses fitness = -loss on a mini-batch).
 *
 * One generation (evolve(), after the caller has written fitness[i] for every individual i):
 *
 *   1. rank       sort the individuals by fitness, best first (ties: lower index first; NaN counts
 *                 as -Infinity), so every later choice is deterministic.
 *   2. elitism    the k = elite best are copied unchanged into the next generation, best at index 0:
 *                 the best individual found so far is never lost.
 *   3. children   each of the P - k other places gets a child:
 *                   a = select()
 *                   with probability crossoverRate:  b = select(),  child = crossover(a, b)
 *                   otherwise:                       child = copy of a
 *                   mutate(child)
 *   4. the next generation replaces the current one (two buffers, swapped: nothing is allocated);
 *      generation <- generation + 1;  sigma <- sigma * mutationDecay.
 *
 * Selection (returns a parent by its rank r, 0 = best):
 *   tournament   draw tournamentSize ranks uniformly from [0, P) with replacement; the best
 *                (smallest) rank wins. P(the best individual wins) = 1 - (1 - 1/P)^size.
 *   rank         linear ranking: P(r) = (P - r) / (P (P + 1) / 2); the best is P times as likely
 *                as the worst, whatever the fitness values' scale (unlike fitness-proportional).
 * Crossover of parents a and b into a child c:
 *   uniform      c[j] = a[j] or b[j], each with probability 1/2, independently (one random bit per
 *                weight, 32 bits per draw).
 *   one-point    a cut point p uniform in [1, n): c = a[0, p) followed by b[p, n).
 * Gaussian mutation, sigma = mutationScale * mutationDecay^generation (a running product):
 *   each weight independently, with probability mutationRate:  c[j] <- c[j] + sigma * N(0, 1).
 *   Rather than one coin per weight, the gap to the next mutated weight is drawn from its geometric
 *   distribution, gap = floor(ln(1 - u) / ln(1 - mutationRate)), u ~ U[0, 1): the same distribution,
 *   with about mutationRate * n draws instead of n.
 *
 * Every draw comes from the Rng given to the constructor, in a fixed order, so the same seed and
 * the same fitness values give the same population bit for bit; getState/setState capture the
 * population, fitness, generation, sigma and the Rng state, so a resumed run continues exactly.
 */
import type { Rng } from '../random/rng.ts';

export const SELECTION_NAMES = ['tournament', 'rank'] as const;
export const CROSSOVER_NAMES = ['uniform', 'one-point'] as const;

/** The algorithm's hyperparameters (the `genetic` optimizer config without its type). */
export interface GeneticSpec {
  population: number;
  elite: number;
  selection: (typeof SELECTION_NAMES)[number];
  tournamentSize: number;
  crossover: (typeof CROSSOVER_NAMES)[number];
  crossoverRate: number;
  mutationRate: number;
  mutationScale: number;
  mutationDecay: number;
}

/** Everything a resumed run needs, as copies. */
export interface GeneticState {
  generation: number;
  /** The current mutation standard deviation sigma. */
  mutationScale: number;
  /** The Rng's four state words. */
  rng: number[];
  /** (population, n) row-major: individual i is population[i*n, (i+1)*n). */
  population: Float32Array;
  /** The fitness last written for each individual (of the generation that was last ranked). */
  fitness: Float64Array;
}

export class GeneticAlgorithm {
  /** Weights per individual. */
  readonly n: number;
  /** Individuals per generation (P). */
  readonly size: number;
  readonly spec: Readonly<GeneticSpec>;
  /** fitness[i] of individual i of the current population: written by the caller before evolve(). */
  readonly fitness: Float64Array;
  private readonly rng: Rng;
  private current: Float32Array;
  private next: Float32Array;
  /** Views of each individual in both buffers, made once (subarray allocates). */
  private currentViews: Float32Array[];
  private nextViews: Float32Array[];
  /** Individual indices, best first, after rank(). */
  private readonly ranked: Uint32Array;
  /** Linear ranking: cumulative[r] = sum of (P - q) for q <= r (exact integers in double). */
  private readonly cumulative: Float64Array;
  private gen = 0;
  private sigma: number;
  private readonly byFitness = (i: number, j: number): number => {
    const fi = orMinusInfinity(this.fitness[i]!);
    const fj = orMinusInfinity(this.fitness[j]!);
    return fi > fj ? -1 : fi < fj ? 1 : i - j;
  };

  /** Allocates 2 * P * n float32 weights; fill the population (population or individual(i)) before use. */
  constructor(n: number, spec: GeneticSpec, rng: Rng) {
    checkSpec(n, spec);
    this.n = n;
    this.size = spec.population;
    this.spec = { ...spec };
    this.rng = rng;
    this.sigma = spec.mutationScale;
    const P = spec.population;
    this.current = new Float32Array(P * n);
    this.next = new Float32Array(P * n);
    this.currentViews = views(this.current, P, n);
    this.nextViews = views(this.next, P, n);
    this.fitness = new Float64Array(P);
    this.ranked = Uint32Array.from({ length: P }, (_, i) => i);
    this.cumulative = new Float64Array(P);
    let sum = 0;
    for (let r = 0; r < P; r++) this.cumulative[r] = sum += P - r;
  }

  /** The current population, (P, n) row-major (a live buffer: it changes with every evolve()). */
  get population(): Float32Array {
    return this.current;
  }

  /** Individual i of the current population, a live view of n weights (made once, not per call). */
  individual(i: number): Float32Array {
    const view = this.currentViews[i];
    if (!view) throw new RangeError(`genetic: individual ${i} outside [0, ${this.size})`);
    return view;
  }

  /** Completed generations. */
  get generation(): number {
    return this.gen;
  }

  /** The current mutation standard deviation: mutationScale * mutationDecay^generation. */
  get mutationScale(): number {
    return this.sigma;
  }

  /** Index of the fittest individual of the current population (ties: the lowest index). */
  best(): number {
    let best = 0;
    for (let i = 1; i < this.size; i++) if (orMinusInfinity(this.fitness[i]!) > orMinusInfinity(this.fitness[best]!)) best = i;
    return best;
  }

  /** Step 1: sorts the individuals by fitness, best first. evolve() calls it; tests call it to probe select(). */
  rank(): void {
    this.ranked.sort(this.byFitness);
  }

  /** The individual at rank r (0 = best) of the last rank(). */
  rankedIndividual(r: number): number {
    return this.ranked[r]!;
  }

  /** Draws one parent (an individual index) by the configured selection, from the last rank(). */
  select(): number {
    const { rng, size } = this;
    if (this.spec.selection === 'tournament') {
      let winner = rng.int(size);
      for (let k = 1; k < this.spec.tournamentSize; k++) winner = Math.min(winner, rng.int(size));
      return this.ranked[winner]!;
    }
    // Linear ranking: the first r with cumulative[r] > u, u uniform over [0, P (P + 1) / 2).
    const u = rng.int(this.cumulative[size - 1]!);
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return this.ranked[lo]!;
  }

  /** One generation, from the fitness of the current population (see the doc comment). */
  evolve(): void {
    const { n, size, rng, spec } = this;
    const k = spec.elite;
    this.rank();
    for (let e = 0; e < k; e++) this.nextViews[e]!.set(this.currentViews[this.ranked[e]!]!);
    for (let c = k; c < size; c++) {
      const child = this.nextViews[c]!;
      const a = this.currentViews[this.select()]!;
      if (spec.crossoverRate > 0 && rng.uniform() < spec.crossoverRate) {
        const b = this.currentViews[this.select()]!;
        if (spec.crossover === 'uniform') uniformCrossover(a, b, child, n, rng);
        else onePointCrossover(a, b, child, n, rng);
      } else {
        child.set(a);
      }
      mutate(child, n, spec.mutationRate, this.sigma, rng);
    }
    [this.current, this.next] = [this.next, this.current];
    [this.currentViews, this.nextViews] = [this.nextViews, this.currentViews];
    this.gen++;
    this.sigma *= spec.mutationDecay;
  }

  getState(): GeneticState {
    return {
      generation: this.gen,
      mutationScale: this.sigma,
      rng: this.rng.getState(),
      population: Float32Array.from(this.current),
      fitness: Float64Array.from(this.fitness),
    };
  }

  /** Restores a getState() of an algorithm with the same n and population size (values are copied). */
  setState(state: GeneticState): void {
    if (state.population.length !== this.size * this.n) {
      throw new RangeError(`genetic: the saved population has ${state.population.length} weights, expected ${this.size} x ${this.n}`);
    }
    if (state.fitness.length !== this.size) throw new RangeError(`genetic: the saved fitness has ${state.fitness.length} values, expected ${this.size}`);
    if (!(Number.isInteger(state.generation) && state.generation >= 0)) throw new RangeError(`genetic: generation must be an integer >= 0, got ${state.generation}`);
    if (!(state.mutationScale >= 0 && state.mutationScale < Infinity)) throw new RangeError(`genetic: mutation scale must be finite and >= 0, got ${state.mutationScale}`);
    this.rng.setState(state.rng);
    this.current.set(state.population);
    this.fitness.set(state.fitness);
    this.gen = state.generation;
    this.sigma = state.mutationScale;
  }
}

function orMinusInfinity(f: number): number {
  return Number.isNaN(f) ? -Infinity : f;
}

function views(buffer: Float32Array, P: number, n: number): Float32Array[] {
  return Array.from({ length: P }, (_, i) => buffer.subarray(i * n, (i + 1) * n));
}

/** c[j] = bit j of the random stream ? b[j] : a[j]. */
function uniformCrossover(a: Float32Array, b: Float32Array, c: Float32Array, n: number, rng: Rng): void {
  for (let j0 = 0; j0 < n; j0 += 32) {
    let bits = rng.nextUint32();
    const end = Math.min(j0 + 32, n);
    for (let j = j0; j < end; j++, bits >>>= 1) c[j] = bits & 1 ? b[j]! : a[j]!;
  }
}

/** c = a[0, p) then b[p, n), p uniform in [1, n) (p = n, a plain copy of a, when n = 1). */
function onePointCrossover(a: Float32Array, b: Float32Array, c: Float32Array, n: number, rng: Rng): void {
  const p = n < 2 ? n : 1 + rng.int(n - 1);
  for (let j = 0; j < p; j++) c[j] = a[j]!;
  for (let j = p; j < n; j++) c[j] = b[j]!;
}

/** c[j] += sigma * N(0, 1) for each j with probability rate, visiting only the mutated j (geometric gaps). */
function mutate(c: Float32Array, n: number, rate: number, sigma: number, rng: Rng): void {
  if (rate <= 0 || sigma === 0) return;
  if (rate >= 1) {
    for (let j = 0; j < n; j++) c[j] = c[j]! + sigma * rng.normal();
    return;
  }
  const logKeep = Math.log1p(-rate); // ln(1 - rate) < 0
  for (let j = Math.floor(Math.log1p(-rng.uniform()) / logKeep); j < n; j += 1 + Math.floor(Math.log1p(-rng.uniform()) / logKeep)) {
    c[j] = c[j]! + sigma * rng.normal();
  }
}

function checkSpec(n: number, s: GeneticSpec): void {
  const fail = (field: string, want: string, got: unknown): never => {
    throw new RangeError(`genetic: ${field} must be ${want}, got ${String(got)}`);
  };
  if (!(Number.isInteger(n) && n >= 1)) fail('the number of weights', 'an integer >= 1', n);
  if (!(Number.isInteger(s.population) && s.population >= 2)) fail('population', 'an integer >= 2', s.population);
  if (!(Number.isInteger(s.elite) && s.elite >= 0 && s.elite <= s.population)) fail('elite', `an integer in [0, population = ${s.population}]`, s.elite);
  if (!SELECTION_NAMES.includes(s.selection)) fail('selection', SELECTION_NAMES.join(' or '), s.selection);
  if (!(Number.isInteger(s.tournamentSize) && s.tournamentSize >= 1)) fail('tournamentSize', 'an integer >= 1', s.tournamentSize);
  if (!CROSSOVER_NAMES.includes(s.crossover)) fail('crossover', CROSSOVER_NAMES.join(' or '), s.crossover);
  if (!(s.crossoverRate >= 0 && s.crossoverRate <= 1)) fail('crossoverRate', 'in [0, 1]', s.crossoverRate);
  if (!(s.mutationRate >= 0 && s.mutationRate <= 1)) fail('mutationRate', 'in [0, 1]', s.mutationRate);
  if (!(s.mutationScale >= 0 && s.mutationScale < Infinity)) fail('mutationScale', 'finite and >= 0', s.mutationScale);
  if (!(s.mutationDecay > 0 && s.mutationDecay <= 1)) fail('mutationDecay', 'in (0, 1]', s.mutationDecay);
}
