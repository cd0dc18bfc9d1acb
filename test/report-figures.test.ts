import { describe, expect, it } from 'vitest';
import { EWA_BETAS, ewaFigure, RAVINE_DEFAULTS, ravineFigure, ravineLoss } from '../src/report/figures.ts';
import { ewaFigureSvg, ravineFigureSvg, ravinePathLabel } from '../src/report/figure-charts.ts';
import { chartPart, inkFraction, pixelsOfColor, rasterise, seriesShapes, seriesValues } from './report-helpers.ts';

describe('EWA figure data', () => {
  const fig = ewaFigure(1);

  it('is a noisy cosine: one period, starting at 1, noise of the stated size, seeded', () => {
    expect(fig.t).toHaveLength(200);
    expect(fig.clean[0]).toBe(1);
    expect(fig.clean[100]).toBeCloseTo(-1, 12);
    const noise = fig.samples.map((s, i) => s - fig.clean[i]!);
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / noise.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sd).toBeGreaterThan(0.2);
    expect(sd).toBeLessThan(0.4);
    expect(ewaFigure(1).samples).toEqual(fig.samples);
    expect(ewaFigure(2).samples).not.toEqual(fig.samples);
  });

  it('has each beta without and with bias correction', () => {
    expect(fig.averages.map((a) => [a.beta, a.biasCorrection])).toEqual([
      ...EWA_BETAS.map((b) => [b, false]),
      ...EWA_BETAS.map((b) => [b, true]),
    ]);
  });

  it('follows a_t = beta a_(t-1) + (1 - beta) x_t from a_0 = 0, and corrects by 1 - beta^t', () => {
    for (const beta of EWA_BETAS) {
      const plain = fig.averages.find((a) => a.beta === beta && !a.biasCorrection)!.values;
      const corrected = fig.averages.find((a) => a.beta === beta && a.biasCorrection)!.values;
      let a = 0;
      fig.samples.forEach((x, i) => {
        a = beta * a + (1 - beta) * x;
        expect(plain[i]).toBeCloseTo(a, 12);
        expect(corrected[i]).toBeCloseTo(a / (1 - beta ** (i + 1)), 10);
      });
      // The point of the figure: with correction the first average is the first sample;
      // without it, it is only (1 - beta) times the first sample.
      expect(corrected[0]).toBeCloseTo(fig.samples[0]!, 12);
      expect(plain[0]).toBeCloseTo((1 - beta) * fig.samples[0]!, 12);
    }
  });
});

