/** What max and average pooling share: the window geometry (valid windows, no padding) and the plan. */
import type { Shape } from '../shape.ts';
import type { LayerRecipe } from './layer.ts';
import type { PoolSpec } from './spec.ts';
import { windowAxis } from './window.ts';

export interface PoolGeometry {
  H: number;
  W: number;
  C: number;
  Ho: number;
  Wo: number;
  size: number;
  stride: number;
}

export function poolGeometry(spec: PoolSpec, input: Shape): PoolGeometry {
  const rows = windowAxis(input.height, spec.size, spec.stride, 'valid', 'rows');
  const cols = windowAxis(input.width, spec.size, spec.stride, 'valid', 'columns');
  return { H: input.height, W: input.width, C: input.channels, Ho: rows.out, Wo: cols.out, size: spec.size, stride: spec.stride };
}

export function poolPlan(spec: PoolSpec, input: Shape): LayerRecipe {
  const g = poolGeometry(spec, input);
  return { output: { height: g.Ho, width: g.Wo, channels: g.C }, params: [], stats: [], saved: [] };
}
