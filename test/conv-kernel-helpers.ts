/**
 * Test support for the convolution kernels: a built kernel module (dist/core) over a fresh shared
 * memory per run, and a run of the forward pass, the weight gradient and the input gradient with
 * the work cut into the shares of T threads (run one after the other: the kernels must give the
 * same bits whoever computes what). Buffers have the sizes the core's driver declares
 * (src/core/layers/conv.ts), each followed by a guard band that the kernels must leave untouched.
 */
import { loadKernels, instantiate, probeGeometry, type WasmKernelName } from '../src/core/kernels.ts';
import { convBufferBytes, type ConvPath } from '../src/core/layers/conv.ts';
import type { ConvGeometry } from '../src/nn/layers/conv.ts';
import { share } from '../src/core/split.ts';
import { coreAssets } from './core-helpers.ts';

export interface ConvResults {
  y: Float32Array;
  dw: Float32Array;
  db: Float32Array;
  dx: Float32Array;
  /** Guard bands that were written. */
  overruns: string[];
}

export interface ConvInputs {
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  dy: Float32Array;
}

export type ConvRun = (path: ConvPath, g: ConvGeometry, B: number, bias: boolean, inputs: ConvInputs, T: number) => ConvResults;

const PAGE = 65536;
const GUARD = 256;
const GUARD_VALUE = 0x7fa1b2c3; // a NaN no kernel computes

export function convHarness(flavour: WasmKernelName): ConvRun {
  const loaded = loadKernels(flavour, coreAssets());
  if (loaded === null || loaded.name !== flavour) throw new Error(`no ${flavour} kernels`);
  const { heapBase, geometry } = probeGeometry(loaded.module);

  return (path, g, B, bias, { x, w, b, dy }, T) => {
    const K = g.k * g.k * g.C;
    const nPos = B * g.Ho * g.Wo;
    const sizes = convBufferBytes(g, path, geometry);
    let top = Math.ceil(heapBase / 64) * 64;
    const guards: [string, number][] = [];
    const alloc = (name: string, bytes: number): number => {
      const at = top;
      guards.push([name, at + bytes]);
      top = Math.ceil((at + bytes + GUARD) / 64) * 64;
      return at;
    };
    const ax = alloc('x', 4 * x.length);
    const aw = alloc('weights', 4 * w.length);
    const ab = alloc('bias', 4 * g.F);
    const ay = alloc('y', 4 * nPos * g.F);
    const ady = alloc('dy', 4 * dy.length);
    const adx = alloc('dx', 4 * x.length);
    const adw = alloc('dW', 4 * w.length);
    const adb = alloc('db', 4 * g.F);
    const wp = alloc('forward pack', sizes.packForward);
    const wq = alloc('input-gradient pack', sizes.packInput);
    const scratch = Array.from({ length: T }, (_, t) => alloc(`scratch ${t}`, sizes.scratch));
    const memory = new WebAssembly.Memory({ initial: Math.ceil(top / PAGE), maximum: 65536, shared: true });
    const k = instantiate(loaded.module, memory);
    new Int32Array(memory.buffer).fill(GUARD_VALUE);
    const f32 = (at: number, n: number): Float32Array => new Float32Array(memory.buffer, at, n);
    f32(ax, x.length).set(x);
    f32(aw, w.length).set(w);
    f32(ab, g.F).set(b);
    f32(ady, dy.length).set(dy);

    const winograd = path === 'winograd';
    const biasAt = bias ? ab : 0;
    // Tiles of 4x4 outputs (Winograd) over y, and over dx for the input gradient.
    const tiles = (h: number, w: number): number => B * Math.ceil(h / 4) * Math.ceil(w / 4);
    for (let t = 0; t < T; t++) {
      const [g0, g1] = share(Math.ceil(g.F / 8), t, T);
      const [c0, c1] = share(Math.ceil(g.C / 8), t, T);
      if (winograd) {
        k.winogradPack(aw, g.F, g.C, 0, wp, g0, g1);
        k.winogradPack(aw, g.F, g.C, 1, wq, c0, c1);
      } else {
        k.convPackForward(aw, biasAt, g.F, K, wp, g0, g1);
        k.convPackInputGradient(aw, g.F, g.C, g.k, g.stride, wq, c0, c1);
      }
    }
    for (let t = 0; t < T; t++) {
      if (winograd) {
        const [t0, t1] = share(tiles(g.Ho, g.Wo), t, T);
        k.winogradForward(ax, g.H, g.W, g.C, ay, g.Ho, g.Wo, g.F, g.padTop, g.padLeft, wp, biasAt, t0, t1, scratch[t]!);
      } else {
        const [p0, p1] = share(nPos, t, T);
        k.convForward(ax, g.H, g.W, g.C, ay, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, wp, p0, p1, scratch[t]!);
      }
    }
    for (let t = 0; t < T; t++) {
      const [f0, f1] = share(g.F, t, T, 4);
      if (bias) k.convBiasGradient(ady, g.F, nPos, adb, f0, f1);
      if (winograd) {
        k.winogradWeightGradient(ax, g.H, g.W, g.C, ady, g.Ho, g.Wo, g.F, g.padTop, g.padLeft, B, adw, f0, f1, scratch[t]!);
        const [t0, t1] = share(tiles(g.H, g.W), t, T);
        k.winogradForward(ady, g.Ho, g.Wo, g.F, adx, g.H, g.W, g.C, 2 - g.padTop, 2 - g.padLeft, wq, 0, t0, t1, scratch[t]!);
      } else {
        k.convWeightGradient(ax, g.H, g.W, g.C, ady, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, nPos, adw, f0, f1, scratch[t]!);
        const [r0, r1] = share(B * g.H, t, T);
        k.convInputGradient(ady, g.Ho, g.Wo, g.F, adx, g.H, g.W, g.C, g.k, g.stride, g.padTop, g.padLeft, wq, r0, r1, scratch[t]!);
      }
    }
    const words = new Int32Array(memory.buffer);
    const overruns = guards.filter(([, end]) => {
      for (let i = end / 4; i < end / 4 + GUARD / 4; i++) if (words[i] !== GUARD_VALUE) return true;
      return false;
    });
    return {
      y: f32(ay, nPos * g.F).slice(),
      dw: f32(adw, w.length).slice(),
      db: bias ? f32(adb, g.F).slice() : new Float32Array(0),
      dx: f32(adx, x.length).slice(),
      overruns: overruns.map(([name]) => name),
    };
  };
}
