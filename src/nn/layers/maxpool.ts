/**
 * Max pooling: each output is the largest input of its size x size window, per channel.
 *
 * Shapes: x (B, H, W, C) -> y (B, Ho, Wo, C), Ho = floor((H - size) / stride) + 1 (window.ts, valid).
 *   forward    y[n, oy, ox, c] = max_{ky, kx} x[n, oy*stride + ky, ox*stride + kx, c]
 *              saved "argmax": which tap won, ky * size + kx (the first maximum in row-major order)
 *   backward   dx[n, iy, ix, c] = sum of dy[n, oy, ox, c] over the windows whose winner is (iy, ix)
 */
import type { LayerKind } from './layer.ts';
import type { PoolSpec } from './spec.ts';
import { poolGeometry, poolPlan } from './pool.ts';

export const maxpool: LayerKind<PoolSpec<'maxpool'>> = {
  type: 'maxpool',
  initBefore: 'next',
  describe: (s) => `${s.size}x${s.size}${s.stride === s.size ? '' : `, stride ${s.stride}`}`,
  plan(spec, input) {
    const recipe = poolPlan(spec, input);
    const { height, width, channels } = recipe.output;
    return { ...recipe, saved: [{ name: 'argmax', perSample: height * width * channels, fixed: 0 }] };
  },
  forward(spec, input, _output, io) {
    const g = poolGeometry(spec, input);
    const { x, y, B } = io;
    const argmax = io.saved.argmax!;
    for (let n = 0; n < B; n++) {
      for (let oy = 0; oy < g.Ho; oy++) {
        for (let ox = 0; ox < g.Wo; ox++) {
          const out = ((n * g.Ho + oy) * g.Wo + ox) * g.C;
          for (let c = 0; c < g.C; c++) {
            let best = -Infinity;
            let tap = 0;
            for (let ky = 0; ky < g.size; ky++) {
              for (let kx = 0; kx < g.size; kx++) {
                const v = x[((n * g.H + oy * g.stride + ky) * g.W + ox * g.stride + kx) * g.C + c]!;
                if (v > best) {
                  best = v;
                  tap = ky * g.size + kx;
                }
              }
            }
            y[out + c] = best;
            argmax[out + c] = tap;
          }
        }
      }
    }
  },
  backward(spec, input, _output, io) {
    const g = poolGeometry(spec, input);
    const { dy, dx, B } = io;
    if (dx === null) return;
    const argmax = io.saved.argmax!;
    dx.fill(0, 0, B * g.H * g.W * g.C);
    for (let n = 0; n < B; n++) {
      for (let oy = 0; oy < g.Ho; oy++) {
        for (let ox = 0; ox < g.Wo; ox++) {
          const out = ((n * g.Ho + oy) * g.Wo + ox) * g.C;
          for (let c = 0; c < g.C; c++) {
            const tap = argmax[out + c]!;
            const ky = Math.floor(tap / g.size);
            const kx = tap - ky * g.size;
            dx[((n * g.H + oy * g.stride + ky) * g.W + ox * g.stride + kx) * g.C + c] += dy[out + c]!;
          }
        }
      }
    }
  },
};
