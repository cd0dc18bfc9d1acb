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
 *   forward step 1   y: output positions (Winograd: 4x4 tiles) split; a Winograd layer in
 *                    training keeps every tile's transformed input (transformedInput), so that
 *                    the weight gradient, which each thread sums over every tile for its filters,
 *                    reads it instead of transforming x again on every thread
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
import { cut } from '../split.ts';
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
function convBufferBytes(
  g: ConvGeometry,
  kg: KernelGeometry,
  maxBatch: number,
): { packForward: number; packInput: number; scratch: number; partials: number; transformedInput: number } {
  const partials = splitByPositions(g) ? 4 * PARTIAL_SUMS * g.F * g.k * g.k * g.C : 0;
  if (convPath(g) === 'winograd') {
    const TB = kg.winogradBlockTiles;
    const tile = (n: number): number => 36 * up8(n) + 16; // tileFloats
    const tmp = 2 * 36 * 4;
    const pack = (cin: number, cout: number): number => 36 * Math.ceil(cout / 8) * (cin + 1) * 32;
    const forward = (cin: number, cout: number): number => TB * (tile(cin) + tile(cout)) + tmp;
    // A thread may compute the weight gradient of every filter (when the layer runs on one thread).
    const weights = TB * tile(g.F) + 36 * (up8(g.F) * up8(g.C) + 16) + tmp; // reads the kept transform of x (transformedInput)
    return {
      packForward: pack(g.C, g.F),
      packInput: pack(g.F, g.C),
      scratch: 4 * Math.max(forward(g.C, g.F), forward(g.F, g.C), weights),
      partials,
      transformedInput: 4 * tiles(maxBatch, g.Ho, g.Wo) * tile(g.C),
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
    transformedInput: 0,
  };
}

/** Tiles of 4x4 outputs over an h x w image, for B images. */
const tiles = (B: number, h: number, w: number): number => B * Math.ceil(h / 4) * Math.ceil(w / 4);

export const conv: CoreLayer<ConvSpec> = {
  buffers(layer, maxBatch, kg) {
    const g = convGeometry(layer.spec, layer.input);
    const bytes = convBufferBytes(g, kg, maxBatch);
    const decls: CoreBufferDecl[] = [
      { name: 'packForward', bytes: bytes.packForward, perThread: false },
      { name: 'scratch', bytes: bytes.scratch, perThread: true },
    ];
    if (bytes.partials > 0) decls.push({ name: 'partials', bytes: bytes.partials, perThread: false });
    if (bytes.transformedInput > 0) decls.push({ name: 'transformedInput', bytes: bytes.transformedInput, perThread: false });
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
  prepare(k, layer, a) {
    const g = convGeometry(layer.spec, layer.input);
    const winograd = convPath(g) === 'winograd';
    const { H, W, C, Ho, Wo, F, stride, padTop, padLeft } = g;
    const size = g.k; // (k is the kernels here)
    const K = size * size * C;
    const filterGroups = Math.ceil(F / 8);
    const channelGroups = Math.ceil(C / 8);
    const { x, y, dy, dx } = a;
    const weights = a.params.weights!;
    const bias = a.params.bias ?? 0;
    const dWeights = a.grads.weights!;
    const dBias = a.grads.bias ?? 0;
    const packForward = a.buffers.packForward!;
    const packInput = a.buffers.packInput ?? 0;
    const scratch = a.buffers.scratch!;
    const partials = a.buffers.partials ?? 0;
    const transformedInput = a.buffers.transformedInput ?? 0;
    return {
      forward(B, mode, _key, step, t, T) {
        if (step === 0) {
          const g0 = cut(filterGroups, t, T);
          const g1 = cut(filterGroups, t + 1, T);
          if (g0 < g1) {
            if (winograd) k.winogradPack(weights, F, C, 0, packForward, g0, g1);
            else k.convPackForward(weights, bias, F, K, packForward, g0, g1);
          }
          if (mode === 'train' && packInput !== 0) {
            const c0 = cut(channelGroups, t, T);
            const c1 = cut(channelGroups, t + 1, T);
            if (c0 >= c1) return;
            if (winograd) k.winogradPack(weights, F, C, 1, packInput, c0, c1);
            else k.convPackInputGradient(weights, F, C, size, stride, packInput, c0, c1);
          }
          return;
        }
        if (winograd) {
          const n = tiles(B, Ho, Wo);
          const t0 = cut(n, t, T, ALIGN);
          const t1 = cut(n, t + 1, T, ALIGN);
          const keep = mode === 'train' ? transformedInput : 0;
          if (t0 < t1) k.winogradForward(x, H, W, C, y, Ho, Wo, F, padTop, padLeft, packForward, bias, t0, t1, scratch, keep);
        } else {
          const n = B * Ho * Wo;
          const p0 = cut(n, t, T, ALIGN);
          const p1 = cut(n, t + 1, T, ALIGN);
          if (p0 < p1) k.convForward(x, H, W, C, y, Ho, Wo, F, size, stride, padTop, padLeft, packForward, p0, p1, scratch);
        }
      },
      backward(B, step, t, T) {
        const nPos = B * Ho * Wo;
        if (step === 1) {
          // dW = the partial sums of the position ranges, added in range order
          const i0 = cut(F * K, t, T, ALIGN);
          const i1 = cut(F * K, t + 1, T, ALIGN);
          if (i0 < i1) k.convSumPartials(partials, F * K, PARTIAL_SUMS, dWeights, i0, i1);
          return;
        }
        const f0 = cut(F, t, T, ALIGN);
        const f1 = cut(F, t + 1, T, ALIGN);
        if (f0 < f1 && dBias !== 0) k.convBiasGradient(dy, F, nPos, dBias, f0, f1);
        if (partials !== 0) {
          const r1 = cut(PARTIAL_SUMS, t + 1, T);
          for (let r = cut(PARTIAL_SUMS, t, T); r < r1; r++) {
            const p0 = Math.floor((r * nPos) / PARTIAL_SUMS);
            const p1 = Math.floor(((r + 1) * nPos) / PARTIAL_SUMS);
            k.convWeightGradient(x, H, W, C, dy, Ho, Wo, F, size, stride, padTop, padLeft, p0, p1, partials + 4 * r * F * K, 0, F, scratch);
          }
        } else if (f0 < f1) {
          if (winograd) k.winogradWeightGradient(transformedInput, C, dy, Ho, Wo, F, B, dWeights, f0, f1, scratch);
          else k.convWeightGradient(x, H, W, C, dy, Ho, Wo, F, size, stride, padTop, padLeft, 0, nPos, dWeights, f0, f1, scratch);
        }
        if (dx === 0) return;
        if (winograd) {
          // dx is the forward pass over dy with the turned kernel, padded by 2 - pad
          const n = tiles(B, H, W);
          const t0 = cut(n, t, T, ALIGN);
          const t1 = cut(n, t + 1, T, ALIGN);
          if (t0 < t1) k.winogradForward(dy, Ho, Wo, F, dx, H, W, C, 2 - padTop, 2 - padLeft, packInput, 0, t0, t1, scratch, 0);
        } else {
          const r0 = cut(B * H, t, T);
          const r1 = cut(B * H, t + 1, T);
          if (r0 < r1) k.convInputGradient(dy, Ho, Wo, F, dx, H, W, C, size, stride, padTop, padLeft, packInput, r0, r1, scratch);
        }
      },
    };
  },
};
