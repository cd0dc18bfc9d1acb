/**
 * Test support for the convolution kernels: one instance of a built kernel module (dist/core) over
 * its own shared memory, and a run of the forward pass, the weight gradient and the input gradient
 * with the work cut into the shares of T threads (run one after the other: the kernels must give
 * the same bits whoever computes what).
 */
import { loadKernels, instantiate, type KernelExports, type WasmKernelName } from '../src/core/kernels.ts';
import type { ConvGeometry } from '../src/nn/layers/conv.ts';
import { coreAssets } from './core-helpers.ts';

export interface ConvResults {
  y: Float32Array;
  dw: Float32Array;
  db: Float32Array;
  dx: Float32Array;
}

/** direct: im2col blocks (any geometry); winograd2, winograd4: F(2x2, 3x3), F(4x4, 3x3) (3x3 stride 1 only). */
export type ConvPath = 'direct' | 'winograd2' | 'winograd4';

export interface ConvHarness {
  k: KernelExports;
  run(
    path: ConvPath,
    g: ConvGeometry,
    B: number,
    bias: boolean,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    dy: Float32Array,
    T: number,
    share: (n: number, t: number, T: number, align?: number) => [number, number],
  ): ConvResults;
}

const PAGE = 65536;

export function convHarness(flavour: WasmKernelName): ConvHarness {
  const loaded = loadKernels(flavour, coreAssets());
  if (loaded === null || loaded.name !== flavour) throw new Error(`no ${flavour} kernels`);
  const probe = instantiate(loaded.module, new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }));
  const heap = Math.ceil(probe.heapBase() / 64) * 64;

  return {
    k: probe,
    run(path, g, B, bias, x, w, b, dy, T, share) {
      const K = g.k * g.k * g.C;
      let top = heap;
      const alloc = (bytes: number): number => {
        const at = top;
        top = Math.ceil((top + bytes) / 64) * 64;
        return at;
      };
      const nPos = B * g.Ho * g.Wo;
      const ax = alloc(4 * x.length);
      const aw = alloc(4 * w.length);
      const ab = alloc(4 * g.F);
      const ay = alloc(4 * nPos * g.F);
      const ady = alloc(4 * dy.length);
      const adx = alloc(4 * x.length);
      const adw = alloc(4 * w.length);
      const adb = alloc(4 * g.F);
      const direct = path === 'direct';
      const m = path === 'winograd4' ? 4 : 2;
      const k0 = probe;
      const wp = alloc(direct ? k0.convPackForwardBytes(g.F, K) : k0.winogradPackBytes(m, g.C, g.F));
      const wq = alloc(direct ? k0.convPackInputGradientBytes(g.F, g.C, g.k) : k0.winogradPackBytes(m, g.F, g.C));
      const scratchFloats = direct
        ? Math.max(k0.convBlockPositions() * k0.convPatchStride(K), k0.convInputPanelFloats(g.F, g.k, g.W))
        : Math.max(k0.winogradForwardScratchFloats(m, g.C, g.F), k0.winogradForwardScratchFloats(m, g.F, g.C), k0.winogradWeightScratchFloats(m, g.C, g.F));
      const scratch = Array.from({ length: T }, () => alloc(4 * scratchFloats));
      // A fresh memory (and instance) per run, as large as this run needs.
      const memory = new WebAssembly.Memory({ initial: Math.ceil(top / PAGE), maximum: 65536, shared: true });
      const k = instantiate(loaded.module, memory);
      const f32 = (at: number, n: number): Float32Array => new Float32Array(memory.buffer, at, n);
      f32(ax, x.length).set(x);
      f32(aw, w.length).set(w);
      f32(ab, g.F).set(b);
      f32(ady, dy.length).set(dy);
      // Garbage in the outputs: every value must be written.
      for (const [at, n] of [[ay, nPos * g.F], [adx, x.length], [adw, w.length], [adb, g.F]] as const) f32(at, n).fill(Number.NaN);

      const biasAt = bias ? ab : 0;
      const fGroups = Math.ceil(g.F / 8);
      const cGroups = Math.ceil(g.C / 8);
      // Tiles of m x m outputs (Winograd) over y, and over dx for the input gradient.
      const tiles = (h: number, w: number): number => B * Math.ceil(h / m) * Math.ceil(w / m);
      for (let t = 0; t < T; t++) {
        const [g0, g1] = share(fGroups, t, T);
        const [c0, c1] = share(cGroups, t, T);
        if (direct) {
          k.convPackForward(aw, biasAt, g.F, K, wp, g0, g1);
          k.convPackInputGradient(aw, g.F, g.C, g.k, g.stride, wq, c0, c1);
        } else {
          k.winogradPack(m, aw, g.F, g.C, 0, wp, g0, g1);
          k.winogradPack(m, aw, g.F, g.C, 1, wq, c0, c1);
        }
      }
      for (let t = 0; t < T; t++) {
        if (direct) {
          const [p0, p1] = share(nPos, t, T);
          k.convForward(ax, g.H, g.W, g.C, ay, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, wp, p0, p1, scratch[t]!);
        } else {
          const [t0, t1] = share(tiles(g.Ho, g.Wo), t, T);
          k.winogradForward(m, ax, g.H, g.W, g.C, ay, g.Ho, g.Wo, g.F, g.padTop, g.padLeft, wp, biasAt, t0, t1, scratch[t]!);
        }
      }
      for (let t = 0; t < T; t++) {
        const [f0, f1] = share(g.F, t, T, 4);
        if (bias) k.convBiasGradient(ady, g.F, nPos, adb, f0, f1);
        if (direct) {
          k.convWeightGradient(ax, g.H, g.W, g.C, ady, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, nPos, adw, f0, f1, scratch[t]!);
          const [r0, r1] = share(B * g.H, t, T);
          k.convInputGradient(ady, g.Ho, g.Wo, g.F, adx, g.H, g.W, g.C, g.k, g.stride, g.padTop, g.padLeft, wq, r0, r1, scratch[t]!);
        } else {
          k.winogradWeightGradient(m, ax, g.H, g.W, g.C, ady, g.Ho, g.Wo, g.F, g.padTop, g.padLeft, B, adw, f0, f1, scratch[t]!);
          const [t0, t1] = share(tiles(g.H, g.W), t, T);
          k.winogradForward(m, ady, g.Ho, g.Wo, g.F, adx, g.H, g.W, g.C, 2 - g.padTop, 2 - g.padLeft, wq, 0, t0, t1, scratch[t]!);
        }
      }
      return {
        y: f32(ay, nPos * g.F).slice(),
        dw: f32(adw, w.length).slice(),
        db: bias ? f32(adb, g.F).slice() : new Float32Array(0),
        dx: f32(adx, x.length).slice(),
      };
    },
  };
}
