/**
 * Where everything lives in the one shared WebAssembly.Memory. The main thread and every worker
 * compute the same layout from the same inputs, so only the inputs travel to the workers.
 *
 * Byte offsets, each buffer 64-byte aligned (a cache line, so threads writing neighbouring
 * buffers never share a line); P = parameter count, Bm = maxBatch:
 *   control          CONTROL_BYTES   job words, counters, error message (sync.ts)
 *   step             STEP_BYTES      optimizer step descriptor (step-scalars.ts, update.as.ts)
 *   params, grads    P floats each   layout of src/nn/architecture.ts
 *   state1, state2   P floats each   optimizer state (v, s, or m and v)
 *   inputBatch       Bm * inputSize  the batch, row-major (the data pipeline writes here)
 *   labelBatch       Bm              labels 0/1
 *   per layer        Z, A, dA, dZ    (Bm, nOut) each; Xp: the layer's input packed in panels
 *   normPartials     f64 per block   squared norms for clipping
 *   losses           f64 per member  population losses
 *   population       P floats per member
 *   per thread       list/count/panel scratch of the backward kernels; activations for the
 *                    population pass
 */
import { layerShapes, parameterCount, type Architecture, type LayerShape } from '../nn/architecture.ts';
import { ACTIVATION_KIND } from './kernels.ts';
import { NORM_BLOCK, type ParamRange } from './split.ts';

export const CONTROL_BYTES = 4096;
export const STEP_BYTES = 128;
const PAGE = 65536;
/** 4 GiB: the address space of 32-bit WebAssembly. */
const MAX_PAGES = 65536;

/** Sizes the kernels were compiled with (exported by the module, see kernels.ts). */
export interface KernelGeometry {
  panelWidth: number;
  panelStride: number;
  inputPanelWidth: number;
  listEntryBytes: number;
}

export interface LayoutInput {
  arch: Architecture;
  maxBatch: number;
  threads: number;
  population: number;
  /** First byte the module's static data leaves free. */
  heapBase: number;
  geometry: KernelGeometry;
}

export interface LayerLayout {
  shape: LayerShape;
  activationKind: number;
  Z: number;
  A: number;
  dA: number;
  dZ: number;
  /** The layer's input packed in panels for the weight gradient. */
  Xp: number;
  panels: number;
}

export interface ThreadLayout {
  lists: number;
  counts: number;
  panel: number;
  /** Z and A of every layer for the population pass. */
  popZ: number[];
  popA: number[];
}

export interface CoreLayout {
  maxBatch: number;
  /** Threads that compute, the main thread included. */
  threadCount: number;
  populationSize: number;
  paramCount: number;
  control: number;
  step: number;
  params: number;
  grads: number;
  state1: number;
  state2: number;
  inputBatch: number;
  labelBatch: number;
  layers: LayerLayout[];
  normBlocks: ParamRange[];
  normPartials: number;
  losses: number;
  population: number;
  threads: ThreadLayout[];
  bytes: number;
  pages: number;
}

/** The weights and the biases of every layer, in parameter order. */
export function paramRanges(arch: Architecture): ParamRange[] {
  return layerShapes(arch).flatMap((s) => [
    { start: s.wOffset, length: s.nIn * s.nOut, isWeight: true },
    { start: s.bOffset, length: s.nOut, isWeight: false },
  ]);
}

export function computeLayout(input: LayoutInput): CoreLayout {
  const { arch, maxBatch, threads, population, geometry } = input;
  const shapes = layerShapes(arch);
  const P = parameterCount(arch);
  let offset = align(input.heapBase, PAGE);
  const take = (bytes: number): number => {
    const at = offset;
    offset = align(offset + bytes, 64);
    return at;
  };
  const floats = (n: number): number => take(4 * n);

  const control = take(CONTROL_BYTES);
  const step = take(STEP_BYTES);
  const params = floats(P);
  const grads = floats(P);
  const state1 = floats(P);
  const state2 = floats(P);
  const inputBatch = floats(maxBatch * arch.inputSize);
  const labelBatch = floats(maxBatch);
  const layers = shapes.map((shape): LayerLayout => {
    const n = maxBatch * shape.nOut;
    const panels = Math.ceil(shape.nIn / geometry.panelWidth);
    return {
      shape,
      activationKind: ACTIVATION_KIND[shape.activation],
      Z: floats(n),
      A: floats(n),
      dA: floats(n),
      dZ: floats(n),
      Xp: floats(panels * maxBatch * geometry.panelStride),
      panels,
    };
  });
  const normBlocks = paramRanges(arch).flatMap((r) => {
    const blocks: ParamRange[] = [];
    for (let s = 0; s < r.length; s += NORM_BLOCK) blocks.push({ start: r.start + s, length: Math.min(NORM_BLOCK, r.length - s), isWeight: r.isWeight });
    return blocks;
  });
  const normPartials = take(8 * normBlocks.length);
  const losses = take(8 * Math.max(population, 1));
  const populationAt = floats(population * P);
  const widest = Math.max(...shapes.map((s) => s.nOut));
  const threadLayouts = Array.from({ length: threads }, (): ThreadLayout => ({
    lists: take(maxBatch * widest * geometry.listEntryBytes),
    counts: take(4 * Math.max(maxBatch, widest)),
    panel: floats(widest * geometry.inputPanelWidth),
    popZ: population > 0 ? shapes.map((s) => floats(maxBatch * s.nOut)) : [],
    popA: population > 0 ? shapes.map((s) => floats(maxBatch * s.nOut)) : [],
  }));
  const bytes = align(offset, PAGE);
  const pages = bytes / PAGE;
  if (pages > MAX_PAGES) {
    const gib = (bytes / 2 ** 30).toFixed(1);
    throw new RangeError(`gradient core: these buffers need ${gib} GiB of shared memory, more than the 4 GiB WebAssembly can address (reduce the population, the batch size or the network)`);
  }
  return {
    maxBatch,
    threadCount: threads,
    populationSize: population,
    paramCount: P,
    control,
    step,
    params,
    grads,
    state1,
    state2,
    inputBatch,
    labelBatch,
    layers,
    normBlocks,
    normPartials,
    losses,
    population: populationAt,
    threads: threadLayouts,
    bytes,
    pages,
  };
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
