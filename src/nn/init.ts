/**
 * Random initialisation from our own seeded PRNG, biases zero.
 *
 * Uniform variants, so the result needs only +, *, sqrt (all exactly rounded by IEEE 754) and is
 * therefore bit-identical on every machine:
 *   He (ReLU family):    W ~ U(-r, r), r = sqrt(6 / fanIn)            (variance 2 / fanIn)
 *   Xavier/Glorot:       W ~ U(-r, r), r = sqrt(6 / (fanIn + fanOut))  (variance 2 / (fanIn + fanOut))
 */
import { ACTIVATIONS, type Floats } from './activations.ts';
import { layerShapes, type Architecture } from './architecture.ts';
import type { Rng } from './rng.ts';

export const INIT_NAMES = ['auto', 'he', 'xavier'] as const;
export type InitName = (typeof INIT_NAMES)[number];

export function initParams(arch: Architecture, params: Floats, rng: Rng, scheme: InitName = 'auto'): void {
  for (const layer of layerShapes(arch)) {
    const kind = scheme === 'auto' ? ACTIVATIONS[layer.activation].init : scheme;
    const r = kind === 'he' ? Math.sqrt(6 / layer.nIn) : Math.sqrt(6 / (layer.nIn + layer.nOut));
    const end = layer.wOffset + layer.nIn * layer.nOut;
    for (let i = layer.wOffset; i < end; i++) params[i] = (2 * rng.uniform() - 1) * r;
    params.fill(0, layer.bOffset, layer.bOffset + layer.nOut);
  }
}
