/**
 * How the gradient core runs one layer kind on its threads: the WebAssembly side of a layer kind
 * (src/nn/layers/<kind>.ts is the reference side). One file per driver in this folder, in CPU_DRIVERS
 * (index.ts) under the name the kind's entry in src/nn/layers/registry.ts gives; the kernels it
 * calls live in the files that entry names, src/core/kernels/<name>.as.ts.
 *
 * The calling thread walks the layer list and, for each layer, publishes its jobs: forward steps,
 * later backward steps, each followed by a barrier. Every thread (the calling thread included) then
 * runs its share of the step: it is thread t of T. A driver splits the work so that every output
 * value is computed whole by one thread, in an order that does not depend on T: the results are
 * bit-identical for any thread count. A layer whose work() is small runs its jobs on the calling
 * thread alone (T = 1), without waking the others.
 *
 * Prepared once, run every batch: forward and backward run for every batch on every thread, so
 * they allocate nothing (no garbage for the collector, however long the run). When a thread starts
 * (the core, or a worker), it calls prepare() once per layer with its kernels and its addresses:
 * everything that does not depend on the batch (geometry, sizes, addresses as plain numbers) is
 * worked out there, and the PreparedLayer it returns only does arithmetic and calls kernels. The
 * splits that depend on the batch size B come from cut() (split.ts): plain arithmetic, no arrays.
 *
 * Memory: every address is a byte offset into the one shared WebAssembly.Memory; activations are
 * float32, (B, H, W, C) row-major (channels last), exactly as in the reference. Per-thread buffers
 * are scratch: all layers share the same per-thread memory, so nothing survives in them from one
 * step to the next. Shared buffers and saved buffers are the layer's own; the core keeps only the
 * plan's saved buffers the driver reads (savedInCore).
 */
import type { Mode, SavedDecl } from '../../nn/layers/layer.ts';
import type { LayerSpec, LayerType } from '../../nn/layers/spec.ts';
import type { PoolGeometry } from '../../nn/layers/pool.ts';
import type { PlannedLayer } from '../../nn/plan.ts';
import type { KernelExports, KernelGeometry } from '../kernels.ts';

/** A buffer a driver needs besides the layer's activations and the plan's saved buffers. */
export interface CoreBufferDecl {
  name: string;
  bytes: number;
  /** One per thread (scratch), or one shared by all threads. */
  perThread: boolean;
}

/** Byte addresses of one layer's buffers, as one thread sees them. */
export interface LayerAddresses {
  /** Input and output activations: (B, inSize) and (B, outSize) float32. */
  x: number;
  y: number;
  /** dL/dy (B, outSize), given to backward; dL/dx (B, inSize) to fill, or 0 when nothing needs it (the first layer). */
  dy: number;
  dx: number;
  /** The layer's slices of the parameter, gradient and statistics vectors, by the names the nn kind declared. */
  params: Readonly<Record<string, number>>;
  grads: Readonly<Record<string, number>>;
  stats: Readonly<Record<string, number>>;
  /** The plan's saved buffers (float32, perSample * maxBatch + fixed values). */
  saved: Readonly<Record<string, number>>;
  /** The driver's own buffers (buffers()): shared ones, and this thread's scratch. */
  buffers: Readonly<Record<string, number>>;
}

/** One layer on one thread, ready to run: its share of each step (see prepare). */
export interface PreparedLayer {
  /**
   * Thread t of T's part of forward step `step`: y from x; in 'train' mode also what backward
   * needs (saved buffers) and batch norm's running statistics. `noiseKey`: dropout's key
   * (src/random/noise.ts), its 32 bits as an int32.
   */
  forward(B: number, mode: Mode, noiseKey: number, step: number, t: number, T: number): void;
  /** Thread t of T's part of backward step `step`: parameter gradients (overwritten) and dx when the addresses have one. */
  backward(B: number, step: number, t: number, T: number): void;
}

export interface CoreLayer<S extends { type: LayerType } = LayerSpec> {
  /** The output is the input, reinterpreted (flatten): no buffers of its own, no work. */
  readonly aliasesInput?: boolean;
  /** Saved buffers of the plan (the reference's) that backward recomputes instead: the core does not keep them. */
  readonly recomputes?: readonly string[];
  /** Buffers the layer needs in the core, for batches up to maxBatch. */
  buffers(layer: PlannedLayer<S>, maxBatch: number, geometry: KernelGeometry): CoreBufferDecl[];
  /** Barrier-separated steps of the forward job (usually 1) in this mode, and of the backward job. */
  forwardSteps(layer: PlannedLayer<S>, mode: Mode): number;
  backwardSteps(layer: PlannedLayer<S>): number;
  /** Multiply-adds (or element operations) of one pass over B samples: small jobs run on one thread. */
  work(layer: PlannedLayer<S>, B: number): number;
  /** The layer on the thread whose kernels and addresses these are (called once, when the thread starts). */
  prepare(k: KernelExports, layer: PlannedLayer<S>, a: LayerAddresses): PreparedLayer;
  /**
   * Kinds that can do the work of a ReLU right after them (fusion.ts): the layer with the ReLU
   * folded in, the same jobs as prepare()'s. `a.y` and `a.dy` are the ReLU's output and its
   * gradient: forward writes relu(output) there, backward takes the ReLU's dy and applies its
   * derivative itself. With `pool` (a max pool after the ReLU), forward does the max pool's forward
   * pass instead of writing relu(output): the pool's output, and its argmax in training; and
   * backward takes the ReLU's dy as it is (the pool's backward pass applied the derivative). The
   * results must be bit-identical to the layers apart.
   */
  prepareWithRelu?(k: KernelExports, layer: PlannedLayer<S>, a: LayerAddresses, pool: FoldedPool | null): PreparedLayer;
  /**
   * Kinds that can follow a ReLU folded into the layer before it (fusion.ts; max pool): the layer
   * without a forward pass (the layer before does it, FoldedPool) and with a backward pass that
   * applies the ReLU's derivative too.
   */
  prepareAfterFoldedRelu?(k: KernelExports, layer: PlannedLayer<S>, a: LayerAddresses): PreparedLayer;
}

/** A max pool whose forward pass a layer does (prepareWithRelu): where its output and argmax go, and its windows. */
export interface FoldedPool {
  y: number;
  argmax: number;
  geometry: PoolGeometry;
}

/** The plan's saved buffers that the core keeps for this layer: all but those its driver recomputes. */
export function savedInCore<S extends LayerSpec>(layer: PlannedLayer<S>, driver: CoreLayer<S>): SavedDecl[] {
  return layer.saved.filter((s) => !driver.recomputes?.includes(s.name));
}
