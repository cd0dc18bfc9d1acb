/**
 * What every optimizer shares: a step counter t, state buffers of n values, and the split
 * of one step into beginStep() (once per step) and update(from, to) (on any disjoint ranges that
 * cover [0, n), in any order), so that the gradient core can update the parameters from several
 * threads.
 *
 * Float arithmetic (the contract the WebAssembly core reproduces bit for bit):
 *   - params, grads and state buffers are Float32Array in training; the parity bench's float64
 *     reference gives Float64Array ones, and the same code then keeps every value in double (the
 *     precision is the buffers', never written into the formulas);
 *   - per-step scalars (1 - beta, 1 - beta^t, lr / (1 - beta^t)) are computed in double, once per
 *     step or per update call, never per element; beta^t is a running product
 *     (beta^t = beta^(t-1) * beta in double, starting from 1), never Math.pow;
 *   - per element: the buffers' values are read, the formula is evaluated in double exactly in the
 *     order written in the optimizer's doc comment (left to right, parentheses as shown), and each
 *     result is rounded when stored (to float32 by a Float32Array: fround in the doc comments). A
 *     state value is stored first and read back, so the rounded value is what the parameter update
 *     reads.
 * Each element depends only on its own index and on per-step scalars, so the result does not depend
 * on how [0, n) is split: the split update equals the whole update bit for bit.
 *
 * Several threads may each hold their own instance over the same state buffers (`alloc` gives
 * shared memory): every instance calls beginStep() once per step, then update() on its own range.
 */
import type { GradientOptimizerType } from './spec.ts';

/** A flat buffer of weights, gradients or state: float32 in training, float64 for the reference. */
export type FloatBuffer = Float32Array | Float64Array;

/** Where state buffers come from: plain memory by default, shared memory for the worker core. */
export type Alloc = (n: number) => FloatBuffer;

export const defaultAlloc: Alloc = (n) => new Float32Array(n);

/** Everything a resumed run needs, as plain data (the checkpoint code serialises it). */
export interface OptimizerState {
  type: string;
  /** Number of steps taken. */
  t: number;
  /** Copies of the state buffers, by name (e.g. { m, v } for Adam), in float32 as checkpoints hold them. */
  buffers: Record<string, Float32Array>;
}

/** The most step constants an optimizer has (Adam's 8). */
export const MAX_STEP_CONSTANTS = 8;

export abstract class Optimizer {
  abstract readonly type: GradientOptimizerType;
  /** Number of parameters. */
  readonly n: number;
  private steps = 0;
  /** stepConstants() of the current update call. */
  protected readonly constants = new Float64Array(MAX_STEP_CONSTANTS);

