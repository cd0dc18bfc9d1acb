/**
 * Whether a network's GPU buffers at a batch size fit the adapter's limits, known from the plan
 * alone, so a batch too big is refused before training (exit 2) instead of failing inside Dawn.
 *
 * Every buffer the GPU core makes (gpu-network.ts and layers/*.ts) is bound as storage, so each must
 * hold at most min(maxStorageBufferBindingSize, maxBufferSize) bytes (the device asks for the
 * adapter's own values of both). The buffers that grow with the batch are the input batch and, per
 * layer that is not a flatten, its output and its gradient (batch norm's x-hat, dropout's mask and
 * max pooling's winners are the output's size or smaller): B x (values per sample) x 4 bytes. The
 * others (parameters, gradients, optimizer state, running statistics) do not depend on it; a conv
 * layer's partial sums of its weight gradient are at most 16 MiB (layers/conv.ts), under any limit.
 */
import { LAYERS } from '../../nn/layers/registry.ts';
import type { NetworkPlan } from '../../nn/plan.ts';
import { shapeSize } from '../../nn/shape.ts';
import { GPU_LAYERS } from './layers/index.ts';

/** The two limits of GPUSupportedLimits that bound one buffer. */
export interface GpuBufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** One GPU buffer: bytes = fixed + perSample x batch. */
export interface GpuBufferSize {
  name: string;
  fixed: number;
  perSample: number;
}

/** The buffers whose size can reach a limit: the fixed ones and, per sample, the input and each layer's output. */
export function gpuBufferSizes(plan: NetworkPlan): GpuBufferSize[] {
  const bytes = (floats: number) => 4 * Math.max(1, floats);
  const sizes: GpuBufferSize[] = [
    { name: 'the parameters', fixed: bytes(plan.paramCount), perSample: 0 },
    { name: 'the running statistics', fixed: bytes(plan.statCount), perSample: 0 },
    { name: 'the input batch', fixed: 0, perSample: bytes(shapeSize(plan.input)) },
  ];
  for (const layer of plan.layers) {
    const gpu = LAYERS[layer.spec.type].gpu;
    if (gpu !== null && GPU_LAYERS[gpu as keyof typeof GPU_LAYERS].aliasesInput) continue;
    sizes.push({ name: `layers[${layer.index}] (${layer.spec.type}) output`, fixed: 0, perSample: bytes(shapeSize(layer.output)) });
  }
  return sizes;
}

/** What does not fit: the largest buffer, its size, the limit, and the largest batch that fits (0: none). */
export interface GpuMemoryShortfall {
  buffer: string;
  bytes: number;
  limit: number;
  limitName: keyof GpuBufferLimits;
  batch: number;
  fittingBatch: number;
}

/** The limit one buffer must keep under, and which of the two it is. */
export function bufferLimit(limits: GpuBufferLimits): { limit: number; limitName: keyof GpuBufferLimits } {
  return limits.maxBufferSize < limits.maxStorageBufferBindingSize
    ? { limit: limits.maxBufferSize, limitName: 'maxBufferSize' }
    : { limit: limits.maxStorageBufferBindingSize, limitName: 'maxStorageBufferBindingSize' };
}

/** null when every buffer at batch B fits; otherwise the largest buffer and what would fit. */
export function checkGpuMemory(plan: NetworkPlan, B: number, limits: GpuBufferLimits): GpuMemoryShortfall | null {
  const { limit, limitName } = bufferLimit(limits);
  const sizes = gpuBufferSizes(plan);
  let largest = sizes[0]!;
  for (const s of sizes) if (s.fixed + s.perSample * B > largest.fixed + largest.perSample * B) largest = s;
  const bytes = largest.fixed + largest.perSample * B;
  if (bytes <= limit) return null;
  // The largest batch under the limit for every buffer: floor((limit - fixed) / perSample), or none.
  let fittingBatch = Infinity;
  for (const s of sizes) {
    if (s.fixed > limit) fittingBatch = 0;
    else if (s.perSample > 0) fittingBatch = Math.min(fittingBatch, Math.floor((limit - s.fixed) / s.perSample));
  }
  return { buffer: largest.name, bytes, limit, limitName, batch: B, fittingBatch: Math.min(fittingBatch, B - 1) };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** One line: the buffer, its size, the limit and a batch that fits (or that none does). */
export function describeShortfall(s: GpuMemoryShortfall): string {
  const fits = s.fittingBatch >= 1 ? `a batch of at most ${s.fittingBatch} fits` : 'no batch fits: the network must shrink';
  return (
    `the GPU buffer for ${s.buffer} needs ${mib(s.bytes)} (${s.bytes} bytes) at batch ${s.batch}, ` +
    `over the adapter's limit of ${mib(s.limit)} (${s.limit} bytes, ${s.limitName}); ${fits}`
  );
}