describe('ravine figure data', () => {
  const fig = ravineFigure();
  const path = (type: string) => fig.paths.find((p) => p.spec.type === type)!;
  const { lr, beta, steps, start } = RAVINE_DEFAULTS;

  it('runs gradient descent, momentum and Nesterov from the same start', () => {
    expect(fig.paths.map((p) => p.spec.type)).toEqual(['sgd', 'momentum', 'nesterov']);
    for (const p of fig.paths) {
      expect(p.x).toHaveLength(steps + 1);
      expect([p.x[0], p.y[0]]).toEqual([...start]);
      p.loss.forEach((l, i) => expect(l).toBeCloseTo(ravineLoss(p.x[i]!, p.y[i]!), 12));
    }
  });

  // Hand-derived updates on f = 0.5 (x^2 + 50 y^2), gradient (x, 50 y), in double precision;
  // the optimizers work in float32, hence the tolerance.
  const expectPath = (p: { x: number[]; y: number[] }, expected: [number, number][]): void => {
    expected.forEach(([x, y], k) => {
      expect(p.x[k]).toBeCloseTo(x, 4);
      expect(p.y[k]).toBeCloseTo(y, 4);
    });
  };

  it('gradient descent path: x_k = (1 - lr)^k x_0, y_k = (1 - 50 lr)^k y_0', () => {
    expectPath(path('sgd'), Array.from({ length: steps + 1 }, (_, k) => [(1 - lr) ** k * start[0], (1 - 50 * lr) ** k * start[1]]));
  });

  it('momentum path: v <- beta v + g, w <- w - lr v (heavy ball)', () => {
    const w = [...start];
    const v = [0, 0];
    const expected: [number, number][] = [[w[0]!, w[1]!]];
    for (let k = 0; k < steps; k++) {
      const g = [w[0]!, 50 * w[1]!];
      for (const i of [0, 1]) {
        v[i] = beta * v[i]! + g[i]!;
        w[i] = w[i]! - lr * v[i]!;
      }
      expected.push([w[0]!, w[1]!]);
    }
    expectPath(path('momentum'), expected);
  });

  it('Nesterov path: v <- beta v + g, w <- w - lr (g + beta v)', () => {
    const w = [...start];
    const v = [0, 0];
    const expected: [number, number][] = [[w[0]!, w[1]!]];
    for (let k = 0; k < steps; k++) {
      const g = [w[0]!, 50 * w[1]!];
      for (const i of [0, 1]) {
        v[i] = beta * v[i]! + g[i]!;
        w[i] = w[i]! - lr * (g[i]! + beta * v[i]!);
      }
      expected.push([w[0]!, w[1]!]);
    }
    expectPath(path('nesterov'), expected);
  });

  it('momentum and Nesterov end far closer to the minimum than gradient descent in the same steps', () => {
    const distance = (p: { x: number[]; y: number[] }): number => Math.hypot(p.x[steps]!, p.y[steps]!);
    const gd = distance(path('sgd'));
    expect(gd).toBeGreaterThan(1); // still crawling along the floor of the ravine
    expect(distance(path('momentum'))).toBeLessThan(gd / 10);
    expect(distance(path('nesterov'))).toBeLessThan(gd / 10);
  });

  it('takes other settings, and the paths change with them', () => {
    const other = ravineFigure({ lr: 0.01, steps: 5 });
    expect(other.paths[0]!.x).toHaveLength(6);
    expect(other.paths[0]!.x[1]).toBeCloseTo(0.99 * start[0], 5);
  });
});

describe('figure SVGs', () => {
  it('EWA: 1000 x 440, not blank, lines placed at the averages', async () => {
    const fig = ewaFigure(1);
    const svg = ewaFigureSvg(fig);
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([1000, 440]);
    expect(inkFraction(r)).toBeGreaterThan(0.02);
    for (const color of ['#0072B2', '#D55E00', '#009E73']) expect(pixelsOfColor(r, color)).toBeGreaterThan(200);
    for (const [panel, biasCorrection] of [['plain', false], ['corrected', true]] as const) {
      const part = chartPart(svg, panel);
      for (const avg of fig.averages.filter((a) => a.biasCorrection === biasCorrection)) {
        const [line] = seriesValues(part, `β = ${avg.beta}`);
        expect(line).toHaveLength(fig.t.length);
        line!.forEach((p, i) => {
          expect(p.x).toBeCloseTo(fig.t[i]!, 1);
          expect(p.y).toBeCloseTo(avg.values[i]!, 2);
        });
      }
      expect(seriesShapes(part, 'noisy samples').dots).toHaveLength(fig.samples.length);
    }
  });

  it('ravine: 900 x 460, not blank, each path drawn through its optimizer steps', async () => {
    const fig = ravineFigure();
    const svg = ravineFigureSvg(fig);
    const r = await rasterise(svg);
    expect([r.width, r.height]).toEqual([900, 460]);
    expect(inkFraction(r)).toBeGreaterThan(0.02);
    for (const p of fig.paths) {
      const [line] = seriesValues(svg, ravinePathLabel(p));
      expect(line).toHaveLength(p.x.length);
      line!.forEach((q, i) => {
        expect(q.x).toBeCloseTo(p.x[i]!, 1);
        expect(q.y).toBeCloseTo(p.y[i]!, 2);
      });
    }
  });
});

describe('ravine legend', () => {
  it('says how far each method ended from the minimum', () => {
    const fig = ravineFigure();
    const labels = fig.paths.map(ravinePathLabel);
    expect(labels[0]).toMatch(/^gradient descent: ends \d\.\d from the minimum$/);
    const d = Math.hypot(fig.paths[0]!.x.at(-1)!, fig.paths[0]!.y.at(-1)!);
    expect(labels[0]).toContain(d.toPrecision(2));
  });
});
