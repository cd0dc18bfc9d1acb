/**
 * What a GPU layer part (layers/<name>.ts) is given to prepare itself once: the device, the shared
 * buffers, a pipeline cache and helpers; and what it gives back: its forward and backward dispatches.
 */
import type { PlannedLayer } from '../../../nn/plan.ts';
import type { KernelName } from '../kernels/index.ts';

export interface GpuContext {
  readonly device: GPUDevice;
  /** The largest batch: buffers a layer keeps per sample hold this many. */
  readonly maxBatch: number;
  /** The per-step uniform (Step in kernels/common.ts), binding 0 of every kernel. */
  readonly step: GPUBuffer;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  /** Batch norm's running statistics (cut by the plan). */
  readonly stats: GPUBuffer;
  /** The pipeline of a kernel (with its pipeline constants), compiled once. */
  pipeline(kernel: KernelName, constants?: Record<string, number>): GPUComputePipeline;
  /** A bind group giving binding i the buffer at i (binding 0: the step uniform). */
  bind(pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[]): GPUBindGroup;
  /** A uniform buffer holding these 32-bit words (a layer's fixed sizes and offsets; floats as their bits). */
  uniform(words: readonly number[] | Uint32Array): GPUBuffer;
  /** A storage buffer of this many float32 values (what a layer keeps for its backward pass). */
  storage(floats: number): GPUBuffer;
}

/** A layer's activations on the GPU: its input x and output y, their gradients dx (null for layer 0) and dy. */
export interface GpuLayerBuffers {
  readonly x: GPUBuffer;
  readonly y: GPUBuffer;
  readonly dx: GPUBuffer | null;
  readonly dy: GPUBuffer;
}

export interface GpuLayerRun {
  /** 'train': batch statistics and dropout masks; 'infer': running statistics, no dropout. */
  forward(pass: GPUComputePassEncoder, B: number, mode: 'train' | 'infer'): void;
  /** dy -> parameter gradients (overwritten) and dx when there is one. */
  backward(pass: GPUComputePassEncoder, B: number): void;
}

export interface GpuLayerPart {
  /** The output is the input itself (flatten): no buffers of its own, nothing to run. */
  readonly aliasesInput?: boolean;
  prepare(layer: PlannedLayer, ctx: GpuContext, buffers: GpuLayerBuffers): GpuLayerRun;
}

/** A dispatch of `count` threads in workgroups of 64, cut into rows of at most 65,535 workgroups (flatIndex in WGSL). */
export function dispatch1d(pass: GPUComputePassEncoder, count: number): void {
  const groups = Math.ceil(count / 64);
  if (groups === 0) return;
  const x = Math.min(groups, 65535);
  pass.dispatchWorkgroups(x, Math.ceil(groups / x));
}

/** A kernel with its buffers bound: what a dispatch needs. */
export interface BoundKernel {
  readonly pipeline: GPUComputePipeline;
  readonly group: GPUBindGroup;
}

/** `kernel`'s pipeline (with its constants) and a bind group of `buffers` (binding i: buffers[i]). */
export function bindKernel(ctx: GpuContext, kernel: KernelName, buffers: readonly GPUBuffer[], constants?: Record<string, number>): BoundKernel {
  const pipeline = ctx.pipeline(kernel, constants);
  return { pipeline, group: ctx.bind(pipeline, buffers) };
}

/** Runs a bound kernel on `count` threads (dispatch1d). */
export function run1d(pass: GPUComputePassEncoder, k: BoundKernel, count: number): void {
  pass.setPipeline(k.pipeline);
  pass.setBindGroup(0, k.group);
  dispatch1d(pass, count);
}
