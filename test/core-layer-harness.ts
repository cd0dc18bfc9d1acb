/**
 * Test support: one layer of the gradient core run by hand, without the core's workers. The
 * layer's CoreLayer driver and the built WebAssembly kernels (dist/core) work over a shared memory
 * laid out here (the saved buffers the core keeps: savedInCore); the layer is prepared once per
 * thread, as the core does; each step runs the shares t = 0..T-1 one after the other on this
 * thread, the end of a step standing for the barrier. Since a share may only depend on (t, T) and
 * what earlier steps left, the bytes this produces for T threads are those of the real threaded
 * core.
 * Every buffer is followed by a guard band that no kernel may write (overruns() names those that
 * were): the sizes a driver declares must hold what its kernels write.
 */
import { instantiate, loadKernels, probeGeometry, type KernelExports, type WasmKernelName } from '../src/core/kernels.ts';
import { savedInCore, type CoreLayer, type LayerAddresses, type PreparedLayer } from '../src/core/layers/driver.ts';
import type { Floats, LayerPass, LayerSpec, Mode, Shape } from '../src/nn/index.ts';
import { planNetwork, shapeSize, type PlannedLayer } from '../src/nn/index.ts';
import { coreAssets } from './core-helpers.ts';

/** Threads the harness lays out per-thread buffers for. */
export const MAX_THREADS = 4;
const PAGE = 65536;
/** Bytes after each buffer, and what they hold: a NaN that no kernel computes. */
const GUARD_BYTES = 256;
const GUARD_WORD = 0x7fa1b2c3;

const modules = new Map<WasmKernelName, WebAssembly.Module>();
function kernelModule(kernel: WasmKernelName): WebAssembly.Module {
  let module = modules.get(kernel);
  if (!module) {
    const loaded = loadKernels(kernel, coreAssets());
    if (!loaded) throw new Error(`this runtime cannot run the ${kernel} kernels`);
    module = loaded.module;
    modules.set(kernel, module);
  }
  return module;
}

/** The planned layer of `spec` on `input` (planned in front of the output layer a plan requires). */
export function planLayer<S extends LayerSpec>(spec: S, input: Shape): PlannedLayer<S> {
  return planNetwork({ input, layers: [spec, { type: 'dense', units: 1, bias: true }] }).layers[0] as unknown as PlannedLayer<S>;
}

type Views = Record<string, Float32Array>;

export interface LayerHarness {
  readonly layer: PlannedLayer;
  readonly k: KernelExports;
  readonly maxBatch: number;
  /** Views of the layer's buffers in the shared memory (maxBatch samples). */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly dy: Float32Array;
  readonly dx: Float32Array;
  readonly params: Views;
  readonly grads: Views;
  readonly stats: Views;
  readonly saved: Views;
  forward(B: number, mode: Mode, noiseKey: number, T: number): void;
  backward(B: number, T: number, withDx?: boolean): void;
  /** The buffers whose guard band was written since the harness was made. */
  overruns(): string[];
}

