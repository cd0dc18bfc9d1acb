/**
 * Convolution on the GPU: the forward pass and the parameter gradients by conv-forward-tiled and
 * conv-weight-grad-tiled (implicit matrix products in 64 x 64 tiles; the weight gradient's long
 * sum over the batch's rows cut into splits, weightGradSplits) when the layer has at least
 * TILED_MIN_FILTERS filters, else by the direct conv-forward and conv-weight-grad (one thread per
 * output: a tile of 64 filters would leave most of its threads idle); the input gradient by
 * conv-input-grad-tiled when the input has at least TILED_MIN_CHANNELS channels, else by the direct
 * conv-input-grad.
 */
import { convGeometry } from '../../../nn/layers/conv.ts';
import type { ConvSpec } from '../../../nn/layers/spec.ts';
import type { PlannedLayer } from '../../../nn/plan.ts';
import { NONE } from '../kernels/common.ts';
import { CONV_TILE_F, CONV_TILE_M } from '../kernels/conv-forward-tiled.wgsl.ts';
import { CONV_WGRAD_TILE, CONV_WGRAD_TILE_M } from '../kernels/conv-weight-grad-tiled.wgsl.ts';
import { CONV_IGRAD_TILE_C, CONV_IGRAD_TILE_M } from '../kernels/conv-input-grad-tiled.wgsl.ts';
import { bindKernel, dispatch1d, run1d, type GpuLayerPart } from './context.ts';

/** The fewest filters for which the tiled forward and weight-gradient kernels are chosen. */
export const TILED_MIN_FILTERS = 8;
/** The fewest input channels for which the tiled input-gradient kernel is chosen (its tile's columns). */
export const TILED_MIN_CHANNELS = 8;

/** Rows (output positions of a batch) a split of the weight gradient sums, at the least. */
const WGRAD_SPLIT_ROWS = 2048;
/** Splits of the weight gradient, at most: enough workgroups for a large GPU's cores. */
const WGRAD_MAX_SPLITS = 256;
/** Floats of partial sums a layer may keep (16 MiB: under any adapter's buffer limit). */
const WGRAD_PARTIALS = 4 * 2 ** 20;

/**
 * How the tiled weight gradient cuts its sum over the rows of a batch (see conv-weight-grad-tiled):
 * `splits` workgroups along z, each summing `rows` rows (a multiple of the kernel's row tile), for
 * batches up to maxRows rows; a smaller batch leaves the last splits empty (their partials are
 * zeros). One split (rows 0) when the rows are few or the layer's weights many.
 */
export function weightGradSplits(maxRows: number, filters: number, columns: number): { splits: number; rows: number } {
  const splits = Math.max(1, Math.min(Math.ceil(maxRows / WGRAD_SPLIT_ROWS), Math.floor(WGRAD_PARTIALS / (filters * columns)), WGRAD_MAX_SPLITS));
  if (splits === 1) return { splits: 1, rows: 0 };
  return { splits, rows: Math.ceil(maxRows / splits / CONV_WGRAD_TILE_M) * CONV_WGRAD_TILE_M };
}

export const convGpu: GpuLayerPart = {
  prepare(layer, ctx, { x, y, dx, dy }) {
    const g = convGeometry((layer as PlannedLayer<ConvSpec>).spec, layer.input);
    const weights = layer.params.find((p) => p.name === 'weights')!;
    const bias = layer.params.find((p) => p.name === 'bias');
    const dims = ctx.uniform([g.H, g.W, g.C, g.Ho, g.Wo, g.F, g.k, g.stride, g.padTop, g.padLeft, weights.offset, bias ? bias.offset : NONE]);
    const tiled = g.F >= TILED_MIN_FILTERS;
    const K = g.k * g.k * g.C;
    const columns = K + (bias ? 1 : 0);
    const split = tiled ? weightGradSplits(ctx.maxBatch * g.Ho * g.Wo, g.F, columns) : { splits: 1, rows: 0 };
    const forward = ctx.pipeline(tiled ? 'conv-forward-tiled' : 'conv-forward');
    const weightGrad = tiled ? ctx.pipeline('conv-weight-grad-tiled', { ROWS: split.rows }) : ctx.pipeline('conv-weight-grad');
    const partials = ctx.storage(split.splits > 1 ? split.splits * g.F * columns : 1);
    const sumSplits = split.splits > 1 ? bindKernel(ctx, 'conv-weight-grad-sum', [ctx.step, dims, partials, ctx.grads], { SPLITS: split.splits }) : null;
    const tiledInput = g.C >= TILED_MIN_CHANNELS;
    const inputGrad = dx ? ctx.pipeline(tiledInput ? 'conv-input-grad-tiled' : 'conv-input-grad') : null;
    const forwardGroup = ctx.bind(forward, [ctx.step, dims, x, ctx.params, y]);
    const weightGroup = ctx.bind(weightGrad, tiled ? [ctx.step, dims, x, dy, ctx.grads, partials] : [ctx.step, dims, x, dy, ctx.grads]);
    const inputGroup = inputGrad && dx ? ctx.bind(inputGrad, [ctx.step, dims, dy, ctx.params, dx]) : null;
    return {
      forward(pass, B) {
        pass.setPipeline(forward);
        pass.setBindGroup(0, forwardGroup);
        if (tiled) {
          // Tiles of 64 rows (outputs) in rows of at most 65,535 workgroups, by tiles of 64 filters.
          const tiles = Math.ceil((B * g.Ho * g.Wo) / CONV_TILE_M);
          const x = Math.min(tiles, 65535);
          pass.dispatchWorkgroups(x, Math.ceil(tiles / x), Math.ceil(g.F / CONV_TILE_F));
        } else dispatch1d(pass, B * g.Ho * g.Wo * g.F);
      },
      backward(pass, B) {
        pass.setPipeline(weightGrad);
        pass.setBindGroup(0, weightGroup);
        // Tiled: 64 filters by 64 columns (the K weights of a filter, and its bias as one more), by
        // splits of the rows; then the splits added up.
        if (tiled) pass.dispatchWorkgroups(Math.ceil(g.F / CONV_WGRAD_TILE), Math.ceil(columns / CONV_WGRAD_TILE), split.splits);
        else dispatch1d(pass, g.F * columns);
        if (sumSplits) run1d(pass, sumSplits, g.F * columns);
        if (inputGrad && inputGroup) {
          pass.setPipeline(inputGrad);
          pass.setBindGroup(0, inputGroup);
          if (tiledInput) {
            const tiles = Math.ceil((B * g.H * g.W) / CONV_IGRAD_TILE_M);
            const x = Math.min(tiles, 65535);
            pass.dispatchWorkgroups(x, Math.ceil(tiles / x), Math.ceil(g.C / CONV_IGRAD_TILE_C));
          } else dispatch1d(pass, B * g.H * g.W * g.C);
        }
      },
    };
  },
};
