// The claims made for momentum, measured on a ravine: the ill-conditioned quadratic
//   f(x, y) = 0.5 (x^2 + 50 y^2),  gradient (x, 50 y),  curvatures 1 and L = 50,  minimum at (0, 0).
import { describe, expect, it } from 'vitest';
import { createOptimizer, type OptimizerSpec } from '../src/optim/index.ts';

function ravineGradient(p: Float32Array, g: Float32Array): void {
  g[0] = p[0]!;
  g[1] = 50 * p[1]!;
}

/** Steps from (1, 1) until the distance to the minimum is below `tol` (Infinity if never within maxSteps). */
function stepsToReach(spec: OptimizerSpec, lr: number, tol: number, maxSteps = 5000): number {
  const p = new Float32Array([1, 1]);
  const g = new Float32Array(2);
  const opt = createOptimizer(spec, 2);
  for (let k = 0; k < maxSteps; k++) {
    if (Math.hypot(p[0]!, p[1]!) < tol) return k;
    ravineGradient(p, g);
    opt.step(p, g, lr);
  }
  return Infinity;
}

/** The points visited in `steps` steps from (1, 1). */
function path(spec: OptimizerSpec, lr: number, steps: number): Float32Array[] {
  const p = new Float32Array([1, 1]);
  const g = new Float32Array(2);
  const opt = createOptimizer(spec, 2);
  const points: Float32Array[] = [];
  for (let k = 0; k < steps; k++) {
    ravineGradient(p, g);
    opt.step(p, g, lr);
    points.push(p.slice());
  }
  return points;
}

describe('the ravine f = 0.5 (x^2 + 50 y^2)', () => {
  const lr = 0.01; // stable for gradient descent (< 2/L = 0.04), which then crawls along x: x_k = 0.99^k
  const tol = 1e-3;

  it('momentum and Nesterov reach the minimum in several times fewer steps than gradient descent at the same lr', () => {
    const gd = stepsToReach({ type: 'sgd' }, lr, tol);
    const momentum = stepsToReach({ type: 'momentum', beta: 0.9, form: 'classic', biasCorrection: false }, lr, tol);
    const nesterov = stepsToReach({ type: 'nesterov', beta: 0.9 }, lr, tol);
    // Gradient descent: 0.99^k < 1e-3 needs k = ceil(ln(1e-3) / ln(0.99)) = 688 steps.
    expect(gd).toBe(688);
    // Measured: momentum 95, Nesterov 61 (the heavy ball contracts by about sqrt(beta) = 0.95 per step).
    expect(gd / momentum).toBeGreaterThanOrEqual(4);
    expect(gd / nesterov).toBeGreaterThanOrEqual(4);
  });

  it('gradient descent converges below lr = 2/L and diverges above it', () => {
    // Along y each step multiplies y by (1 - 50 lr): |1 - 50 * 0.039| = 0.95 < 1, |1 - 50 * 0.041| = 1.05 > 1.
    const below = path({ type: 'sgd' }, 0.039, 300).at(-1)!;
    const above = path({ type: 'sgd' }, 0.041, 300).at(-1)!;
    expect(Math.hypot(below[0]!, below[1]!)).toBeLessThan(1e-3);
    expect(Math.abs(above[1]!)).toBeGreaterThan(1e6); // 1.05^300 = 2.3e6
  });

  it('the two momentum forms give the same trajectory when lr is rescaled by (1 - beta)', () => {
    const beta = 0.9;
    for (const biasCorrection of [false, true]) {
      const classic = path({ type: 'momentum', beta, form: 'classic', biasCorrection }, lr, 200);
      const ewa = path({ type: 'momentum', beta, form: 'ewa', biasCorrection }, lr / (1 - beta), 200);
      // Same trajectory up to float32 rounding (values of order 1: a few ulps of 6e-8).
      classic.forEach((point, k) => {
        expect(Math.abs(point[0]! - ewa[k]![0]!)).toBeLessThan(2e-6);
        expect(Math.abs(point[1]! - ewa[k]![1]!)).toBeLessThan(2e-6);
      });
    }
    // ...and different ones at the same lr (ewa steps are (1 - beta) times smaller at first).
    const classic = path({ type: 'momentum', beta, form: 'classic', biasCorrection: false }, lr, 5).at(-1)!;
    const ewa = path({ type: 'momentum', beta, form: 'ewa', biasCorrection: false }, lr, 5).at(-1)!;
    expect(Math.abs(classic[0]! - ewa[0]!)).toBeGreaterThan(1e-2);
  });
});
