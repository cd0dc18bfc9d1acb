/**
 * What every layer kind provides (the ConvNetJS way): from its spec and its input shape, its output
 * shape and the buffers it owns (plan); and its forward and backward steps over a whole batch, the
 * portable TypeScript reference that the WebAssembly core (src/core) is checked against.
 *
 * Buffers a layer owns, as declarations the planner (plan.ts) turns into offsets:
 *   params  slices of the one flat parameter vector the optimizer updates (and their gradients);
 *   stats   slices of the flat statistics vector (batch norm's running mean and variance): saved
 *           in the model file and checkpoints, never touched by the optimizer;
 *   saved   what the forward pass keeps for the backward pass (a dropout mask, batch norm's x-hat).
 */
import type { Floats } from '../activations.ts';
import type { Shape } from '../shape.ts';
import type { LayerSpec, LayerType } from './spec.ts';

/** How a parameter slice starts: random, scaled by the fans of the weights (init.ts), or a constant. */
export type ParamInit = { kind: 'random'; fanIn: number; fanOut: number } | { kind: 'constant'; value: number };

export interface ParamDecl {
  /** "weights", "bias", "gamma", "beta". */
  name: string;
  length: number;
  /** L2 weight decay applies: to weights and convolution kernels, not to biases or batch-norm parameters. */
  decay: boolean;
  init: ParamInit;
}

export interface StatDecl {
  name: string;
  length: number;
  /** Value before any training (running mean 0, running variance 1). */
  initial: number;
}

/** A buffer of perSample * B + fixed values that the forward pass fills for the backward pass. */
export interface SavedDecl {
  name: string;
  perSample: number;
  fixed: number;
}

/** What a layer makes of its input shape. */
export interface LayerRecipe {
  output: Shape;
  params: ParamDecl[];
  stats: StatDecl[];
  saved: SavedDecl[];
}

/** A layer whose shapes do not fit: the planner adds which layer it is. */
export class ShapeError extends Error {}

export type Mode = 'train' | 'infer';

/**
 * The buffers of one layer for one call, as views (allocated once by the network; only B, mode and
 * noiseKey change between calls):
 *   x (B, inSize)   y (B, outSize)   dy = dL/dy (B, outSize)   dx = dL/dx (B, inSize), null when not needed
 *   params/grads/stats/saved by the names the layer declared.
 */
export interface LayerPass {
  B: number;
  mode: Mode;
  /** The counter-based noise key of this step and layer (noise.ts): dropout's masks. */
  noiseKey: number;
  /** The first layer's x is the caller's input batch, set per call. */
  x: Floats;
  readonly y: Floats;
  readonly dy: Floats;
  readonly dx: Floats | null;
  readonly params: Readonly<Record<string, Floats>>;
  readonly grads: Readonly<Record<string, Floats>>;
  readonly stats: Readonly<Record<string, Floats>>;
  readonly saved: Readonly<Record<string, Floats>>;
}

export interface LayerKind<S extends { type: LayerType } = LayerSpec> {
  readonly type: S['type'];
  /**
   * Which initialisation the weights of the layer before it want under init "auto" (init.ts): an
   * activation's own rule (Activation.init); "xavier" for a layer with weights (the one before it
   * then feeds no activation); "next" for a layer that passes the values on to the next one, which
   * decides (batch norm, dropout, pooling, flatten).
   */
  readonly initBefore: 'he' | 'xavier' | 'next';
  /** One line for the layer table, e.g. "3x3, 32 filters, stride 1, same". */
  describe(spec: S): string;
  /** Output shape and owned buffers for this input shape; throws ShapeError if they do not fit. */
  plan(spec: S, input: Shape): LayerRecipe;
  /** y = f(x); in 'train' mode also fills `saved` (and batch norm updates its running statistics). */
  forward(spec: S, input: Shape, output: Shape, io: LayerPass): void;
  /** From dy: the parameter gradients (overwritten, not accumulated) and, when io.dx is given, dx. */
  backward(spec: S, input: Shape, output: Shape, io: LayerPass): void;
}