  protected constructor(n: number) {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`optimizer: parameter count must be an integer >= 0, got ${n}`);
    this.n = n;
  }

  /** Steps taken; inside a step (after beginStep) it is the 1-based number of the current step. */
  get t(): number {
    return this.steps;
  }

  /** One whole step: beginStep(momentum), then update() on every parameter. */
  step(params: FloatBuffer, grads: FloatBuffer, lr: number, momentum: number | null = null): void {
    this.beginStep(momentum);
    this.update(params, grads, lr, 0, this.n);
  }

  /**
   * Starts step t + 1: increments t and updates the per-step scalars (such as beta^t). `momentum`,
   * when not null, is this step's momentum coefficient from the schedule (one-cycle): it replaces
   * the optimizer's own (Adam's beta1, the beta of momentum and Nesterov) for this step only.
   * Optimizers without a momentum refuse it.
   */
  beginStep(momentum: number | null = null): void {
    if (momentum !== null && !this.hasMomentum) throw new RangeError(`${this.type} optimizer: it has no momentum for a schedule to set`);
    if (momentum !== null) checkDecay(this.type, 'momentum', momentum);
    this.steps++;
  }

  /** Whether beginStep accepts a momentum (the optimizer has one). */
  protected get hasMomentum(): boolean {
    return false;
  }

  /** Updates params[from, to) from grads[from, to) and the state; call after beginStep(). */
  abstract update(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void;

  /**
   * The numbers the rule uses in the current step (computed in double, once per step), written to
   * out[0..): the one place they are derived. update() reads them, and so does the WebAssembly
   * update pass (src/core/kernels/update.as.ts reads them in this order, kind by kind).
   */
  abstract stepConstants(lr: number, out: Float64Array): void;

  /** The live state buffers (not copies), by name. */
  abstract stateBuffers(): Record<string, FloatBuffer>;

  /** A snapshot: copies of the state buffers and the step count. */
  getState(): OptimizerState {
    const buffers: Record<string, Float32Array> = {};
    for (const [name, buffer] of Object.entries(this.stateBuffers())) buffers[name] = Float32Array.from(buffer);
    return { type: this.type, t: this.steps, buffers };
  }

  /**
   * Restores a snapshot taken by getState() of an optimizer of the same type and size. The values
   * are copied into the existing buffers (which may be shared memory); the snapshot is not kept.
   */
  setState(state: OptimizerState): void {
    const who = `${this.type} optimizer`;
    if (state.type !== this.type) throw new Error(`${who}: cannot restore the state of a "${state.type}" optimizer`);
    if (!(Number.isInteger(state.t) && state.t >= 0)) throw new Error(`${who}: step count t must be an integer >= 0, got ${state.t}`);
    const own = this.stateBuffers();
    const expected = Object.keys(own);
    const given = Object.keys(state.buffers);
    const unknown = given.filter((name) => !(name in own));
    if (unknown.length > 0) throw new Error(`${who}: unknown state buffer "${unknown[0]}" (expected ${expected.join(', ') || 'none'})`);
    for (const name of expected) {
      const buffer = state.buffers[name];
      if (!buffer) throw new Error(`${who}: state buffer "${name}" is missing`);
      if (buffer.length !== this.n) throw new Error(`${who}: state buffer "${name}" has ${buffer.length} values, expected ${this.n}`);
    }
    for (const name of expected) own[name]!.set(state.buffers[name]!);
    this.steps = state.t;
    this.restoreStepScalars();
  }

  /** Recomputes the per-step scalars from t after setState (subclasses with beta^t override it). */
  protected restoreStepScalars(): void {}

  /** Allocates one state buffer of n values through `alloc`, checking its size. */
  protected allocate(alloc: Alloc, name: string): FloatBuffer {
    const buffer = alloc(this.n);
    if (buffer.length !== this.n) throw new RangeError(`${this.type} optimizer: alloc gave ${buffer.length} values for "${name}", expected ${this.n}`);
    return buffer;
  }

  /** The cheap argument checks of update(); they allocate nothing. */
  protected checkUpdate(params: FloatBuffer, grads: FloatBuffer, lr: number, from: number, to: number): void {
    if (this.steps === 0) throw new Error(`${this.type} optimizer: call beginStep() before update()`);
    if (params.length !== this.n || grads.length !== this.n) {
      throw new RangeError(`${this.type} optimizer: expected ${this.n} params and grads, got ${params.length} and ${grads.length}`);
    }
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= this.n)) {
      throw new RangeError(`${this.type} optimizer: range [${from}, ${to}) is not inside [0, ${this.n})`);
    }
    if (!(lr >= 0 && lr < Infinity)) throw new RangeError(`${this.type} optimizer: learning rate must be finite and >= 0, got ${lr}`);
  }
}

/** beta^t as the same running product the optimizers keep: t multiplications in double, from 1. */
export function runningPower(beta: number, t: number): number {
  let power = 1;
  for (let i = 0; i < t; i++) power *= beta;
  return power;
}

/** Throws unless 0 <= value < 1 (a decay rate such as beta or rho). */
export function checkDecay(owner: string, name: string, value: number): void {
  if (!(value >= 0 && value < 1)) throw new RangeError(`${owner}: ${name} must be in [0, 1), got ${value}`);
}

/** Throws unless value > 0 and finite (epsilon). */
export function checkPositive(owner: string, name: string, value: number): void {
  if (!(value > 0 && value < Infinity)) throw new RangeError(`${owner}: ${name} must be > 0, got ${value}`);
}
