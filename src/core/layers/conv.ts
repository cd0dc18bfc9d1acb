/**
 * The 2-D convolution in the gradient core (see src/nn/layers/conv.ts for the math), by one of two
 * kernel sets:
 *   winograd  3x3 stride-1 layers with at least WINOGRAD_MIN_CHANNELS input channels: Winograd's
 *             F(4x4, 3x3) (src/core/kernels/conv-winograd.as.ts), 4x fewer multiply-adds;
 *   direct    every other layer: products with the input's patches, block by block
 *             (src/core/kernels/conv.as.ts).
 *
 *   forward step 0   the weights packed (transformed) for the products: filter groups split; in
 *                    training also for the input gradient (channel groups split)
 *   forward step 1   y: output positions (Winograd: 4x4 tiles) split
 *   backward         db: filters split; dx: input rows (Winograd: tiles of dx) split; dW either
 *                    - by filters: each thread sums its filters over every position, or
 *                    - by positions, for direct layers with few weights and many positions (a
 *                      first layer: 864 weights, 262144 positions at batch 64): the positions
 *                      cut into PARTIAL_SUMS fixed ranges, each range's sums (partials) made by
 *                      one thread, then (step 1) added in range order, weights split. Every
 *                      thread then builds the patches of its own positions only.
 * Every output value is computed whole by one thread, in an order fixed by the geometry alone
 * (the path and the split depend on the layer, never on the thread count): results do not
 * depend on the thread count.
 */
import { convGeometry, type ConvGeometry } from '../../nn/layers/conv.ts';
import type { ConvSpec } from '../../nn/layers/spec.ts';
import type { KernelGeometry } from '../kernels.ts';
import { share } from '../split.ts';
import type { CoreBufferDecl, CoreLayer } from './driver.ts';

/**
 * Below this many input channels the Winograd products are too short (their depth is the channel
 * count) to beat a direct convolution, whose depth is 9 times larger: a first layer on RGB images
 * (3 channels) runs direct.
 */
const WINOGRAD_MIN_CHANNELS = 8;

/** Splits of positions, tiles and filters at multiples of 4 (the kernels' row tiles). */
const ALIGN = 4;

/** Fixed position ranges of the weight gradient split by positions (at least the thread count for a full split). */
const PARTIAL_SUMS = 16;
/** Weights (F * K) up to which a direct layer's weight gradient is split by positions: PARTIAL_SUMS copies stay small. */
const PARTIAL_WEIGHTS = 1 << 16;

export type ConvPath = 'winograd' | 'direct';

export function convPath(g: ConvGeometry): ConvPath {
  return g.k === 3 && g.stride === 1 && g.C >= WINOGRAD_MIN_CHANNELS ? 'winograd' : 'direct';
}

/** Whether the weight gradient is split by positions (partial sums) rather than by filters. */
function splitByPositions(g: ConvGeometry): boolean {
  return convPath(g) === 'direct' && g.F * g.k * g.k * g.C <= PARTIAL_WEIGHTS;
}

const up8 = (n: number): number => Math.ceil(n / 8) * 8;
const up4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Bytes of the kernels' buffers for a layer (the layouts are described in the kernel files; these
 * sizes mirror them): the weight packs for the forward pass and the input gradient (shared), and
 * the scratch a thread needs for any of the three passes.
 */
export function convBufferBytes(g: ConvGeometry, kg: KernelGeometry): { packForward: number; packInput: number; scratch: number; partials: number } {
  const partials = splitByPositions(g) ? 4 * PARTIAL_SUMS * g.F * g.k * g.k * g.C : 0;
  if (convPath(g) === 'winograd') {
    const TB = kg.winogradBlockTiles;
    const tile = (n: number): number => 36 * up8(n) + 16; // tileFloats
    const tmp = 2 * 36 * 4;
    const pack = (cin: number, cout: number): number => 36 * Math.ceil(cout / 8) * (cin + 1) * 32;
    const forward = (cin: number, cout: number): number => TB * (tile(cin) + tile(cout)) + tmp;
    // A thread may compute the weight gradient of every filter (when the layer runs on one thread).
    const weights = TB * (tile(g.C) + tile(g.F)) + 36 * (up8(g.F) * up8(g.C) + 16) + tmp;
    return {
      packForward: pack(g.C, g.F),
      packInput: pack(g.F, g.C),
      scratch: 4 * Math.max(forward(g.C, g.F), forward(g.F, g.C), weights),
      partials,
    };
  }
  const K = g.k * g.k * g.C;
  const PB = kg.convBlockPositions;
  const patches = PB * up8(K);
  const dyPatches = up4(Math.max(PB, g.W)) * g.k * g.k * g.F;
  return {
    packForward: Math.ceil(g.F / 8) * (K + 1) * 32,
    packInput: Math.ceil(g.C / 8) * (g.k * g.k * g.F + 1) * 32,
    scratch: 4 * Math.max(patches, dyPatches),
    partials,
  };
}

/** Tiles of 4x4 outputs over an h x w image, for B images. */
const tiles = (B: number, h: number, w: number): number => B * Math.ceil(h / 4) * Math.ceil(w / 4);

