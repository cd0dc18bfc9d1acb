/**
 * What the training loop needs from the gradient core (src/core), and the methods that improve
 * the weights one batch at a time: a gradient optimizer (this file) or the genetic algorithm.
 */
import type { GradientOptimizerConfig } from '../config/schema.ts';
import type { BatchRows, HeldImages } from '../core/batch-rows.ts';
import type { OptimizerState } from '../optim/optimizer.ts';
import { learningRateAt, momentumAt } from '../optim/schedule.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import type { SavedState } from '../io/checkpoint.ts';

/** The multithreaded core as the loop sees it (implemented by src/core). */
export interface Engine {
  readonly kernel: string;
  readonly workers: number;
  /** Weights and batch-norm statistics, cut by the network's plan (src/nn/plan.ts). */
  readonly params: Float32Array;
  readonly stats: Float32Array;
  /** The batch the next call works on: input (maxBatch, inputSize) and labels (maxBatch). */
  readonly input: Float32Array;
  readonly labels: Float32Array;
  setOptimizer(spec: OptimizerSpec, options: { weightDecay: number; clipNorm: number | null }): void;
  /**
   * Forward, loss, backward and optimizer update on the first B samples; `step` keys dropout;
   * `momentum` (null: the optimizer's own) is the schedule's momentum for the step. Returns the mean loss.
   */
  trainStep(B: number, lr: number, step: number, momentum?: number | null): number;
  /** Mean loss of the first B samples in inference mode, no update; with `probabilities`, P(dog) of each too. */
  evaluate(B: number, probabilities?: Float32Array): number;
  /** P(dog) of the first B samples into out[0..B). */
  predict(B: number, out: Float32Array): void;
  getOptimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;
  /**
   * Only on an engine whose trainStep returns NaN at once and delivers each step's loss later (the
   * GPU core): the losses that have come back since the last call, in step order (all of them,
   * waiting, with `wait`).
   */
  takeLosses?(wait: boolean, into: (loss: number) => void): void;
  /**
   * Only on an engine with memory of its own (the GPU core): keeps the images there; each batch is
   * then described in `rows` and formed by the engine. null when held, else why not (too large).
   */
  holdImages?(images: HeldImages): string | null;
  /** The next batch's rows once the images are held, else null or absent: the batch goes in `input`. */
  readonly rows?: BatchRows | null;
  close(): Promise<void>;
}

/** One way of improving the weights from one batch (already in engine.input / engine.labels). */
export interface TrainMethod {
  /** Trains on the first n samples of the batch; `step` is the 0-based global batch index. Returns the batch loss. */
  trainBatch(n: number, step: number): number;
  /** The learning rate at a step, for the log (null for methods without one). */
  learningRate(step: number): number | null;
  saveState(): SavedState;
  loadState(state: SavedState): void;
  /**
   * Present when trainBatch returns NaN and the losses arrive later (Engine.takeLosses): the loop
   * then counts each loss when it comes, in batch order.
   */
  takeLosses?(wait: boolean, into: (loss: number) => void): void;
  /** Numbers to report at the end of an epoch (and reset), e.g. the genetic algorithm's fitness. */
  epochExtra?(): Record<string, number>;
  /** Numbers of the last batch, shown with the progress (the genetic algorithm's generation). */
  batchExtra?(): Readonly<Record<string, number>>;
}

export function optimizerSpec(o: GradientOptimizerConfig): OptimizerSpec {
  switch (o.type) {
    case 'sgd':
      return { type: 'sgd' };
    case 'momentum':
      return { type: 'momentum', beta: o.beta, form: o.form, biasCorrection: o.biasCorrection };
    case 'nesterov':
      return { type: 'nesterov', beta: o.beta };
    case 'rmsprop':
      return { type: 'rmsprop', rho: o.rho, epsilon: o.epsilon };
    case 'adam':
      return { type: 'adam', beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon };
  }
}

/**
 * Gradient descent in any of its forms: the engine's fused step at the scheduled learning rate (and
 * momentum). It needs only the engine's steps and optimizer state, not its buffers (the parity
 * bench gives it the float64 reference core).
 */
export function gradientMethod(engine: Pick<Engine, 'setOptimizer' | 'trainStep' | 'takeLosses' | 'getOptimizerState' | 'setOptimizerState'>, o: GradientOptimizerConfig, stepsPerEpoch: number, totalSteps: number): TrainMethod {
  engine.setOptimizer(optimizerSpec(o), { weightDecay: o.weightDecay, clipNorm: o.clipNorm });
  const lrAt = (step: number) => learningRateAt(o.lr, o.schedule, o.warmupSteps, step, stepsPerEpoch, totalSteps);
  return {
    trainBatch: (n, step) => engine.trainStep(n, lrAt(step), step, momentumAt(o.schedule, step, totalSteps)),
    ...(engine.takeLosses ? { takeLosses: (wait: boolean, into: (loss: number) => void) => engine.takeLosses!(wait, into) } : {}),
    learningRate: lrAt,
    saveState() {
      const s = engine.getOptimizerState();
      return { type: s.type, scalars: { t: s.t }, buffers: s.buffers };
    },
    loadState(state) {
      engine.setOptimizerState({ type: state.type, t: Number(state.scalars.t ?? 0), buffers: state.buffers });
    },
  };
}
