/**
 * Test support for the convolution kernels: one convolution layer run by the core's driver
 * (src/core/layers/conv.ts) over a built kernel module (dist/core) and a fresh shared memory, with
 * the work of every step cut into the shares of T threads, run one after the other (the results
 * must not depend on who computes what). Every buffer has the size the driver declares and is
 * followed by a guard band that the kernels must leave untouched.
 */
import { loadKernels, instantiate, probeGeometry, type WasmKernelName } from '../src/core/kernels.ts';
import { conv } from '../src/core/layers/conv.ts';
import type { LayerAddresses } from '../src/core/layers/driver.ts';
import type { ConvSpec, LayerSpec } from '../src/nn/layers/spec.ts';
import { planNetwork, type PlannedLayer } from '../src/nn/plan.ts';
import { shapeSize, type Shape } from '../src/nn/shape.ts';
import { coreAssets } from './core-helpers.ts';

export interface ConvInputs {
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  dy: Float32Array;
}

export interface ConvResults {
  y: Float32Array;
  dw: Float32Array;
  db: Float32Array;
  dx: Float32Array;
  /** Buffers whose guard band was written. */
  overruns: string[];
}

export type ConvRun = (layer: PlannedLayer<ConvSpec>, B: number, inputs: ConvInputs, T: number) => ConvResults;

/** The layer as the core plans it: second in its network, so that its input gradient is needed. */
export function plannedConv(spec: ConvSpec, input: Shape): PlannedLayer<ConvSpec> {
  const layers: LayerSpec[] = [{ type: 'relu' }, spec, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }];
  return planNetwork({ input, layers }).layers[1] as PlannedLayer<ConvSpec>;
}

const PAGE = 65536;
const GUARD = 256;
const GUARD_VALUE = 0x7fa1b2c3; // a NaN that no kernel computes

export function convHarness(flavour: WasmKernelName): ConvRun {
  const loaded = loadKernels(flavour, coreAssets());
  if (loaded === null || loaded.name !== flavour) throw new Error(`no ${flavour} kernels`);
  const { heapBase, geometry } = probeGeometry(loaded.module);

  return (layer, B, { x, w, b, dy }, T) => {
    const bias = layer.spec.bias;
    const F = layer.spec.filters;
    const outSize = shapeSize(layer.output);
    let top = Math.ceil(heapBase / 64) * 64;
    const guards: [string, number][] = [];
    const alloc = (name: string, bytes: number): number => {
      const at = top;
      guards.push([name, at + bytes]);
      top = Math.ceil((at + bytes + GUARD) / 64) * 64;
      return at;
    };
    const ax = alloc('x', 4 * x.length);
    const ay = alloc('y', 4 * B * outSize);
    const ady = alloc('dy', 4 * dy.length);
    const adx = alloc('dx', 4 * x.length);
    const aw = alloc('weights', 4 * w.length);
    const ab = alloc('bias', 4 * F);
    const adw = alloc('dW', 4 * w.length);
    const adb = alloc('db', 4 * F);
    const decls = conv.buffers(layer, B, geometry);
    const shared = Object.fromEntries(decls.filter((d) => !d.perThread).map((d) => [d.name, alloc(d.name, d.bytes)]));
    const params: Record<string, number> = bias ? { weights: aw, bias: ab } : { weights: aw };
    const grads: Record<string, number> = bias ? { weights: adw, bias: adb } : { weights: adw };
    const addresses: LayerAddresses[] = Array.from({ length: T }, (_, t) => ({
      x: ax,
      y: ay,
      dy: ady,
      dx: adx,
      params,
      grads,
      stats: {},
      saved: {},
      buffers: { ...shared, ...Object.fromEntries(decls.filter((d) => d.perThread).map((d) => [d.name, alloc(`${d.name} of thread ${t}`, d.bytes)])) },
    }));
    const memory = new WebAssembly.Memory({ initial: Math.ceil(top / PAGE), maximum: 65536, shared: true });
    const k = instantiate(loaded.module, memory);
    new Int32Array(memory.buffer).fill(GUARD_VALUE); // garbage everywhere: every output must be written
    const f32 = (at: number, n: number): Float32Array => new Float32Array(memory.buffer, at, n);
    f32(ax, x.length).set(x);
    f32(aw, w.length).set(w);
    f32(ab, F).set(b);
    f32(ady, dy.length).set(dy);

    for (let step = 0; step < conv.forwardSteps(layer, 'train'); step++) {
      for (let t = 0; t < T; t++) conv.forward(k, layer, addresses[t]!, B, 'train', 0, step, { t, T });
    }
    for (let step = 0; step < conv.backwardSteps(layer); step++) {
      for (let t = 0; t < T; t++) conv.backward(k, layer, addresses[t]!, B, step, { t, T });
    }
    const words = new Int32Array(memory.buffer);
    const overruns = guards.filter(([, end]) => {
      for (let i = end / 4; i < end / 4 + GUARD / 4; i++) if (words[i] !== GUARD_VALUE) return true;
      return false;
    });
    return {
      y: f32(ay, B * outSize).slice(),
      dw: f32(adw, w.length).slice(),
      db: bias ? f32(adb, F).slice() : new Float32Array(0),
      dx: f32(adx, x.length).slice(),
      overruns: overruns.map(([name]) => name),
    };
  };
}