export const conv: CoreLayer<ConvSpec> = {
  type: 'conv',
  buffers(layer, _maxBatch, kg) {
    const g = convGeometry(layer.spec, layer.input);
    const bytes = convBufferBytes(g, kg);
    const decls: CoreBufferDecl[] = [
      { name: 'packForward', bytes: bytes.packForward, perThread: false },
      { name: 'scratch', bytes: bytes.scratch, perThread: true },
    ];
    if (bytes.partials > 0) decls.push({ name: 'partials', bytes: bytes.partials, perThread: false });
    // The first layer's input gradient is never needed.
    if (layer.index > 0) decls.push({ name: 'packInput', bytes: bytes.packInput, perThread: false });
    return decls;
  },
  forwardSteps: () => 2,
  backwardSteps: (layer) => (splitByPositions(convGeometry(layer.spec, layer.input)) ? 2 : 1),
  work(layer, B) {
    const g = convGeometry(layer.spec, layer.input);
    return B * g.Ho * g.Wo * g.F * g.k * g.k * g.C;
  },
  forward(k, layer, a, B, mode, _key, step, { t, T }) {
    const g = convGeometry(layer.spec, layer.input);
    const winograd = convPath(g) === 'winograd';
    const { packForward, packInput, scratch } = a.buffers;
    if (step === 0) {
      const [g0, g1] = share(Math.ceil(g.F / 8), t, T);
      if (g0 < g1) {
        if (winograd) k.winogradPack(a.params.weights!, g.F, g.C, 0, packForward!, g0, g1);
        else k.convPackForward(a.params.weights!, a.params.bias ?? 0, g.F, g.k * g.k * g.C, packForward!, g0, g1);
      }
      if (mode === 'train' && packInput !== undefined) {
        const [c0, c1] = share(Math.ceil(g.C / 8), t, T);
        if (c0 >= c1) return;
        if (winograd) k.winogradPack(a.params.weights!, g.F, g.C, 1, packInput, c0, c1);
        else k.convPackInputGradient(a.params.weights!, g.F, g.C, g.k, g.stride, packInput, c0, c1);
      }
      return;
    }
    if (winograd) {
      const [t0, t1] = share(tiles(B, g.Ho, g.Wo), t, T, ALIGN);
      if (t0 < t1) k.winogradForward(a.x, g.H, g.W, g.C, a.y, g.Ho, g.Wo, g.F, g.padTop, g.padLeft, packForward!, a.params.bias ?? 0, t0, t1, scratch!);
    } else {
      const [p0, p1] = share(B * g.Ho * g.Wo, t, T, ALIGN);
      if (p0 < p1) k.convForward(a.x, g.H, g.W, g.C, a.y, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, packForward!, p0, p1, scratch!);
    }
  },
  backward(k, layer, a, B, step, { t, T }) {
    const g = convGeometry(layer.spec, layer.input);
    const winograd = convPath(g) === 'winograd';
    const { packInput, scratch, partials } = a.buffers;
    const nPos = B * g.Ho * g.Wo;
    const K = g.k * g.k * g.C;
    if (step === 1) {
      // dW = the partial sums of the position ranges, added in range order
      const [i0, i1] = share(g.F * K, t, T, ALIGN);
      if (i0 < i1) k.convSumPartials(partials!, g.F * K, PARTIAL_SUMS, a.grads.weights!, i0, i1);
      return;
    }
    const [f0, f1] = share(g.F, t, T, ALIGN);
    if (f0 < f1 && a.grads.bias !== undefined) k.convBiasGradient(a.dy, g.F, nPos, a.grads.bias, f0, f1);
    if (partials !== undefined) {
      const [r0, r1] = share(PARTIAL_SUMS, t, T);
      for (let r = r0; r < r1; r++) {
        const p0 = Math.floor((r * nPos) / PARTIAL_SUMS);
        const p1 = Math.floor(((r + 1) * nPos) / PARTIAL_SUMS);
        k.convWeightGradient(a.x, g.H, g.W, g.C, a.dy, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, p0, p1, partials + 4 * r * g.F * K, 0, g.F, scratch!);
      }
    } else if (f0 < f1) {
      if (winograd) k.winogradWeightGradient(a.x, g.H, g.W, g.C, a.dy, g.Ho, g.Wo, g.F, g.padTop, g.padLeft, B, a.grads.weights!, f0, f1, scratch!);
      else k.convWeightGradient(a.x, g.H, g.W, g.C, a.dy, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, 0, nPos, a.grads.weights!, f0, f1, scratch!);
    }
    if (a.dx === 0) return;
    if (winograd) {
      // dx is the forward pass over dy with the turned kernel, padded by 2 - pad
      const [t0, t1] = share(tiles(B, g.H, g.W), t, T, ALIGN);
      if (t0 < t1) k.winogradForward(a.dy, g.Ho, g.Wo, g.F, a.dx, g.H, g.W, g.C, 2 - g.padTop, 2 - g.padLeft, packInput!, 0, t0, t1, scratch!);
    } else {
      const [r0, r1] = share(B * g.H, t, T);
      if (r0 < r1) k.convInputGradient(a.dy, g.Ho, g.Wo, g.F, a.dx, g.H, g.W, g.C, g.k, g.stride, g.padTop, g.padLeft, packInput!, r0, r1, scratch!);
    }
  },
};
