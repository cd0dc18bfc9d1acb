// The optimizers' public surface: pure math on flat buffers (float32, or float64 for the reference), no I/O.
import { Adam } from './adam.ts';
import { Momentum } from './momentum.ts';
import { Nesterov } from './nesterov.ts';
import type { Alloc, Optimizer } from './optimizer.ts';
import { Rmsprop } from './rmsprop.ts';
import { Sgd } from './sgd.ts';
import type { OptimizerSpec } from './spec.ts';

export * from './adam.ts';
export * from './ewa.ts';
export * from './momentum.ts';
export * from './nesterov.ts';
export * from './optimizer.ts';
export * from './regularize.ts';
export * from './rmsprop.ts';
export * from './schedule.ts';
export * from './sgd.ts';
export * from './spec.ts';

/** The optimizer a spec describes, for n parameters, its state buffers from `alloc`. */
export function createOptimizer(spec: OptimizerSpec, n: number, alloc?: Alloc): Optimizer {
  switch (spec.type) {
    case 'sgd':
      return new Sgd(n, spec, alloc);
    case 'momentum':
      return new Momentum(n, spec, alloc);
    case 'nesterov':
      return new Nesterov(n, spec, alloc);
    case 'rmsprop':
      return new Rmsprop(n, spec, alloc);
    case 'adam':
      return new Adam(n, spec, alloc);
    default: {
      const unknown: never = spec;
      throw new RangeError(`createOptimizer: unknown optimizer type ${JSON.stringify((unknown as { type: unknown }).type)}`);
    }
  }
}
