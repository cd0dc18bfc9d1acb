/**
 * Where everything lives in the one shared WebAssembly.Memory. The main thread and every worker
 * compute the same layout from the same inputs (the network plan and a few numbers), so only the
 * inputs travel to the workers.
 *
 * Byte offsets, each buffer 64-byte aligned (a cache line, so threads writing neighbouring
 * buffers never share a line); P = parameter count, S = statistics count, Bm = maxBatch:
 *   control          CONTROL_BYTES   job words, counters, error message (sync.ts)
 *   step             STEP_BYTES      optimizer step descriptor (update.as.ts)
 *   params, grads    P floats each   cut by the plan (src/nn/plan.ts)
 *   state1, state2   P floats each   optimizer state (v, s, or m and v)
 *   stats            S floats        batch norm's running statistics
 *   labels           Bm
 *   activations      a_0 = the input batch (the data pipeline writes here), then per layer
 *                    a_{l+1} and da_{l+1} (Bm x outSize each; a flatten shares its input's)
 *   per layer        the plan's saved buffers that the driver reads, the driver's shared buffers
 *   normPartials     f64 per block   squared norms for clipping
 *   per thread       scratch: the largest per-thread need of any layer (layers run one at a time,
 *                    so they share it)
 */
import type { NetworkPlan, PlannedLayer } from '../nn/plan.ts';
import { formatShape, shapeSize } from '../nn/shape.ts';
import type { KernelGeometry } from './kernels.ts';
import { coreLayer, savedInCore, type LayerAddresses } from './layers/index.ts';
import { NORM_BLOCK, type ParamRange } from './split.ts';

export const CONTROL_BYTES = 4096;
export const STEP_BYTES = 128;
const PAGE = 65536;
/** 4 GiB: the address space of 32-bit WebAssembly. */
export const MAX_BYTES = 2 ** 32;

export interface LayoutInput {
  plan: NetworkPlan;
  maxBatch: number;
  threads: number;
  /** First byte the module's static data leaves free. */
  heapBase: number;
  geometry: KernelGeometry;
}

export interface CoreLayout {
  maxBatch: number;
  /** Threads that compute, the main thread included. */
  threadCount: number;
  paramCount: number;
  statCount: number;
  control: number;
  step: number;
  params: number;
  grads: number;
  state1: number;
  state2: number;
  stats: number;
  labels: number;
  /** a_0 .. a_L: the input batch, then each layer's output (a_L holds the logits). */
  activations: number[];
  /** da_1 .. da_L by the same index (da_0 is 0: nothing needs the gradient of the input batch). */
  gradients: number[];
  /** Per thread, per layer: the addresses a driver sees (the thread's own scratch). */
  layers: LayerAddresses[][];
  /** The parameter vector cut into weight and non-weight ranges (decay flag), and into norm blocks. */
  paramRanges: ParamRange[];
  normBlocks: ParamRange[];
  normPartials: number;
  bytes: number;
  pages: number;
}

/** The parameter vector as ranges with their weight-decay flag, from the plan's slices. */
export function paramRanges(plan: NetworkPlan): ParamRange[] {
  return plan.params.map((s) => ({ start: s.offset, length: s.length, isWeight: s.decay }));
}

/** The memory needs of a network in the core, by what they hold: for the error when they pass 4 GiB. */
export class CoreMemoryError extends RangeError {}

