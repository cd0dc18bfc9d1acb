/**
 * The network as a table, like Keras' model.summary(): each layer, its output shape and its
 * parameter count, then the totals. Printed when training starts and by --print-config.
 */
import { describeLayer, type NetworkPlan } from '../nn/plan.ts';
import { formatShape } from '../nn/shape.ts';

export interface LayerRow {
  /** "[3] conv 3x3, 32 filters, stride 1, same", or "input". */
  layer: string;
  output: string;
  parameters: number;
}

export function layerRows(plan: NetworkPlan): LayerRow[] {
  return [
    { layer: 'input', output: formatShape(plan.input), parameters: 0 },
    ...plan.layers.map((l) => ({
      layer: `[${l.index}] ${describeLayer(l.spec)}`,
      output: formatShape(l.output),
      parameters: l.params.reduce((n, s) => n + s.length, 0),
    })),
  ];
}

/** The table as lines of text (no trailing spaces), with the parameter and statistics totals. */
export function layerTable(rows: readonly LayerRow[], statistics: number): string[] {
  const count = (n: number) => n.toLocaleString('en-US');
  const w0 = Math.max(5, ...rows.map((r) => r.layer.length));
  const w1 = Math.max(6, ...rows.map((r) => r.output.length));
  const w2 = Math.max(10, ...rows.map((r) => count(r.parameters).length));
  const line = (a: string, b: string, c: string) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padStart(w2)}`.trimEnd();
  const total = rows.reduce((n, r) => n + r.parameters, 0);
  return [
    line('layer', 'output', 'parameters'),
    ...rows.map((r) => line(r.layer, r.output, r.parameters === 0 ? '' : count(r.parameters))),
    `${count(total)} parameters${statistics > 0 ? ` (and ${count(statistics)} batch-norm statistics)` : ''}`,
  ];
}