export function layerHarness<S extends LayerSpec>(kernel: WasmKernelName, driver: CoreLayer<S>, layer: PlannedLayer<S>, maxBatch: number): LayerHarness {
  const probe = instantiate(kernelModule(kernel), new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }));
  let end = probe.heapBase();
  const guards: { name: string; at: number }[] = [];
  const take = (bytes: number, name: string): number => {
    const at = Math.ceil(end / 64) * 64;
    const guard = Math.ceil((at + bytes) / 4) * 4;
    guards.push({ name, at: guard });
    end = guard + GUARD_BYTES;
    return at;
  };
  const inSize = shapeSize(layer.input);
  const outSize = shapeSize(layer.output);
  const x = take(4 * maxBatch * inSize, 'x');
  const y = take(4 * maxBatch * outSize, 'y');
  const dy = take(4 * maxBatch * outSize, 'dy');
  const dx = take(4 * maxBatch * inSize, 'dx');
  const slices = (decls: { name: string; length: number }[]) => Object.fromEntries(decls.map((d) => [d.name, take(4 * d.length, d.name)]));
  const params = slices(layer.params);
  const grads = slices(layer.params);
  const stats = slices(layer.stats);
  const savedDecls = savedInCore(layer, driver).map((s) => ({ name: s.name, length: s.perSample * maxBatch + s.fixed }));
  const saved = slices(savedDecls);
  const decls = driver.buffers(layer, maxBatch, probeGeometry(kernelModule(kernel)).geometry);
  const shared = Object.fromEntries(decls.filter((d) => !d.perThread).map((d) => [d.name, take(d.bytes, d.name)]));
  const perThread = Array.from({ length: MAX_THREADS }, (_, t) =>
    Object.fromEntries(decls.filter((d) => d.perThread).map((d) => [d.name, take(d.bytes, `${d.name} of thread ${t}`)])),
  );
  const pages = Math.ceil(end / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const k = instantiate(kernelModule(kernel), memory);
  const words = new Int32Array(memory.buffer);
  for (const g of guards) words.fill(GUARD_WORD, g.at / 4, (g.at + GUARD_BYTES) / 4);

  const buffer = memory.buffer;
  const view = (address: number, length: number) => new Float32Array(buffer, address, length);
  const views = (addresses: Record<string, number>, decls: { name: string; length: number }[]): Views =>
    Object.fromEntries(decls.map((d) => [d.name, view(addresses[d.name]!, d.length)]));
  const addresses = (t: number, withDx: boolean): LayerAddresses => ({
    x, y, dy, dx: withDx ? dx : 0, params, grads, stats, saved, buffers: { ...shared, ...perThread[t]! },
  });
  // Per thread: the layer prepared with dx, and without (a first layer's).
  const prepared = (withDx: boolean): PreparedLayer[] => Array.from({ length: MAX_THREADS }, (_, t) => driver.prepare(k, layer, addresses(t, withDx)));
  const withDxLayers = prepared(true);
  const noDxLayers = prepared(false);
  const check = (T: number) => {
    if (!(T >= 1 && T <= MAX_THREADS)) throw new RangeError(`harness: ${T} threads`);
  };
  return {
    layer,
    k,
    maxBatch,
    x: view(x, maxBatch * inSize),
    y: view(y, maxBatch * outSize),
    dy: view(dy, maxBatch * outSize),
    dx: view(dx, maxBatch * inSize),
    params: views(params, layer.params),
    grads: views(grads, layer.params),
    stats: views(stats, layer.stats),
    saved: views(saved, savedDecls),
    forward(B, mode, noiseKey, T) {
      check(T);
      for (let step = 0; step < driver.forwardSteps(layer, mode); step++) {
        for (let t = 0; t < T; t++) withDxLayers[t]!.forward(B, mode, noiseKey, step, t, T);
      }
    },
    backward(B, T, withDx = true) {
      check(T);
      const layers = withDx ? withDxLayers : noDxLayers;
      for (let step = 0; step < driver.backwardSteps(layer); step++) {
        for (let t = 0; t < T; t++) layers[t]!.backward(B, step, t, T);
      }
    },
    overruns() {
      return guards.filter((g) => words.subarray(g.at / 4, (g.at + GUARD_BYTES) / 4).some((w) => w !== GUARD_WORD)).map((g) => g.name);
    },
  };
}

/** The reference kind on copies of the harness's inputs (x, dy, params, stats), in float64 or float32; backward too in training mode. */
export function referencePass(h: LayerHarness, B: number, mode: Mode, noiseKey: number, Ctor: typeof Float64Array | typeof Float32Array = Float64Array) {
  const { layer } = h;
  const copy = (a: Float32Array): Floats => Ctor.from(a);
  const copies = (v: Views) => Object.fromEntries(Object.entries(v).map(([name, a]) => [name, copy(a)]));
  const pass: LayerPass = {
    B,
    mode,
    noiseKey,
    x: copy(h.x),
    y: new Ctor(h.y.length),
    dy: copy(h.dy),
    dx: new Ctor(h.dx.length),
    params: copies(h.params),
    grads: Object.fromEntries(Object.entries(h.grads).map(([name, a]) => [name, new Ctor(a.length)])),
    stats: copies(h.stats),
    // The reference's own saved buffers (the plan's: the core may keep fewer).
    saved: Object.fromEntries(layer.saved.map((s) => [s.name, new Ctor(s.perSample * h.maxBatch + s.fixed)])),
  };
  layer.kind.forward(layer.spec, layer.input, layer.output, pass);
  if (mode === 'train') layer.kind.backward(layer.spec, layer.input, layer.output, pass);
  return pass;
}
