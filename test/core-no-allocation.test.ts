/**
 * The gradient core's steady state allocates nothing per batch (issue 13): once the core exists,
 * trainStep and evaluate create no JavaScript objects, so a long run never makes garbage for the
 * collector. Checked on a small CNN with every kind of layer, on the calling thread alone.
 *
 * How it is measured without --expose-gc: V8 puts every new JavaScript object in its new space, so
 * the growth of the new space's used bytes over a window of steps is what those steps allocated,
 * unless a scavenge (which empties the new space) fell inside the window. Scavenges are rare when
 * nothing allocates and cannot hide a steady allocation in most windows, so the median over several
 * windows is the steady allocation per batch, whatever the machine's load. The one allocation left
 * is the API's: a returned loss is a double, boxed (16 bytes) when V8 does not inline the call. The
 * bound allows that for both calls; one more small object per batch (an [a, b] pair: 32 bytes)
 * breaks it, as does the walk before it prepared its layers (3.3 KB per batch on this network).
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { afterAll, expect, it } from 'vitest';
import type { Core } from '../src/core/index.ts';
import { initParams } from '../src/nn/init.ts';
import type { NetworkSpec } from '../src/nn/layers/spec.ts';
import { Rng } from '../src/random/rng.ts';
import { coreTracker, fillPattern } from './core-helpers.ts';

const cores = coreTracker();
afterAll(() => cores.closeAll());

/** conv (direct and Winograd), batch norm, activations, max and average pooling, global average pooling, dropout, dense. */
const NETWORK: NetworkSpec = {
  input: { height: 12, width: 12, channels: 3 },
  layers: [
    { type: 'conv', filters: 8, kernel: 3, stride: 1, padding: 'same', bias: false },
    { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
    { type: 'relu' },
    { type: 'maxpool', size: 2, stride: 2 },
    { type: 'conv', filters: 8, kernel: 3, stride: 1, padding: 'same', bias: true },
    { type: 'leaky_relu' },
    { type: 'avgpool', size: 2, stride: 1 },
    { type: 'globalavgpool' },
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', units: 4, bias: true },
    { type: 'tanh' },
    { type: 'dense', units: 1, bias: true },
  ],
};

function newSpaceUsed(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (!space) throw new Error('V8 reports no new_space');
  return space.space_used_size;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One batch of training (clipped Adam, partial batch) and one evaluation: what a training loop runs. */
function batch(core: Core, step: number, probabilities: Float32Array): void {
  core.trainStep(step % 2 === 0 ? 6 : 5, 1e-3, step);
  core.evaluate(6, probabilities);
}

it('trainStep and evaluate allocate nothing per batch once warm', async () => {
  const core = await cores.make({ network: NETWORK, maxBatch: 6, loss: 'bce', workers: 1, seed: 3 });
  initParams(core.plan, core.params, new Rng(5));
  fillPattern(core.input, 11);
  for (let s = 0; s < 6; s++) core.labels[s] = s % 2;
  core.setOptimizer({ type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { weightDecay: 1e-4, clipNorm: 1 });
  const probabilities = new Float32Array(6);
  let step = 0;
  // Warm-up: V8 compiles the walk and the drivers with optimizing tiers along the way.
  for (; step < 2000; step++) batch(core, step, probabilities);

  const STEPS = 500;
  const perStep: number[] = [];
  for (let w = 0; w < 9; w++) {
    const before = newSpaceUsed();
    for (let i = 0; i < STEPS; i++, step++) batch(core, step, probabilities);
    perStep.push((newSpaceUsed() - before) / STEPS);
  }
  // Two boxed losses (32 bytes) and the measurement's own objects (~1 KB a window: 2 bytes a batch).
  expect(median(perStep), `bytes allocated per batch in each window: ${perStep.map((b) => b.toFixed(1)).join(', ')}`).toBeLessThan(48);
  expect(Number.isFinite(core.evaluate(6, probabilities))).toBe(true);
});
