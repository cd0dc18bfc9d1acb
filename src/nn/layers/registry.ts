/**
 * The layer kinds: one entry per kind, holding or naming every part of it. How to add an activation
 * or a kind: README.md in this folder.
 *
 *   reference  its math in TypeScript (this folder, LayerKind): shapes, buffers, forward, backward
 *   cpu        the gradient core's driver: CPU_DRIVERS[cpu], src/core/layers/<cpu>.ts
 *   kernels    the WebAssembly kernel files the driver calls: src/core/kernels/<name>.as.ts
 *   onnx       its ONNX nodes: ONNX_NODES[onnx] in src/export/onnx.ts
 *   gpu        the GPU core's part: GPU_LAYERS[gpu] in src/core/gpu/layers/index.ts, whose WGSL kernels
 *              are src/core/gpu/kernels/<name>.wgsl.ts; null: the GPU core does not run this kind yet
 *              (it refuses such a network before training, naming the kind)
 *
 * Why the table sits here, at the bottom: everything that handles layers reads it (the planner and
 * initialisation in src/nn, the gradient core in src/core, the ONNX export, the config loader), and
 * imports only point down: src/core and src/export import src/nn, src/nn imports neither. So an
 * entry holds the part that lives in src/nn and names the parts that live above. Each of those
 * folders keeps one table of its parts keyed by these names (CPU_DRIVERS, ONNX_NODES), typed as a
 * mapped type over the names used here: a name without its part, or a part no entry names, does
 * not compile. Kernel files are checked by test/nn-layers-registry.test.ts (they are AssemblyScript,
 * outside the compiler's view).
 *
 * The activations (src/nn/activations.ts) are entries too, made from the ACTIVATIONS table: they
 * share one driver and one kernel file, which finds each function's id in the WebAssembly module
 * by its name; their ONNX nodes are keyed by their own names.
 */
import { activationLayer } from './activation.ts';
import { avgpool } from './avgpool.ts';
import { batchnorm } from './batchnorm.ts';
import { conv } from './conv.ts';
import { dense } from './dense.ts';
import { dropout } from './dropout.ts';
import { flatten } from './flatten.ts';
import { globalavgpool } from './globalavgpool.ts';
import type { LayerKind } from './layer.ts';
import { maxpool } from './maxpool.ts';
import { ACTIVATION_LAYER_TYPES, type ActivationLayerType, type ActivationSpec, type LayerSpec, type LayerType } from './spec.ts';

/** The spec of layer type T. */
export type SpecOf<T extends LayerType> = Extract<LayerSpec, { type: T }>;

export interface LayerEntry<T extends LayerType> {
  readonly reference: LayerKind<SpecOf<T>>;
  readonly cpu: string;
  readonly kernels: readonly string[];
  readonly onnx: string;
  /** The GPU core's part for this kind (GPU_LAYERS[gpu]), or null where it has none yet. */
  readonly gpu: string | null;
}

/** The entry of an activation layer: its reference from ACTIVATIONS, the shared driver and kernel file, ONNX nodes by its name. */
interface ActivationEntry<A extends ActivationLayerType> extends Omit<LayerEntry<A>, 'reference'> {
  readonly reference: LayerKind<ActivationSpec<A>>;
  readonly cpu: 'activation';
  readonly kernels: readonly ['activation'];
  readonly onnx: A;
  readonly gpu: 'activation';
}

function activationEntries(): { readonly [A in ActivationLayerType]: ActivationEntry<A> } {
  const entry = <A extends ActivationLayerType>(type: A): ActivationEntry<A> => ({
    reference: activationLayer(type),
    cpu: 'activation',
    kernels: ['activation'],
    onnx: type,
    gpu: 'activation',
  });
  return Object.fromEntries(ACTIVATION_LAYER_TYPES.map((type) => [type, entry(type)])) as { [A in ActivationLayerType]: ActivationEntry<A> };
}

export const LAYERS = {
  dense: { reference: dense, cpu: 'dense', kernels: ['forward', 'combine'], onnx: 'dense', gpu: 'dense' },
  conv: { reference: conv, cpu: 'conv', kernels: ['conv', 'conv-winograd'], onnx: 'conv', gpu: 'conv' },
  maxpool: { reference: maxpool, cpu: 'maxpool', kernels: ['maxpool', 'pool'], onnx: 'maxpool', gpu: 'maxpool' },
  avgpool: { reference: avgpool, cpu: 'avgpool', kernels: ['avgpool', 'pool'], onnx: 'avgpool', gpu: 'avgpool' },
  globalavgpool: { reference: globalavgpool, cpu: 'globalavgpool', kernels: ['globalavgpool'], onnx: 'globalavgpool', gpu: 'globalavgpool' },
  batchnorm: { reference: batchnorm, cpu: 'batchnorm', kernels: ['batchnorm', 'maxpool'], onnx: 'batchnorm', gpu: 'batchnorm' },
  dropout: { reference: dropout, cpu: 'dropout', kernels: ['dropout', 'noise'], onnx: 'dropout', gpu: 'dropout' },
  flatten: { reference: flatten, cpu: 'flatten', kernels: [], onnx: 'flatten', gpu: 'flatten' },
  ...activationEntries(),
} as const satisfies { readonly [T in LayerType]: LayerEntry<T> };

type Entries = typeof LAYERS;

/** Every layer type, in the table's order. */
export const LAYER_TYPES = Object.keys(LAYERS) as LayerType[];

/** The names of the core's drivers, and the layer types each one runs. */
export type CpuDriverName = Entries[LayerType]['cpu'];
export type TypesOfDriver<D extends CpuDriverName> = { [T in LayerType]: Entries[T]['cpu'] extends D ? T : never }[LayerType];

/** The names of the GPU core's parts (null: the kind has none yet). */
export type GpuPartName = Exclude<Entries[LayerType]['gpu'], null>;

/** The names of the ONNX parts, and the layer types each one exports. */
export type OnnxPartName = Entries[LayerType]['onnx'];
export type TypesOfOnnxPart<O extends OnnxPartName> = { [T in LayerType]: Entries[T]['onnx'] extends O ? T : never }[LayerType];

/** The reference math of a layer's kind. */
export function layerKind<S extends LayerSpec>(spec: S): LayerKind<S> {
  return LAYERS[spec.type].reference as unknown as LayerKind<S>;
}
