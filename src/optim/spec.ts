/**
 * Plain-data descriptions of the optimizers: what the JSON config holds (validated by zod in
 * src/config) and what the WebAssembly gradient core reads. The update rules, and the exact order
 * of float operations each one uses, are in the doc comment of its class (sgd.ts ... adam.ts).
 */
export type OptimizerSpec =
  | { type: 'sgd' }
  | { type: 'momentum'; beta: number; form: 'ewa' | 'classic'; biasCorrection: boolean }
  | { type: 'nesterov'; beta: number }
  | { type: 'rmsprop'; rho: number; epsilon: number }
  | { type: 'adam'; beta1: number; beta2: number; epsilon: number };

export type GradientOptimizerType = OptimizerSpec['type'];

/** In order of increasing complexity. */
export const GRADIENT_OPTIMIZER_TYPES = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam'] as const satisfies readonly GradientOptimizerType[];
