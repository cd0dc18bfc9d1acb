/**
 * The planner: from the layer list and the input shape, every layer's input and output shape, the
 * slices of the one flat parameter vector (with a weight-decay flag each) and of the flat
 * statistics vector, and the buffers each layer keeps for its backward pass. The reference network
 * (network.ts), the gradient core's memory layout (src/core/layout.ts), initialisation (init.ts),
 * the model file and the checkpoint all read this one plan, so they cannot disagree.
 *
 * Parameter layout: layer after layer, each layer's slices in the order it declares them (dense and
 * conv: weights then bias; batch norm: gamma then beta). For a dense stack this is the layout of
 * model files of version 1, so they load unchanged.
 */
import { layerKind, ShapeError, type LayerKind, type ParamInit, type SavedDecl } from './layers/index.ts';
import type { LayerSpec, LayerType, NetworkSpec } from './layers/spec.ts';
import { formatShape, type Shape } from './shape.ts';

/** A slice of the parameter vector. */
export interface ParamSlice {
  layer: number;
  name: string;
  offset: number;
  length: number;
  /** L2 weight decay applies (weights, kernels), or not (biases, batch-norm gamma and beta). */
  decay: boolean;
  init: ParamInit;
}

/** A slice of the statistics vector (batch norm's running mean and variance). */
export interface StatSlice {
  layer: number;
  name: string;
  offset: number;
  length: number;
  initial: number;
}

export interface PlannedLayer<S extends { type: LayerType } = LayerSpec> {
  index: number;
  spec: S;
  kind: LayerKind<S>;
  input: Shape;
  output: Shape;
  params: ParamSlice[];
  stats: StatSlice[];
  saved: SavedDecl[];
}

export interface NetworkPlan {
  input: Shape;
  layers: PlannedLayer[];
  /** Every parameter slice, in vector order. */
  params: ParamSlice[];
  stats: StatSlice[];
  paramCount: number;
  statCount: number;
}

/** A layer list that does not make a network: `layer` is its index in the list. */
export class PlanError extends Error {
  constructor(
    readonly layer: number,
    readonly reason: string,
  ) {
    super(`layers[${layer}]: ${reason}`);
    this.name = 'PlanError';
  }
}

/**
 * The most parameters a network may have: 2^28 float32 values are 1 GiB, and training keeps four
 * such vectors (weights, gradients, two optimizer states) in WebAssembly's 4 GiB.
 */
export const MAX_PARAMETERS = 2 ** 28;

export function planNetwork(net: NetworkSpec): NetworkPlan {
  const { input, layers: specs } = net;
  if (specs.length === 0) throw new PlanError(0, 'the list is empty: a network needs at least its output layer {"type":"dense","units":1}');
  const layers: PlannedLayer[] = [];
  const params: ParamSlice[] = [];
  const stats: StatSlice[] = [];
  let paramCount = 0;
  let statCount = 0;
  let shape = input;
  specs.forEach((spec, index) => {
    const kind: LayerKind = layerKind(spec);
    let recipe;
    try {
      recipe = kind.plan(spec, shape);
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      throw new PlanError(index, `${describeLayer(spec)} does not fit its input of ${formatShape(shape)}: ${err.message}`);
    }
    const layerParams = recipe.params.map((d): ParamSlice => {
      const slice = { layer: index, name: d.name, offset: paramCount, length: d.length, decay: d.decay, init: d.init };
      paramCount += d.length;
      return slice;
    });
    if (paramCount > MAX_PARAMETERS) {
      throw new PlanError(
        index,
        `${describeLayer(spec)} brings the network to ${paramCount.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMETERS.toLocaleString('en-US')} (1 GiB of float32) nn-train can train`,
      );
    }
    const layerStats = recipe.stats.map((d): StatSlice => {
      const slice = { layer: index, name: d.name, offset: statCount, length: d.length, initial: d.initial };
      statCount += d.length;
      return slice;
    });
    layers.push({ index, spec, kind, input: shape, output: recipe.output, params: layerParams, stats: layerStats, saved: recipe.saved });
    params.push(...layerParams);
    stats.push(...layerStats);
    shape = recipe.output;
  });
  const last = specs[specs.length - 1]!;
  if (last.type !== 'dense' || last.units !== 1) {
    throw new PlanError(specs.length - 1, `the last layer must be {"type":"dense","units":1}, the output whose sigmoid is P(dog); found ${describeLayer(last)}`);
  }
  return { input, layers, params, stats, paramCount, statCount };
}

/** "conv 3x3, 32 filters, stride 1, same", "relu". */
export function describeLayer(spec: LayerSpec): string {
  const details = layerKind(spec).describe(spec);
  return details ? `${spec.type} ${details}` : spec.type;
}

/** The spec of a dense stack: hidden layers of `hidden` units with `activation` ('linear': none), then the output. */
export function denseStack(hidden: readonly number[], activation: string): LayerSpec[] {
  const layers: LayerSpec[] = [];
  for (const units of hidden) {
    layers.push({ type: 'dense', units, bias: true });
    if (activation !== 'linear') layers.push({ type: activation } as LayerSpec);
  }
  layers.push({ type: 'dense', units: 1, bias: true });
  return layers;
}
