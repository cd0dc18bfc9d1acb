// The genetic algorithm on flat buffers (src/optim/genetic.ts): each operator checked on its own,
// determinism, elitism, and save / restore.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/random/rng.ts';
import { GeneticAlgorithm, type GeneticSpec } from '../src/optim/genetic.ts';

const SPEC: GeneticSpec = {
  population: 20,
  elite: 2,
  selection: 'tournament',
  tournamentSize: 3,
  crossover: 'uniform',
  crossoverRate: 0.8,
  mutationRate: 0.2,
  mutationScale: 0.3,
  mutationDecay: 0.99,
};
const N = 12;

/** Fitness of a weight vector: minus the squared distance to a target (maximum 0 at the target). */
const TARGET = Float64Array.from({ length: N }, (_, j) => Math.sin(j + 1));
function sphere(w: Float32Array): number {
  let s = 0;
  for (let j = 0; j < w.length; j++) s -= (w[j]! - TARGET[j]!) ** 2;
  return s;
}

function make(spec: Partial<GeneticSpec> = {}, seed = 7, n = N): GeneticAlgorithm {
  const ga = new GeneticAlgorithm(n, { ...SPEC, ...spec }, new Rng(seed));
  const init = new Rng(1000 + seed);
  for (let i = 0; i < ga.population.length; i++) ga.population[i] = init.normal();
  return ga;
}

function score(ga: GeneticAlgorithm, f: (w: Float32Array) => number = sphere): void {
  for (let i = 0; i < ga.size; i++) ga.fitness[i] = f(ga.individual(i));
}

