/**
 * Average pooling: each output is the mean of its size x size window, per channel.
 *
 * Shapes: x (B, H, W, C) -> y (B, Ho, Wo, C), Ho = floor((H - size) / stride) + 1 (window.ts, valid).
 *   forward    y[n, oy, ox, c] = (1 / size^2) sum_{ky, kx} x[n, oy*stride + ky, ox*stride + kx, c]
 *   backward   dx[n, iy, ix, c] = (1 / size^2) sum of dy[n, oy, ox, c] over the windows holding (iy, ix)
 */
import type { LayerKind } from './layer.ts';
import type { PoolSpec } from './spec.ts';
import { poolGeometry, poolPlan } from './pool.ts';

export const avgpool: LayerKind<PoolSpec<'avgpool'>> = {
  type: 'avgpool',
  initBefore: 'next',
  describe: (s) => `${s.size}x${s.size}${s.stride === s.size ? '' : `, stride ${s.stride}`}`,
  plan: poolPlan,
  forward(spec, input, _output, io) {
    const g = poolGeometry(spec, input);
    const { x, y, B } = io;
    const scale = 1 / (g.size * g.size);
    for (let n = 0; n < B; n++) {
      for (let oy = 0; oy < g.Ho; oy++) {
        for (let ox = 0; ox < g.Wo; ox++) {
          const out = ((n * g.Ho + oy) * g.Wo + ox) * g.C;
          for (let c = 0; c < g.C; c++) {
            let sum = 0;
            for (let ky = 0; ky < g.size; ky++) {
              for (let kx = 0; kx < g.size; kx++) sum += x[((n * g.H + oy * g.stride + ky) * g.W + ox * g.stride + kx) * g.C + c]!;
            }
            y[out + c] = sum * scale;
          }
        }
      }
    }
  },
  backward(spec, input, _output, io) {
    const g = poolGeometry(spec, input);
    const { dy, dx, B } = io;
    if (dx === null) return;
    const scale = 1 / (g.size * g.size);
    dx.fill(0, 0, B * g.H * g.W * g.C);
    for (let n = 0; n < B; n++) {
      for (let oy = 0; oy < g.Ho; oy++) {
        for (let ox = 0; ox < g.Wo; ox++) {
          const out = ((n * g.Ho + oy) * g.Wo + ox) * g.C;
          for (let c = 0; c < g.C; c++) {
            const d = dy[out + c]! * scale;
            for (let ky = 0; ky < g.size; ky++) {
              for (let kx = 0; kx < g.size; kx++) dx[((n * g.H + oy * g.stride + ky) * g.W + ox * g.stride + kx) * g.C + c] += d;
            }
          }
        }
      }
    }
  },
};
