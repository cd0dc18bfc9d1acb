/**
 * Every activation of src/nn/activations.ts that is a layer type, through the WebAssembly kernels
 * (src/core/kernels/activation.as.ts, both flavours, by the driver src/core/layers/activation.ts)
 * against the reference: the ids the module exports are exactly the activations' names, and no
 * registered activation falls through the kernel's switch. Inputs cover both signs, the saturated
 * tails, zeros and tiny values; every output bit-identical for 1 to 4 threads.
 */
import { describe, expect, it } from 'vitest';
import { activation } from '../src/core/layers/activation.ts';
import { ACTIVATION_LAYER_TYPES, ACTIVATION_NAMES, type ActivationSpec } from '../src/nn/index.ts';
import { fillPattern, normwiseError } from './core-helpers.ts';
import { layerHarness, planLayer, referencePass } from './core-layer-harness.ts';
import { KERNELS, expectSameForAnyThreadCount } from './core-layer-checks.ts';

const INPUT = { height: 5, width: 7, channels: 3 };
const BATCH = 3;
const SPECIAL = [0, -0, 1e-30, -1e-30, 1e-4, -1e-4, 30, -30, 100, -100, 0.5, -0.5];

describe.each(KERNELS)('activations, %s kernels', (kernel) => {
  it('the module exports an id for exactly the activations of activations.ts, all different', () => {
    const layer = planLayer({ type: 'relu' }, INPUT);
    const { k } = layerHarness(kernel, activation, layer, 1);
    const exported = Object.keys(k).filter((name) => name.startsWith('activation_'));
    expect(exported.map((name) => name.slice('activation_'.length)).sort()).toEqual([...ACTIVATION_NAMES].sort());
    const ids = exported.map((name) => k[name as `activation_${string}`]!.value);
    expect(new Set(ids).size).toBe(ids.length);
  });

  for (const type of ACTIVATION_LAYER_TYPES) {
    it(`${type}: forward and backward as the float32 reference`, () => {
      const layer = planLayer<ActivationSpec>({ type }, INPUT);
      const h = layerHarness(kernel, activation, layer, BATCH);
      fillPattern(h.x, 11, 6);
      SPECIAL.forEach((v, i) => (h.x[i * 7] = v));
      fillPattern(h.dy, 12);
      const out = expectSameForAnyThreadCount(h, BATCH, 'train', 0);
      const ref = referencePass(h, BATCH, 'train', 0, Float32Array);
      for (let i = 0; i < out.y!.length; i++) {
        const want = ref.y[i]!;
        // Within 2 units in the last place of float32 (the libraries' exp and tanh may differ by one).
        expect(Math.abs(out.y![i]! - want), `y[${i}] for x = ${h.x[i]}: ${out.y![i]} vs ${want}`).toBeLessThanOrEqual(2 ** -22 * Math.abs(want) + 1e-37);
      }
      expect(normwiseError(out.dx!, ref.dx!)).toBeLessThan(1e-6);
      expect(h.overruns()).toEqual([]);
    });
  }
});
