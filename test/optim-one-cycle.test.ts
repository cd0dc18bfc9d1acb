/**
 * The one-cycle schedule (PyTorch's OneCycleLR) against values worked out by hand, and the cycled
 * momentum on its way into the optimizers: Adam's beta1 of the step, its bias correction, and the
 * gradient core's fused update, which must read the same step constants.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.ts';
import { initParams } from '../src/nn/init.ts';
import { planNetwork } from '../src/nn/plan.ts';
import { Rng } from '../src/random/rng.ts';
import { Adam, createOptimizer, learningRateAt, Momentum, momentumAt, type OneCycleSpec } from '../src/optim/index.ts';
import { coreTracker, fillPattern, mlp } from './core-helpers.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

// T = 40 steps, warmup 0.25: the rise ends at E1 = 0.25 * 40 - 1 = 9, the fall at E2 = 39.
// lr 0.1: start 0.1 / 25 = 0.004, end 0.004 / 1e4 = 4e-7. anneal(a, b, p) = b + (a - b)(1 + cos(pi p)) / 2,
// so p = 1/3 gives b + 0.75 (a - b) (cos(pi/3) = 1/2) and p = 1/2 gives the midpoint.
const cycle: OneCycleSpec = { type: 'one-cycle', warmup: 0.25, divFactor: 25, finalDivFactor: 1e4, cycleMomentum: true, baseMomentum: 0.85, maxMomentum: 0.95 };
const lr = (s: number) => learningRateAt(0.1, cycle, 0, s, 10, 40);
const momentum = (s: number) => momentumAt(cycle, s, 40);

describe('one-cycle schedule', () => {
  it('rises from lr / divFactor to lr over the warmup share, momentum 0.95 -> 0.85', () => {
    expect(lr(0)).toBeCloseTo(0.004, 15);
    expect(momentum(0)).toBeCloseTo(0.95, 15);
    expect(lr(3)).toBeCloseTo(0.1 + 0.75 * (0.004 - 0.1), 15); // p = 3/9: 0.028
    expect(lr(3)).toBeCloseTo(0.028, 15);
    expect(momentum(3)).toBeCloseTo(0.925, 15); // 0.85 + 0.75 * 0.1
    expect(lr(9)).toBeCloseTo(0.1, 15);
    expect(momentum(9)).toBeCloseTo(0.85, 15);
  });

  it('falls to lr / divFactor / finalDivFactor at the last step, momentum back to 0.95', () => {
    expect(lr(19)).toBeCloseTo(4e-7 + 0.75 * (0.1 - 4e-7), 15); // p = 10/30
    expect(momentum(19)).toBeCloseTo(0.875, 15); // 0.95 - 0.75 * 0.1
    expect(lr(24)).toBeCloseTo((0.1 + 4e-7) / 2, 15); // p = 1/2
    expect(momentum(24)).toBeCloseTo(0.9, 15);
    expect(lr(39)).toBeCloseTo(4e-7, 18);
    expect(momentum(39)).toBeCloseTo(0.95, 15);
    expect(lr(50)).toBeCloseTo(4e-7, 18); // past the end: stays there
  });

  it('keeps the fractional end of the rise as PyTorch does (pct_start * T - 1)', () => {
    // T = 1875, warmup 0.1: E1 = 186.5, so step 186 is still rising and step 187 already falls.
    const spec = { ...cycle, warmup: 0.1 };
    expect(learningRateAt(1e-3, spec, 0, 186, 125, 1875)).toBeLessThan(1e-3);
    expect(learningRateAt(1e-3, spec, 0, 187, 125, 1875)).toBeLessThan(1e-3);
    const p186 = 186 / 186.5;
    expect(learningRateAt(1e-3, spec, 0, 186, 125, 1875)).toBeCloseTo(1e-3 + ((4e-5 - 1e-3) * (1 + Math.cos(Math.PI * p186))) / 2, 18);
    const p187 = 0.5 / (1874 - 186.5);
    expect(learningRateAt(1e-3, spec, 0, 187, 125, 1875)).toBeCloseTo(4e-9 + ((1e-3 - 4e-9) * (1 + Math.cos(Math.PI * p187))) / 2, 18);
  });

  it('gives no momentum without cycleMomentum or for other schedules', () => {
    expect(momentumAt({ ...cycle, cycleMomentum: false }, 5, 40)).toBeNull();
    expect(momentumAt({ type: 'cosine', minLr: 0 }, 5, 40)).toBeNull();
  });

  it('is a config schedule with PyTorch\'s defaults, and refuses what contradicts it', () => {
    const parsed = configSchema.parse({ optimizer: { type: 'adam', lr: 0.001, schedule: { type: 'one-cycle' } } });
    expect(parsed.optimizer).toMatchObject({ schedule: { type: 'one-cycle', warmup: 0.3, divFactor: 25, finalDivFactor: 1e4, cycleMomentum: true, baseMomentum: 0.85, maxMomentum: 0.95 } });
    const issues = (o: object) => configSchema.safeParse({ optimizer: o }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ type: 'adam', lr: 0.001, warmupSteps: 10, schedule: { type: 'one-cycle' } })).toEqual([
      'optimizer.warmupSteps: must be 0 with the one-cycle schedule (its warmup share is the rise)',
    ]);
    expect(issues({ type: 'sgd', lr: 0.1, schedule: { type: 'one-cycle' } })).toEqual(['optimizer.schedule.cycleMomentum: must be false: sgd has no momentum to cycle']);
    expect(issues({ type: 'sgd', lr: 0.1, schedule: { type: 'one-cycle', cycleMomentum: false } })).toEqual([]);
    expect(issues({ type: 'adam', lr: 0.1, schedule: { type: 'one-cycle', baseMomentum: 0.96 } })).toEqual(['optimizer.schedule.baseMomentum: must be at most maxMomentum']);
  });
});

describe('the momentum a schedule sets', () => {
  const betas = [0.95, 0.93, 0.9, 0.88, 0.9];

  it('Adam uses the step\'s beta1 and the correction 1 - beta1_t^t (PyTorch\'s), worked out in double', () => {
    const n = 5;
    const adam = new Adam(n, { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    const params = new Float32Array(n);
    const grads = new Float32Array(n);
    const w = new Float64Array(n);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    betas.forEach((b1, k) => {
      const t = k + 1;
      fillPattern(grads, 50 + k);
      adam.step(params, grads, 0.01, b1);
      for (let i = 0; i < n; i++) {
        const g = grads[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = 0.999 * v[i]! + 0.001 * g * g;
        w[i] = w[i]! - (0.01 * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
      }
    });
    for (let i = 0; i < n; i++) expect(params[i]).toBeCloseTo(w[i]!, 6);
  });

  it('a momentum equal to the optimizer\'s own changes nothing, bit for bit', () => {
    for (const spec of [
      { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      { type: 'momentum', beta: 0.9, form: 'ewa', biasCorrection: true },
      { type: 'nesterov', beta: 0.9 },
    ] as const) {
      const a = createOptimizer(spec, 7);
      const b = createOptimizer(spec, 7);
      const pa = new Float32Array(7);
      const pb = new Float32Array(7);
      const g = new Float32Array(7);
      for (let k = 0; k < 4; k++) {
        fillPattern(g, k);
        a.step(pa, g, 0.01);
        b.step(pb, g, 0.01, 0.9);
      }
      expect(Array.from(pb)).toEqual(Array.from(pa));
    }
  });

  it('momentum (classic) follows v = beta_t v + g', () => {
    const opt = new Momentum(3, { type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: false });
    const p = new Float32Array(3);
    const g = Float32Array.from([1, -2, 0.5]);
    opt.step(p, g, 0.1, 0.95); // v = g
    opt.step(p, g, 0.1, 0.5); // v = 0.5 g + g = 1.5 g
    for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(-0.1 * g[i]! - 0.1 * 1.5 * g[i]!, 6);
  });

  it('optimizers without a momentum refuse one', () => {
    expect(() => createOptimizer({ type: 'sgd' }, 2).step(new Float32Array(2), new Float32Array(2), 0.1, 0.9)).toThrow('has no momentum');
    expect(() => createOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 2).step(new Float32Array(2), new Float32Array(2), 0.1, 1)).toThrow(RangeError);
  });

  it('the gradient core\'s fused update uses it: equal to the TypeScript optimizer bit for bit', async () => {
    const network = mlp(12, [6], 'tanh');
    const plan = planNetwork(network);
    const spec = { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
    const core = await cores.make({ network, maxBatch: 4, loss: 'bce', workers: 2 });
    initParams(plan, core.params, new Rng(3));
    core.setOptimizer(spec);
    const reference = createOptimizer(spec, core.paramCount);
    const plain = Float32Array.from(core.params);
    const plainOpt = createOptimizer(spec, core.paramCount);
    for (const [k, b1] of betas.entries()) {
      fillPattern(core.input, 300 + k);
      for (let s = 0; s < 4; s++) core.labels[s] = (s + k) % 2;
      const params = Float32Array.from(core.params);
      core.gradient(4);
      const grads = Float32Array.from(core.grads);
      core.trainStep(4, 0.05, k, b1);
      reference.step(params, grads, 0.05, b1);
      plainOpt.step(plain, grads, 0.05);
      expect(Array.from(core.params)).toEqual(Array.from(params));
    }
    expect(Array.from(core.params)).not.toEqual(Array.from(plain));
  });
});
