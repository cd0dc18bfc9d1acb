/**
 * 2-D convolution, channels-last: each output value is a neuron whose inputs are a k x k x C patch
 * of the input around its position.
 *
 * Shapes (input H x W x C, output Ho x Wo x F, F = filters, K = k*k*C):
 *   x (B, H, W, C)   W (F, k, k, C) = (F, K) row-major   b (F)   y (B, Ho, Wo, F)
 *
 *   forward    y[n, oy, ox, f] = b[f] + sum_{ky, kx, c} x[n, iy, ix, c] * W[f, ky, kx, c]
 *              with iy = oy * stride - padTop + ky, ix = ox * stride - padLeft + kx (zero outside)
 *   backward   dW[f, ky, kx, c] = sum_{n, oy, ox} dy[n, oy, ox, f] * x[n, iy, ix, c]
 *              db[f] = sum_{n, oy, ox} dy[n, oy, ox, f]
 *              dx[n, iy, ix, c] = sum over the outputs that saw it of dy[n, oy, ox, f] * W[f, ky, kx, c]
 * A row of W is one filter, laid out like a patch: so a convolution is a dense layer applied to
 * every patch (src/core lowers it that way), and the init's fan-in is K = k*k*C.
 */
import type { Shape } from '../shape.ts';
import type { LayerKind } from './layer.ts';
import type { ConvSpec } from './spec.ts';
import { windowAxis } from './window.ts';

export interface ConvGeometry {
  H: number;
  W: number;
  C: number;
  Ho: number;
  Wo: number;
  F: number;
  k: number;
  stride: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

export function convGeometry(spec: ConvSpec, input: Shape): ConvGeometry {
  const rows = windowAxis(input.height, spec.kernel, spec.stride, spec.padding, 'rows');
  const cols = windowAxis(input.width, spec.kernel, spec.stride, spec.padding, 'columns');
  return {
    H: input.height,
    W: input.width,
    C: input.channels,
    Ho: rows.out,
    Wo: cols.out,
    F: spec.filters,
    k: spec.kernel,
    stride: spec.stride,
    padTop: rows.before,
    padLeft: cols.before,
    padBottom: rows.after,
    padRight: cols.after,
  };
}

export const conv: LayerKind<ConvSpec> = {
  type: 'conv',
  initBefore: 'xavier',
  describe: (s) => `${s.filters} filters ${s.kernel}x${s.kernel}${s.stride === 2 ? ', stride 2' : ''}${s.padding === 'valid' ? ', valid' : ''}${s.bias ? '' : ', no bias'}`,
  plan(spec, input) {
    const g = convGeometry(spec, input);
    const K = g.k * g.k * g.C;
    return {
      output: { height: g.Ho, width: g.Wo, channels: g.F },
      params: [
        { name: 'weights', length: g.F * K, decay: true, init: { kind: 'random', fanIn: K, fanOut: g.k * g.k * g.F } },
        ...(spec.bias ? [{ name: 'bias', length: g.F, decay: false, init: { kind: 'constant' as const, value: 0 } }] : []),
      ],
      stats: [],
      saved: [],
    };
  },
  forward(spec, input, _output, io) {
    const g = convGeometry(spec, input);
    const { x, y, B } = io;
    const w = io.params.weights!;
    const bias = io.params.bias ?? null;
    const K = g.k * g.k * g.C;
    for (let n = 0; n < B; n++) {
      for (let oy = 0; oy < g.Ho; oy++) {
        for (let ox = 0; ox < g.Wo; ox++) {
          const out = ((n * g.Ho + oy) * g.Wo + ox) * g.F;
          for (let f = 0; f < g.F; f++) {
            let sum = bias === null ? 0 : bias[f]!;
            for (let ky = 0; ky < g.k; ky++) {
              const iy = oy * g.stride - g.padTop + ky;
              if (iy < 0 || iy >= g.H) continue;
              for (let kx = 0; kx < g.k; kx++) {
                const ix = ox * g.stride - g.padLeft + kx;
                if (ix < 0 || ix >= g.W) continue;
                const xi = ((n * g.H + iy) * g.W + ix) * g.C;
                const wi = f * K + (ky * g.k + kx) * g.C;
                for (let c = 0; c < g.C; c++) sum += x[xi + c]! * w[wi + c]!;
              }
            }
            y[out + f] = sum;
          }
        }
      }
    }
  },
  backward(spec, input, _output, io) {
    const g = convGeometry(spec, input);
    const { x, dy, dx, B } = io;
    const w = io.params.weights!;
    const dw = io.grads.weights!;
    const db = io.grads.bias ?? null;
    const K = g.k * g.k * g.C;
    dw.fill(0);
    db?.fill(0);
    dx?.fill(0, 0, B * g.H * g.W * g.C);
    for (let n = 0; n < B; n++) {
      for (let oy = 0; oy < g.Ho; oy++) {
        for (let ox = 0; ox < g.Wo; ox++) {
          const out = ((n * g.Ho + oy) * g.Wo + ox) * g.F;
          for (let f = 0; f < g.F; f++) {
            const d = dy[out + f]!;
            if (db !== null) db[f] += d;
            if (d === 0) continue;
            for (let ky = 0; ky < g.k; ky++) {
              const iy = oy * g.stride - g.padTop + ky;
              if (iy < 0 || iy >= g.H) continue;
              for (let kx = 0; kx < g.k; kx++) {
                const ix = ox * g.stride - g.padLeft + kx;
                if (ix < 0 || ix >= g.W) continue;
                const xi = ((n * g.H + iy) * g.W + ix) * g.C;
                const wi = f * K + (ky * g.k + kx) * g.C;
                for (let c = 0; c < g.C; c++) {
                  dw[wi + c] += d * x[xi + c]!;
                  if (dx !== null) dx[xi + c] += d * w[wi + c]!;
                }
              }
            }
          }
        }
      }
    }
  },
};