export function computeLayout(input: LayoutInput): CoreLayout {
  const { plan, maxBatch, threads, geometry } = input;
  const P = plan.paramCount;
  let offset = align(input.heapBase, PAGE);
  /** Bytes taken by each kind of buffer, for the error message. */
  const needs = new Map<string, number>();
  const take = (bytes: number, what: string): number => {
    const at = offset;
    offset = align(offset + bytes, 64);
    needs.set(what, (needs.get(what) ?? 0) + bytes);
    return at;
  };
  const floats = (n: number, what: string): number => take(4 * n, what);

  const control = take(CONTROL_BYTES, 'control');
  const step = take(STEP_BYTES, 'control');
  const optimizerNeeds = 'the parameters, their gradients and the optimizer state';
  const params = floats(P, optimizerNeeds);
  const grads = floats(P, optimizerNeeds);
  const state1 = floats(P, optimizerNeeds);
  const state2 = floats(P, optimizerNeeds);
  const stats = floats(plan.statCount, 'batch-norm statistics');
  const labels = floats(maxBatch, 'the batch');
  const activationNeeds = (l: PlannedLayer) => `layers[${l.index}] (${l.spec.type}, ${formatShape(l.output)} per image)`;

  const activations = [floats(maxBatch * shapeSize(plan.input), 'the batch')];
  const gradients = [0];
  plan.layers.forEach((layer) => {
    const driver = coreLayer(layer.spec);
    if (driver.aliasesInput) {
      activations.push(activations[layer.index]!);
      gradients.push(gradients[layer.index]!);
    } else {
      const n = maxBatch * shapeSize(layer.output);
      activations.push(floats(n, activationNeeds(layer)));
      gradients.push(floats(n, activationNeeds(layer)));
    }
  });

  // Per layer: the plan's saved buffers the driver reads and its shared buffers; per-thread scratch sizes.
  const saved: Record<string, number>[] = [];
  const shared: Record<string, number>[] = [];
  const scratchDecls = plan.layers.map((layer) => {
    const driver = coreLayer(layer.spec);
    const decls = driver.buffers(layer, maxBatch, geometry);
    saved.push(Object.fromEntries(savedInCore(layer, driver).map((s) => [s.name, floats(s.perSample * maxBatch + s.fixed, activationNeeds(layer))])));
    shared.push(Object.fromEntries(decls.filter((d) => !d.perThread).map((d) => [d.name, take(d.bytes, activationNeeds(layer))])));
    return decls.filter((d) => d.perThread);
  });

  const ranges = paramRanges(plan);
  const normBlocks = ranges.flatMap((r) => {
    const blocks: ParamRange[] = [];
    for (let s = 0; s < r.length; s += NORM_BLOCK) blocks.push({ start: r.start + s, length: Math.min(NORM_BLOCK, r.length - s), isWeight: r.isWeight });
    return blocks;
  });
  const normPartials = take(8 * normBlocks.length, 'control');

  // Per-thread scratch: each layer's per-thread buffers laid out from the same base, sized by the largest.
  const scratchBytes = Math.max(0, ...scratchDecls.map((decls) => decls.reduce((n, d) => n + align(d.bytes, 64), 0)));
  const threadScratch = Array.from({ length: threads }, () => take(scratchBytes, 'per-thread scratch'));
  const scratchFor = (t: number, l: number): Record<string, number> => {
    let at = threadScratch[t]!;
    const out: Record<string, number> = {};
    for (const d of scratchDecls[l]!) {
      out[d.name] = at;
      at += align(d.bytes, 64);
    }
    return out;
  };
  const views = (slices: { name: string; offset: number }[], base: number): Record<string, number> =>
    Object.fromEntries(slices.map((s) => [s.name, base + 4 * s.offset]));
  const addresses = (t: number, act: number[], grad: number[]): LayerAddresses[] =>
    plan.layers.map((layer, l) => ({
      x: act[l]!,
      y: act[l + 1]!,
      dx: l === 0 ? 0 : grad[l]!,
      dy: grad[l + 1]!,
      params: views(layer.params, params),
      grads: views(layer.params, grads),
      stats: views(layer.stats, stats),
      saved: saved[l]!,
      buffers: { ...shared[l]!, ...scratchFor(t, l) },
    }));
  const layers = Array.from({ length: threads }, (_, t) => addresses(t, activations, gradients));

  const bytes = align(offset, PAGE);
  if (bytes > MAX_BYTES) throw new CoreMemoryError(memoryMessage(bytes, needs, maxBatch));
  return {
    maxBatch,
    threadCount: threads,
    paramCount: P,
    statCount: plan.statCount,
    control,
    step,
    params,
    grads,
    state1,
    state2,
    stats,
    labels,
    activations,
    gradients,
    layers,
    paramRanges: ranges,
    normBlocks,
    normPartials,
    bytes,
    pages: bytes / PAGE,
  };
}

/** "needs 5.3 GiB ...: layers[0] (conv, 64x64x32 per image) 2.1 GiB, ...", the largest first. */
function memoryMessage(bytes: number, needs: Map<string, number>, maxBatch: number): string {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(n < 2 ** 30 ? 2 : 1)} GiB`;
  const parts = [...needs].filter(([, n]) => n >= 2 ** 26).sort((a, b) => b[1] - a[1]).slice(0, 4);
  return (
    `the network needs ${gib(bytes)} of memory at batch size ${maxBatch}, more than the 4 GiB WebAssembly can address: ` +
    parts.map(([what, n]) => `${what} ${gib(n)}`).join(', ') +
    '; use a smaller batch size or a smaller network'
  );
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
