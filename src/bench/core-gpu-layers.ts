/**
 * Per-layer milliseconds of a training step on the GPU (for `npm run bench -- --device gpu`), from
 * timestamp queries: the bench opens a device of its own (feature 'timestamp-query'), builds the
 * network's buffers and pipelines as the GPU core does (GpuNetwork), and runs training steps with
 * each layer's forward and backward in a compute pass of its own (GpuNetwork.encodeTimed), reading
 * each pass's start and end. An adapter without the feature: null, with the reason.
 * Not a command: core.ts imports it (the build bundles it as one more entry, which runs nothing).
 */
import { adapterInfo, describeAdapter, loadWebgpu } from '../core/gpu/adapter.ts';
import { GpuNetwork } from '../core/gpu/gpu-network.ts';
import { initParams } from '../nn/init.ts';
import type { NetworkSpec } from '../nn/layers/spec.ts';
import { planNetwork } from '../nn/plan.ts';
import { Rng } from '../random/rng.ts';
import { median } from './common.ts';

export interface GpuLayerTimes {
  adapter: string;
  /** Per layer, milliseconds per step (medians over the rounds). */
  forwardMs: number[];
  backwardMs: number[];
  lossMs: number;
  updateMs: number;
}

/** Median per-layer milliseconds over `rounds` training steps (SGD) at batch B, or why there are none. */
export async function gpuLayerTimes(network: NetworkSpec, B: number, input: Float32Array, labels: Float32Array, rounds: number): Promise<GpuLayerTimes | { skipped: string }> {
  const loaded = await loadWebgpu();
  if ('missing' in loaded) return { skipped: loaded.missing };
  const gpu = loaded.module.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { skipped: 'no WebGPU adapter found' };
  const name = describeAdapter(adapterInfo(adapter));
  if (!adapter.features.has('timestamp-query')) return { skipped: `${name} has no timestamp queries (feature timestamp-query)` };
  const device = await adapter.requestDevice({
    requiredFeatures: ['timestamp-query'],
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  const plan = planNetwork(network);
  const net = new GpuNetwork(device, plan, B, 'bce');
  const count = 2 * net.timedPasses;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolved = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const params = new Float32Array(plan.paramCount);
    initParams(plan, params, new Rng(1));
    device.queue.writeBuffer(net.params, 0, params);
    device.queue.writeBuffer(net.input, 0, input.slice(0, B * (input.length / Math.max(1, labels.length))));
    device.queue.writeBuffer(net.labels, 0, labels.slice(0, B));
    net.setOptimizer('sgd', 0, 0);
    net.writeStep(B, [1e-4, 0, 0, 0, 0, 0, 0, 0], 1, 0);
    const L = plan.layers.length;
    const perPass: number[][] = Array.from({ length: net.timedPasses }, () => []);
    for (let r = 0; r < rounds + 1; r++) {
      const encoder = device.createCommandEncoder();
      device.queue.submit([net.encodeTimed(B, querySet)]);
      encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, staging, 0, count * 8);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const ns = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      if (r === 0) continue; // compiles and first touches
      for (let p = 0; p < net.timedPasses; p++) perPass[p]!.push(Number(ns[2 * p + 1]! - ns[2 * p]!) / 1e6);
    }
    const ms = (p: number) => median(perPass[p]!);
    return {
      adapter: name,
      forwardMs: plan.layers.map((_, l) => ms(l)),
      backwardMs: plan.layers.map((_, l) => ms(L + 1 + l)),
      lossMs: ms(L),
      updateMs: ms(2 * L + 1),
    };
  } finally {
    net.destroy();
    querySet.destroy();
    resolved.destroy();
    staging.destroy();
    device.destroy();
  }
}
