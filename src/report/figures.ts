/**
 * The data behind the seed's two figures, computed by the project's own code, never drawn by hand:
 *
 * - ewaFigure: a noisy cosine and its exponentially weighted averages for beta = 0.5, 0.9, 0.98,
 *   without and with bias correction (src/optim/ewa.ts).
 * - ravineFigure: the paths of gradient descent, momentum and Nesterov momentum on the
 *   ill-conditioned quadratic f(x, y) = 0.5 * (x^2 + 50 y^2) (the optimizers of src/optim).
 *
 * Pure functions: numbers in, numbers out; src/report/figure-charts.ts draws them.
 */
import { ExponentiallyWeightedAverage } from '../optim/ewa.ts';
import { createOptimizer, type OptimizerSpec } from '../optim/index.ts';
import { Rng } from '../random/rng.ts';

// ---------------------------------------------------------------------------------------------
// Exponentially weighted averages

export const EWA_BETAS = [0.5, 0.9, 0.98] as const;

export interface EwaAverage {
  beta: number;
  biasCorrection: boolean;
  /** The average after each sample: values[i] has seen samples[0..i]. */
  values: number[];
}

export interface EwaFigure {
  seed: number;
  /** Time steps 1..n (t in the formulas). */
  t: number[];
  /** The signal without noise, cos(2 pi (t - 1) / n): one full period, starting at its maximum. */
  clean: number[];
  /** clean + Gaussian noise (standard deviation `noise`), from the project's seeded Rng. */
  samples: number[];
  noise: number;
  /** For each beta of EWA_BETAS, without and then with bias correction. */
  averages: EwaAverage[];
}

/**
 * The signal starts at its maximum on purpose: an average that starts from 0 without bias
 * correction is then visibly wrong for the first ~1 / (1 - beta) steps, which is the point of
 * the figure.
 */
export function ewaFigure(seed = 1, n = 200, noise = 0.3): EwaFigure {
  const rng = new Rng(seed);
  const t = Array.from({ length: n }, (_, i) => i + 1);
  const clean = t.map((ti) => Math.cos((2 * Math.PI * (ti - 1)) / n));
  const samples = clean.map((c) => c + noise * rng.normal());
  const averages: EwaAverage[] = [];
  for (const biasCorrection of [false, true]) {
    for (const beta of EWA_BETAS) {
      const ewa = new ExponentiallyWeightedAverage(beta, biasCorrection);
      averages.push({ beta, biasCorrection, values: samples.map((x) => ewa.push(x)) });
    }
  }
  return { seed, t, clean, samples, noise, averages };
}

// ---------------------------------------------------------------------------------------------
// The ravine

/** Curvatures of f along x and y: f = 0.5 * (a x^2 + b y^2), so the gradient is (a x, b y). */
export const RAVINE_CURVATURE = [1, 50] as const;

export function ravineLoss(x: number, y: number): number {
  return 0.5 * (RAVINE_CURVATURE[0] * x * x + RAVINE_CURVATURE[1] * y * y);
}

export interface RavineOptions {
  /** One learning rate for all three methods, so the paths differ only by the method. */
  lr: number;
  beta: number;
  steps: number;
  start: readonly [number, number];
}

/**
 * Defaults. Gradient descent is stable for lr < 2 / 50 = 0.04; Nesterov (heavy-ball form) only for
 * lr * 50 < 1 + 1 / (1 + 2 beta), i.e. lr < 0.0277 at beta = 0.8, so 0.025 keeps all three
 * stable. beta = 0.8 rather than 0.9: at 0.9 the heavy ball circles the minimum for dozens of steps
 * and the picture turns into a scribble. In 40 steps GD crawls along the floor at (1 - lr) per
 * step while both momentum methods reach the minimum.
 */
export const RAVINE_DEFAULTS: RavineOptions = { lr: 0.025, beta: 0.8, steps: 40, start: [-10, 1] };

export interface RavinePath {
  name: string;
  spec: OptimizerSpec;
  /** The start point, then the point after each step: steps + 1 points. */
  x: number[];
  y: number[];
  loss: number[];
}

export interface RavineFigure extends RavineOptions {
  paths: RavinePath[];
  /** Level sets of f (ellipses), for the background. */
  contours: { level: number; x: number[]; y: number[] }[];
}

/** The methods of the figure, as the optimizer specs the training configs use. */
export function ravineMethods(beta: number): { name: string; spec: OptimizerSpec }[] {
  return [
    { name: 'gradient descent', spec: { type: 'sgd' } },
    // The heavy-ball form, as Nesterov below uses it: the same lr then means the same step scale.
    { name: `momentum (β = ${beta})`, spec: { type: 'momentum', beta, form: 'classic', biasCorrection: false } },
    { name: `Nesterov (β = ${beta})`, spec: { type: 'nesterov', beta } },
  ];
}

/** Runs one optimizer from `start` on f; the parameters are the flat buffer [x, y]. */
export function ravinePath(spec: OptimizerSpec, opts: RavineOptions): { x: number[]; y: number[]; loss: number[] } {
  const optimizer = createOptimizer(spec, 2);
  const params = Float32Array.from(opts.start);
  const grads = new Float32Array(2);
  const x = [params[0]!];
  const y = [params[1]!];
  for (let i = 0; i < opts.steps; i++) {
    grads[0] = RAVINE_CURVATURE[0] * params[0]!;
    grads[1] = RAVINE_CURVATURE[1] * params[1]!;
    optimizer.step(params, grads, opts.lr);
    x.push(params[0]!);
    y.push(params[1]!);
  }
  return { x, y, loss: x.map((xi, i) => ravineLoss(xi, y[i]!)) };
}

export function ravineFigure(options: Partial<RavineOptions> = {}): RavineFigure {
  const opts: RavineOptions = { ...RAVINE_DEFAULTS, ...options };
  const paths = ravineMethods(opts.beta).map(({ name, spec }) => ({ name, spec, ...ravinePath(spec, opts) }));
  // Ellipses f = level, through x = 1, 2, 4, ... on the y = 0 axis: x = r cos(theta), y = r / sqrt(50) sin(theta).
  const contours = [1, 2, 4, 6, 8, 10, 12].map((r) => {
    const x: number[] = [];
    const y: number[] = [];
    for (let k = 0; k <= 120; k++) {
      const theta = (2 * Math.PI * k) / 120;
      x.push((r / Math.sqrt(RAVINE_CURVATURE[0])) * Math.cos(theta));
      y.push((r / Math.sqrt(RAVINE_CURVATURE[1])) * Math.sin(theta));
    }
    return { level: 0.5 * r * r, x, y };
  });
  return { ...opts, paths, contours };
}
