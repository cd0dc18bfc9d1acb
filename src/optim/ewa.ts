/**
 * An exponentially weighted average of a stream of numbers, with optional bias correction;
 * used to smooth the loss shown in the terminal and by `nn-plot ewa`.
 *
 *   a_t = beta * a_{t-1} + (1 - beta) * x_t,   a_0 = 0
 *   corrected: a_t / (1 - beta^t)
 *
 * It averages roughly the last 1 / (1 - beta) values. As a_0 = 0, the first averages are biased
 * toward 0 (a_1 = (1 - beta) x_1); the weights of a_t sum to 1 - beta^t, and dividing by that sum
 * removes the bias (corrected a_1 = x_1). Plain numbers (double): this is for display, not the
 * float32 hot path.
 */
import { checkDecay, runningPower } from './optimizer.ts';

export interface EwaState {
  t: number;
  average: number;
}

export class ExponentiallyWeightedAverage {
  readonly beta: number;
  readonly biasCorrection: boolean;
  private average = 0;
  private steps = 0;
  private betaPower = 1;

  constructor(beta: number, biasCorrection = true) {
    checkDecay('ExponentiallyWeightedAverage', 'beta', beta);
    this.beta = beta;
    this.biasCorrection = biasCorrection;
  }

  /** Adds x; returns the new (corrected, if enabled) average. */
  push(x: number): number {
    this.steps++;
    this.betaPower *= this.beta;
    this.average = this.beta * this.average + (1 - this.beta) * x;
    return this.value;
  }

  /** The current (corrected, if enabled) average; NaN before the first push. */
  get value(): number {
    if (this.steps === 0) return NaN;
    return this.biasCorrection ? this.average / (1 - this.betaPower) : this.average;
  }

  /** Number of values pushed. */
  get t(): number {
    return this.steps;
  }

  getState(): EwaState {
    return { t: this.steps, average: this.average };
  }

  setState(state: EwaState): void {
    if (!(Number.isInteger(state.t) && state.t >= 0)) throw new Error(`ExponentiallyWeightedAverage: t must be an integer >= 0, got ${state.t}`);
    if (!Number.isFinite(state.average)) throw new Error(`ExponentiallyWeightedAverage: average must be a finite number, got ${state.average}`);
    this.steps = state.t;
    this.average = state.average;
    this.betaPower = runningPower(this.beta, state.t);
  }
}