function run(ga: GeneticAlgorithm, generations: number): void {
  for (let g = 0; g < generations; g++) {
    score(ga);
    ga.evolve();
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('GeneticAlgorithm', () => {
  it('approaches the optimum of a smooth function (sphere in 12 dimensions)', () => {
    const ga = make({ population: 40, mutationDecay: 0.995 });
    score(ga);
    const start = ga.fitness[ga.best()]!;
    run(ga, 300);
    score(ga);
    const end = ga.fitness[ga.best()]!;
    expect(start).toBeLessThan(-3);
    expect(end).toBeGreaterThan(-0.05); // within about 0.06 per coordinate of the target
  });

  it('gives the same population for the same seed, and another for another seed', () => {
    for (const spec of [{}, { selection: 'rank' as const, crossover: 'one-point' as const }]) {
      const a = make(spec, 3);
      const b = make(spec, 3);
      const c = make(spec, 4);
      run(a, 25);
      run(b, 25);
      run(c, 25);
      expect(sameBits(a.population, b.population)).toBe(true);
      expect(sameBits(a.population, c.population)).toBe(false);
    }
  });

  it('with elitism the best fitness never decreases and the best is carried over bit for bit', () => {
    for (const elite of [1, 3]) {
      const ga = make({ elite, mutationRate: 1, mutationScale: 2, crossoverRate: 1 });
      let previous = -Infinity;
      for (let g = 0; g < 60; g++) {
        score(ga);
        const best = ga.best();
        expect(ga.fitness[best]!).toBeGreaterThanOrEqual(previous);
        previous = ga.fitness[best]!;
        const copy = Float32Array.from(ga.individual(best));
        ga.evolve();
        expect(sameBits(ga.individual(0), copy)).toBe(true);
      }
    }
  });

  it('without elitism the same harsh mutation does lose the best (so the test above can fail)', () => {
    const ga = make({ elite: 0, mutationRate: 1, mutationScale: 2, crossoverRate: 1 });
    let previous = -Infinity;
    let drops = 0;
    for (let g = 0; g < 60; g++) {
      score(ga);
      const best = ga.fitness[ga.best()]!;
      if (best < previous) drops++;
      previous = best;
      ga.evolve();
    }
    expect(drops).toBeGreaterThan(5);
  });

  it('ranks best first, NaN as -Infinity, ties by index', () => {
    const ga = make({ population: 5 });
    ga.fitness.set([1, NaN, 3, 1, -Infinity]);
    ga.rank();
    expect([0, 1, 2, 3, 4].map((r) => ga.rankedIndividual(r))).toEqual([2, 0, 3, 1, 4]);
    expect(ga.best()).toBe(2);
  });

  it('rank selection picks rank r with probability (P - r) / (P (P + 1) / 2)', () => {
    const P = 5;
    const ga = make({ population: P, selection: 'rank' });
    ga.fitness.set([0, 4, 2, 3, 1]); // ranks: individual 1, 3, 2, 4, 0
    ga.rank();
    const counts = new Map<number, number>();
    const draws = 60_000;
    for (let k = 0; k < draws; k++) {
      const i = ga.select();
      counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    const order = [1, 3, 2, 4, 0];
    order.forEach((individual, r) => {
      const expected = (P - r) / ((P * (P + 1)) / 2); // 5/15, 4/15, 3/15, 2/15, 1/15
      expect(Math.abs((counts.get(individual) ?? 0) / draws - expected)).toBeLessThan(0.01);
    });
  });

  it('tournament selection picks the best with probability 1 - (1 - 1/P)^size, the worst with (1/P)^size', () => {
    const P = 10;
    for (const size of [2, 4]) {
      const ga = make({ population: P, tournamentSize: size });
      ga.fitness.set(Array.from({ length: P }, (_, i) => -i)); // individual 0 best, 9 worst
      ga.rank();
      let best = 0;
      let worst = 0;
      const draws = 50_000;
      for (let k = 0; k < draws; k++) {
        const i = ga.select();
        if (i === 0) best++;
        if (i === P - 1) worst++;
      }
      expect(Math.abs(best / draws - (1 - (1 - 1 / P) ** size))).toBeLessThan(0.01);
      expect(Math.abs(worst / draws - (1 / P) ** size)).toBeLessThan(0.005);
    }
  });

  /**
   * Two distinguishable parents: individual 0 all +1 (fittest), all others -1. With no mutation and
   * crossover always on, every child gene is +1 or -1, and where it came from is visible.
   */
  function twoKinds(spec: Partial<GeneticSpec>, n: number): GeneticAlgorithm {
    const ga = new GeneticAlgorithm(n, { ...SPEC, elite: 0, mutationRate: 0, crossoverRate: 1, ...spec }, new Rng(11));
    ga.population.fill(-1);
    ga.individual(0).fill(1);
    ga.fitness.fill(0);
    ga.fitness[0] = 1;
    return ga;
  }

  it('uniform crossover takes each weight from either parent with probability 1/2', () => {
    const n = 1000;
    const ga = twoKinds({ population: 4, crossover: 'uniform', selection: 'rank' }, n);
    // Collect children whose parents were the +1 and a -1 individual: their genes are mixed.
    ga.evolve();
    let mixed = 0;
    for (let i = 0; i < 4; i++) {
      const w = ga.individual(i);
      let plus = 0;
      for (let j = 0; j < n; j++) {
        expect(Math.abs(w[j]!)).toBe(1);
        if (w[j] === 1) plus++;
      }
      if (plus > 0 && plus < n) {
        mixed++;
        expect(Math.abs(plus / n - 0.5)).toBeLessThan(0.07);
      }
    }
    expect(mixed).toBeGreaterThan(0);
  });

  it('one-point crossover gives a prefix of one parent and the suffix of the other', () => {
    const n = 50;
    const ga = twoKinds({ population: 8, crossover: 'one-point', selection: 'rank' }, n);
    ga.evolve();
    let cut = 0;
    for (let i = 0; i < 8; i++) {
      const w = Array.from(ga.individual(i));
      const changes = w.slice(1).filter((v, j) => v !== w[j]).length;
      expect(changes).toBeLessThanOrEqual(1);
      if (changes === 1) cut++;
    }
    expect(cut).toBeGreaterThan(0);
  });

  it('with crossoverRate 0 and no mutation, children are exact copies of selected parents', () => {
    const ga = make({ crossoverRate: 0, mutationRate: 0 });
    score(ga);
    const before = Float32Array.from(ga.population);
    ga.evolve();
    for (let i = 0; i < ga.size; i++) {
      const child = ga.individual(i);
      const found = Array.from({ length: ga.size }, (_, p) => sameBits(child, before.subarray(p * N, (p + 1) * N))).some(Boolean);
      expect(found).toBe(true);
    }
  });

  it('mutates about mutationRate of the weights by N(0, sigma^2), sigma decaying per generation', () => {
    const n = 20_000;
    const rate = 0.05;
    const sigma = 0.5;
    const ga = new GeneticAlgorithm(n, { ...SPEC, population: 2, elite: 1, crossoverRate: 0, mutationRate: rate, mutationScale: sigma, mutationDecay: 0.9 }, new Rng(5));
    ga.population.fill(0);
    ga.fitness.set([1, 0]);
    ga.evolve(); // individual 0: the elite (all 0); individual 1: a mutated copy of a zero vector
    const child = ga.individual(1);
    let changed = 0;
    let sumSq = 0;
    for (let j = 0; j < n; j++) {
      if (child[j] !== 0) {
        changed++;
        sumSq += child[j]! ** 2;
      }
    }
    expect(ga.individual(0).every((v) => v === 0)).toBe(true);
    expect(Math.abs(changed / n - rate)).toBeLessThan(0.006); // ~4 standard errors
    expect(Math.abs(Math.sqrt(sumSq / changed) - sigma)).toBeLessThan(0.03);
    expect(ga.mutationScale).toBeCloseTo(sigma * 0.9, 15);
    ga.evolve();
    ga.evolve();
    expect(ga.generation).toBe(3);
    expect(ga.mutationScale).toBe(sigma * 0.9 * 0.9 * 0.9);
  });

  it('mutationRate 1 mutates every weight', () => {
    const ga = new GeneticAlgorithm(100, { ...SPEC, population: 2, elite: 1, crossoverRate: 0, mutationRate: 1 }, new Rng(5));
    ga.fitness.set([1, 0]);
    ga.evolve();
    expect(ga.individual(1).every((v) => v !== 0)).toBe(true);
  });

  it('save, restore into a fresh algorithm, continue: the uninterrupted run bit for bit', () => {
    for (const spec of [{}, { selection: 'rank' as const, crossover: 'one-point' as const }]) {
      const whole = make(spec);
      run(whole, 30);
      const first = make(spec);
      run(first, 12);
      const saved = first.getState();
      const resumed = new GeneticAlgorithm(N, { ...SPEC, ...spec }, new Rng(999)); // another seed: the state must override it
      resumed.setState(saved);
      expect(resumed.generation).toBe(12);
      run(resumed, 18);
      expect(sameBits(resumed.population, whole.population)).toBe(true);
      expect(resumed.mutationScale).toBe(whole.mutationScale);
      expect(resumed.generation).toBe(30);
    }
  });

  it('getState returns copies, and setState refuses a state of another size', () => {
    const ga = make();
    const state = ga.getState();
    state.population[0] = 12345;
    expect(ga.population[0]).not.toBe(12345);
    const other = new GeneticAlgorithm(N + 1, SPEC, new Rng(1));
    expect(() => other.setState(state)).toThrow(/saved population has 240 weights, expected 20 x 13/);
  });

  it('refuses impossible settings with the field name', () => {
    const rng = new Rng(1);
    expect(() => new GeneticAlgorithm(10, { ...SPEC, elite: 21 }, rng)).toThrow(/elite/);
    expect(() => new GeneticAlgorithm(10, { ...SPEC, population: 1 }, rng)).toThrow(/population/);
    expect(() => new GeneticAlgorithm(10, { ...SPEC, mutationRate: 1.5 }, rng)).toThrow(/mutationRate/);
    expect(() => new GeneticAlgorithm(10, { ...SPEC, mutationDecay: 0 }, rng)).toThrow(/mutationDecay/);
    expect(() => new GeneticAlgorithm(0, SPEC, rng)).toThrow(/number of weights/);
  });
});
