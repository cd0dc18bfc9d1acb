/**
 * Random initialisation from our own seeded PRNG; constants where the layer says so (biases 0,
 * batch-norm gamma 1). Weight slices are drawn in parameter order.
 *
 * Uniform variants, so the result needs only +, *, sqrt (all exactly rounded by IEEE 754) and is
 * therefore bit-identical on every machine:
 *   He (ReLU family):    W ~ U(-r, r), r = sqrt(6 / fanIn)            (variance 2 / fanIn)
 *   Xavier/Glorot:       W ~ U(-r, r), r = sqrt(6 / (fanIn + fanOut))  (variance 2 / (fanIn + fanOut))
 *   PyTorch's default:   W ~ U(-r, r), r = 1 / sqrt(fanIn)  (kaiming_uniform_ with a = sqrt(5):
 *                        gain sqrt(2 / (1 + a^2)) = sqrt(1/3), r = gain sqrt(3 / fanIn)), and the
 *                        biases of the layer too (b ~ U(-r, r), the same r), drawn after its weights
 * fanIn is what one output sums over: the inputs of a dense unit, k*k*C for a convolution filter.
 *
 * 'auto' picks by the activation the weights feed: the rule of the first activation after the layer
 * (Activation.init: He for the ReLU family), looking past the layers that pass values on (batch
 * norm, dropout, pooling, flatten: LayerKind.initBefore); Xavier when the next layer with weights,
 * or the output's sigmoid, comes first.
 */
import type { Floats } from './activations.ts';
import { layerKind } from './layers/registry.ts';
import type { LayerSpec } from './layers/spec.ts';
import type { NetworkPlan } from './plan.ts';
import type { Rng } from '../random/rng.ts';

export const INIT_NAMES = ['auto', 'he', 'xavier', 'pytorch'] as const;
export type InitName = (typeof INIT_NAMES)[number];

/** He or Xavier for the weights of layer l under 'auto'. */
export function autoInit(specs: readonly LayerSpec[], l: number): 'he' | 'xavier' {
  for (let i = l + 1; i < specs.length; i++) {
    const rule = layerKind(specs[i]!).initBefore;
    if (rule !== 'next') return rule;
  }
  return 'xavier';
}

export function initParams(plan: NetworkPlan, params: Floats, rng: Rng, scheme: InitName = 'auto'): void {
  if (params.length !== plan.paramCount) throw new RangeError(`initParams: ${params.length} values for ${plan.paramCount} parameters`);
  const specs = plan.layers.map((l) => l.spec);
  for (const slice of plan.params) {
    const end = slice.offset + slice.length;
    const biasFanIn = scheme === 'pytorch' && slice.name === 'bias' ? layerFanIn(plan, slice.layer) : null;
    if (slice.init.kind === 'constant' && biasFanIn === null) {
      params.fill(slice.init.value, slice.offset, end);
      continue;
    }
    let r: number;
    if (slice.init.kind === 'constant') {
      r = pytorchBound(biasFanIn!);
    } else {
      const { fanIn, fanOut } = slice.init;
      const kind = scheme === 'auto' ? autoInit(specs, slice.layer) : scheme;
      r = kind === 'he' ? Math.sqrt(6 / fanIn) : kind === 'pytorch' ? pytorchBound(fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    }
    for (let i = slice.offset; i < end; i++) params[i] = (2 * rng.uniform() - 1) * r;
  }
}

/** PyTorch's default bound for weights and biases: 1 / sqrt(fanIn). */
export function pytorchBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** The fan-in of layer l's random weights, or null when it has none (a bias then stays constant). */
function layerFanIn(plan: NetworkPlan, l: number): number | null {
  const weights = plan.params.find((p) => p.layer === l && p.init.kind === 'random');
  return weights !== undefined && weights.init.kind === 'random' ? weights.init.fanIn : null;
}

/** Statistics before any training: running means 0, running variances 1. */
export function initStats(plan: NetworkPlan, stats: Floats): void {
  if (stats.length !== plan.statCount) throw new RangeError(`initStats: ${stats.length} values for ${plan.statCount} statistics`);
  for (const s of plan.stats) stats.fill(s.initial, s.offset, s.offset + s.length);
}
