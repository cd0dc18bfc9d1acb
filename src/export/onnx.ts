/**
 * A model as an ONNX file: one graph that computes what nn-eval computes, from the decoded image to
 * P(dog), so that any ONNX runtime (onnxruntime in Node, the browser, Python, C#, Java) can use it.
 *
 *   image (N, H, W, C) uint8 [or float32]   the decoder's output as it is: pixel values 0..255, rows of
 *                                           pixels, channels last (RGB or grey), N images at a time;
 *                                           H x W is the decoded size (imageGeometry)
 *   -> Slice to the input window            (a model trained with data.shift: decoded larger, the
 *                                           network sees the centre window, as in nn-eval)
 *   -> Cast to float32                      (uint8 input only)
 *   -> Mul scale [-> Sub mean -> Div std]   x = (v * scale - mean[c]) / std[c], pixelTable's formula
 *                                           (src/data/batches.ts), broadcast over the channel axis
 *   -> one or two nodes per layer            (below); dropout has none: it acts in training only
 *   -> Sigmoid -> p_dog (N, 1)              the output unit's sigmoid, P(dog) = P(label 1)
 *
 * Layout. nn-train keeps activations channels-last (NHWC); ONNX's Conv, pooling and
 * BatchNormalization read channels-first (NCHW). The tensor between two nodes is in one of three
 * forms, and each layer asks for the form it reads:
 *   nhwc  (N, H, W, C)  the image as it comes in
 *   nchw  (N, C, H, W)  for conv, pooling and batch norm      nhwc -> nchw: Transpose [0, 3, 1, 2]
 *   flat  (N, n)        for dense (Gemm) and batch norm      nchw -> flat: Transpose [0, 2, 3, 1],
 *                                                             then Flatten, so that a dense layer reads
 *                                                             its n = H*W*C values in HWC order as in
 *                                                             nn-train (no Transpose when H = W = 1);
 *                                                             nhwc -> flat: Flatten; flat -> nchw:
 *                                                             Unsqueeze [2, 3] to (N, n, 1, 1)
 * Activations work on any form. The weights stay as trained (no folding, no permuted dense rows):
 * only a convolution kernel is reordered, from nn-train's (F, k, k, C) to ONNX's (F, C, k, k).
 *
 * Layers (ONNX_NODES, one part per kind): dense = Gemm (transB, bias optional); conv = Conv with
 * explicit pads (window.ts: SAME_UPPER, the odd row and column after) and strides; maxpool/avgpool =
 * MaxPool/AveragePool (valid windows, no pads); globalavgpool = GlobalAveragePool; batchnorm =
 * BatchNormalization with the running statistics and the layer's epsilon (inference form); relu,
 * leaky_relu (alpha = LEAKY_SLOPE), sigmoid, tanh: their operators; gelu from Pow, Mul, Add, Tanh.
 *
 * Opset 13, IR version 7 (the first IR version that carries opset 13): the widest set of runtimes that
 * have every operator used here in its current form. The preprocessing numbers and what the decoder
 * must produce (size, fit, channels, resize kernel) go into metadata_props (onnxMetadata).
 * Serialised with onnx-proto (ONNX's own schema compiled for protobufjs).
 */
import onnxProto from 'onnx-proto';
import { littleEndianBytes } from '../io/json-document.ts';
import type { Model } from '../io/model-file.ts';
import { GELU_CUBIC, GELU_SCALE, LEAKY_SLOPE } from '../nn/activations.ts';
import { imageGeometry, resizeOf, type Preprocessing } from '../data/preprocessing.ts';
import { convGeometry, LAYERS, type LayerSpec, type OnnxPartName, type PoolSpec, type SpecOf, type TypesOfOnnxPart } from '../nn/layers/index.ts';
import { planNetwork, type PlannedLayer } from '../nn/plan.ts';
import { shapeSize, type Shape } from '../nn/shape.ts';
import { NN_TRAIN_VERSION } from '../version.ts';

const { onnx } = onnxProto;
type Attribute = onnxProto.onnx.IAttributeProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

export const ONNX_IR_VERSION = 7;
export const ONNX_OPSET = 13;

/** The input's element type: bytes straight from a decoder (the default), or the same values as floats. */
export type OnnxInputType = 'uint8' | 'float32';

/** The graph's input and output names: part of the contract with every program that loads the file. */
const ONNX_INPUT_NAME = 'image';
const ONNX_OUTPUT_NAME = 'p_dog';

export interface OnnxExport {
  /** The serialised ModelProto, ready to be written to a .onnx file. */
  bytes: Uint8Array;
  /** Operators of the graph, in order (for the summary line). */
  ops: string[];
  /** The size of the input image the graph takes (the decoded size: before its window). */
  input: { height: number; width: number; channels: number };
}

/** Builds the ONNX model of `model` with an input of `inputType` elements. */
export function exportOnnx(model: Model, inputType: OnnxInputType = 'uint8'): OnnxExport {
  const plan = planNetwork(model.network);
  const g = new GraphBuilder();
  let x = preprocess(g, model, inputType);
  let form: Form = 'nhwc';
  for (const layer of plan.layers) ({ x, form } = addLayer(g, layer, model, x, form));
  g.add('Sigmoid', [x], [], ONNX_OUTPUT_NAME);

  const { decodeHeight: height, decodeWidth: width, channels } = imageGeometry(model.preprocessing);
  const proto = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'nn-train',
    producerVersion: NN_TRAIN_VERSION,
    docString:
      `Cat or dog: ${ONNX_OUTPUT_NAME} = P(dog) for each image. Input ${ONNX_INPUT_NAME}: ${inputType} pixel values 0-255, ` +
      `shape [N, ${height}, ${width}, ${channels}] (rows, columns, ${channels === 3 ? 'RGB' : 'grey'}), the image resized to ` +
      `${width}x${height} with fit "${model.preprocessing.fit}"; the graph crops, scales and standardises it itself.`,
    graph: {
      name: 'nn-train',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT_NAME, inputType === 'uint8' ? onnx.TensorProto.DataType.UINT8 : onnx.TensorProto.DataType.FLOAT, ['N', height, width, channels])],
      output: [valueInfo(ONNX_OUTPUT_NAME, onnx.TensorProto.DataType.FLOAT, ['N', 1])],
    },
    metadataProps: Object.entries(onnxMetadata(model, inputType)).map(([key, value]) => ({ key, value })),
  });
  return { bytes: onnx.ModelProto.encode(proto).finish(), ops: g.nodes.map((n) => n.opType!), input: { height, width, channels } };
}

/**
 * What a program needs to feed the graph and read its answer, as metadata_props (strings): the size
 * and fit the decoder must produce, the channels, the labels, nn-train's version, and the
 * preprocessing numbers (which the graph applies itself; given for reference).
 */
function onnxMetadata(model: Model, inputType: OnnxInputType): Record<string, string> {
  const p = model.preprocessing;
  const g = imageGeometry(p);
  const window: Record<string, string> = g.decodeWidth === g.width && g.decodeHeight === g.height ? {} : { input_window: inputWindow(p) };
  return {
    width: String(g.decodeWidth),
    height: String(g.decodeHeight),
    channels: String(p.channels),
    color: p.channels === 3 ? 'RGB' : 'grey',
    fit: p.fit,
    resize: resizeOf(p),
    ...window,
    input_type: inputType,
    input_layout: 'NHWC',
    labels: JSON.stringify({ 0: 'cat', 1: 'dog' }),
    output: `${ONNX_OUTPUT_NAME} = P(dog) = P(label 1), shape [N, 1]`,
    scale: String(p.scale),
    mean: JSON.stringify(p.mean),
    std: JSON.stringify(p.std),
    nn_train_version: NN_TRAIN_VERSION,
  };
}

/** Which axes the tensor between two nodes has (see the file comment). */
type Form = 'nhwc' | 'nchw' | 'flat';

/** The window the network sees in the decoded image, as the graph's Slice takes it (for the metadata). */
function inputWindow(p: Preprocessing): string {
  const g = imageGeometry(p);
  return JSON.stringify({ left: g.cropLeft, top: g.cropTop, width: g.width, height: g.height });
}

/** image -> float32 NHWC inputs x = (v * scale - mean[c]) / std[c] of the input window. */
function preprocess(g: GraphBuilder, model: Model, inputType: OnnxInputType): string {
  const { scale, mean, std } = model.preprocessing;
  const w = imageGeometry(model.preprocessing);
  let x = ONNX_INPUT_NAME;
  if (w.decodeWidth !== w.width || w.decodeHeight !== w.height) {
    // rows cropTop .. cropTop + height and columns cropLeft .. cropLeft + width (axes 1 and 2 of NHWC)
    const starts = g.int64Constant('input.window_starts', [w.cropTop, w.cropLeft]);
    const ends = g.int64Constant('input.window_ends', [w.cropTop + w.height, w.cropLeft + w.width]);
    x = g.add('Slice', [x, starts, ends, g.int64Constant('input.window_axes', [1, 2])], [], 'input.window');
  }
  if (inputType === 'uint8') x = g.add('Cast', [x], [intAttribute('to', onnx.TensorProto.DataType.FLOAT)], 'input.float');
  x = g.add('Mul', [x, g.constant('input.scale', [scale])], [], 'input.scaled');
  if (mean !== null && std !== null) {
    x = g.add('Sub', [x, g.constant('input.mean', mean)], [], 'input.centred');
    x = g.add('Div', [x, g.constant('input.std', std)], [], 'input.standardised');
  }
  return x;
}

/** What a layer's ONNX part works with: its input tensor and form, and ways to add nodes and weights. */
interface LayerGraph<S extends LayerSpec> {
  g: GraphBuilder;
  layer: PlannedLayer<S>;
  spec: S;
  input: string;
  inputForm: Form;
  /** The name of the layer's output tensor (a part adding several nodes names the others after it). */
  name: string;
  /** The input in another form. */
  to(form: Form): string;
  /** A 1-D initializer of the parameter slice, or of the statistics slice, of that name. */
  param(slice: string): string;
  stat(slice: string): string;
  /** The layer's parameter slice itself (dense and conv shape their weights). */
  values(slice: string): Float32Array;
}

/** The output tensor of a layer and its form. */
interface LayerOutput {
  x: string;
  form: Form;
}

type OnnxNodes<S extends LayerSpec> = (c: LayerGraph<S>) => LayerOutput;

/** An activation: one node of `op` on the input, whatever its form. */
const elementwise =
  (op: string, attributes: Attribute[] = []): OnnxNodes<LayerSpec> =>
  (c) => ({ x: c.g.add(op, [c.input], attributes, c.name), form: c.inputForm });

/**
 * The ONNX part of every layer kind, by the name its entry in the layer registry gives
 * (src/nn/layers/registry.ts, `onnx`): the mapped type makes a missing part a compile error.
 */
const ONNX_NODES: { readonly [O in OnnxPartName]: OnnxNodes<SpecOf<TypesOfOnnxPart<O>>> } = {
  dense: (c) => {
    // (units, inputs) row-major: Gemm's B with transB = 1.
    const weights = c.g.initializer(`layers.${c.layer.index}.weights`, { dims: [c.spec.units, shapeSize(c.layer.input)], values: c.values('weights') });
    const inputs = [c.to('flat'), weights];
    if (c.spec.bias) inputs.push(c.param('bias'));
    return { x: c.g.add('Gemm', inputs, [intAttribute('transB', 1)], c.name), form: 'flat' };
  },
  conv: (c) => {
    const k = convGeometry(c.spec, c.layer.input);
    const weights = c.g.initializer(`layers.${c.layer.index}.weights`, { dims: [k.F, k.C, k.k, k.k], values: convWeightsOIHW(c.values('weights'), k.F, k.k, k.C) });
    const inputs = [c.to('nchw'), weights];
    if (c.spec.bias) inputs.push(c.param('bias'));
    const attributes = [
      intsAttribute('kernel_shape', [k.k, k.k]),
      intsAttribute('strides', [k.stride, k.stride]),
      intsAttribute('pads', [k.padTop, k.padLeft, k.padBottom, k.padRight]),
    ];
    return { x: c.g.add('Conv', inputs, attributes, c.name), form: 'nchw' };
  },
  maxpool: (c) => ({ x: c.g.add('MaxPool', [c.to('nchw')], poolAttributes(c.spec), c.name), form: 'nchw' }),
  avgpool: (c) => ({ x: c.g.add('AveragePool', [c.to('nchw')], poolAttributes(c.spec), c.name), form: 'nchw' }),
  globalavgpool: (c) => ({ x: c.g.add('GlobalAveragePool', [c.to('nchw')], [], c.name), form: 'nchw' }),
  batchnorm: (c) => {
    // Channels on axis 1 in both forms it takes: (N, C, H, W) and (N, C).
    const form = c.inputForm === 'flat' ? 'flat' : 'nchw';
    const inputs = [c.to(form), c.param('gamma'), c.param('beta'), c.stat('mean'), c.stat('variance')];
    return { x: c.g.add('BatchNormalization', inputs, [floatAttribute('epsilon', c.spec.epsilon)], c.name), form };
  },
  dropout: (c) => ({ x: c.input, form: c.inputForm }),
  flatten: (c) => ({ x: c.to('flat'), form: 'flat' }),
  relu: elementwise('Relu'),
  leaky_relu: elementwise('LeakyRelu', [floatAttribute('alpha', LEAKY_SLOPE)]),
  sigmoid: elementwise('Sigmoid'),
  tanh: elementwise('Tanh'),
  gelu: (c) => {
    // 0.5 x (1 + tanh(s (x + c x^3))) from opset 13's operators, which have no Gelu.
    const { g, input: x, name } = c;
    const scalar = (what: string, value: number): string => g.constant(`${name}.${what}`, [value]);
    const cube = g.add('Pow', [x, scalar('three', 3)], [], `${name}.cube`);
    const inner = g.add('Add', [x, g.add('Mul', [cube, scalar('cubic', GELU_CUBIC)], [], `${name}.cubic_term`)], [], `${name}.inner`);
    const t = g.add('Tanh', [g.add('Mul', [inner, scalar('scale', GELU_SCALE)], [], `${name}.u`)], [], `${name}.tanh`);
    const gate = g.add('Add', [t, scalar('one', 1)], [], `${name}.gate`);
    const halfX = g.add('Mul', [x, scalar('half', 0.5)], [], `${name}.half_x`);
    return { x: g.add('Mul', [halfX, gate], [], name), form: c.inputForm };
  },
};

/** MaxPool's and AveragePool's attributes: valid windows, no pads. */
function poolAttributes(spec: PoolSpec): Attribute[] {
  return [intsAttribute('kernel_shape', [spec.size, spec.size]), intsAttribute('strides', [spec.stride, spec.stride])];
}

/** The nodes of one layer; returns its output tensor and that tensor's form. */
function addLayer(g: GraphBuilder, layer: PlannedLayer, model: Model, input: string, inputForm: Form): LayerOutput {
  const spec: LayerSpec = layer.spec;
  const nodes = ONNX_NODES[LAYERS[spec.type].onnx] as OnnxNodes<LayerSpec>;
  // Every parameter and statistic is a 1-D initializer except the weights of dense and conv.
  const vector = (slice: string, values: Float32Array): string => g.initializer(`layers.${layer.index}.${slice}`, { dims: [values.length], values });
  return nodes({
    g,
    layer,
    spec,
    input,
    inputForm,
    name: `layers.${layer.index}.${spec.type}`,
    to: (form) => changeForm(g, input, inputForm, form, layer.input, `layers.${layer.index}`),
    param: (slice) => vector(slice, layerParam(layer, model, slice)),
    stat: (slice) => vector(slice, layerStat(layer, model, slice)),
    values: (slice) => layerParam(layer, model, slice),
  });
}

/** Moves tensor x of per-sample shape `shape` from one form to another (see the file comment). */
function changeForm(g: GraphBuilder, x: string, from: Form, to: Form, shape: Shape, prefix: string): string {
  if (from === to) return x;
  if (to === 'nchw') {
    if (from === 'nhwc') return g.add('Transpose', [x], [intsAttribute('perm', [0, 3, 1, 2])], `${prefix}.to_nchw`);
    return g.add('Unsqueeze', [x, g.int64Constant(`${prefix}.unsqueeze_axes`, [2, 3])], [], `${prefix}.to_nchw`);
  }
  if (to === 'flat') {
    // (N, C, H, W) holds the values in CHW order; a dense layer reads them in HWC order.
    if (from === 'nchw' && shape.height * shape.width > 1) x = g.add('Transpose', [x], [intsAttribute('perm', [0, 2, 3, 1])], `${prefix}.to_nhwc`);
    return g.add('Flatten', [x], [intAttribute('axis', 1)], `${prefix}.flatten`);
  }
  throw new Error(`changeForm: no layer asks for ${to} from ${from}`);
}

/**
 * nn-train's kernel (F, k, k, C), read as in conv.ts: W[f, ky, kx, c] = w[((f * k + ky) * k + kx) * C + c],
 * reordered into ONNX's (F, C, k, k): out[((f * C + c) * k + ky) * k + kx].
 */
function convWeightsOIHW(w: Float32Array, F: number, k: number, C: number): Float32Array {
  const out = new Float32Array(F * C * k * k);
  for (let f = 0; f < F; f++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        for (let c = 0; c < C; c++) out[((f * C + c) * k + ky) * k + kx] = w[((f * k + ky) * k + kx) * C + c]!;
      }
    }
  }
  return out;
}

interface TensorData {
  dims: number[];
  values: Float32Array;
}

/** A parameter slice of the layer, by the name the layer declared (plan.ts cuts the vector). */
function layerParam(layer: PlannedLayer, model: Model, name: string): Float32Array {
  const slice = layer.params.find((s) => s.name === name);
  if (!slice) throw new Error(`onnx export: layer ${layer.index} (${layer.spec.type}) has no parameter "${name}"`);
  return model.params.subarray(slice.offset, slice.offset + slice.length);
}

/** A statistics slice of the layer (batch norm's running mean and variance). */
function layerStat(layer: PlannedLayer, model: Model, name: string): Float32Array {
  const slice = layer.stats.find((s) => s.name === name);
  if (!slice) throw new Error(`onnx export: layer ${layer.index} (${layer.spec.type}) has no statistic "${name}"`);
  return model.stats.subarray(slice.offset, slice.offset + slice.length);
}

/** Collects nodes and initializers; tensor names are the node names (unique: one output per node). */
class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];

  /** Adds a node whose one output is called `name`; returns that name. */
  add(opType: string, input: string[], attribute: Attribute[], name: string): string {
    this.nodes.push({ opType, input, output: [name], name, attribute });
    return name;
  }

  initializer(name: string, { dims, values }: TensorData): string {
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: littleEndianBytes(values) });
    return name;
  }

  /** A float32 constant of shape [values.length] (broadcast over the last axis). */
  constant(name: string, values: readonly number[]): string {
    return this.initializer(name, { dims: [values.length], values: Float32Array.from(values) });
  }

  int64Constant(name: string, values: readonly number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] });
    return name;
  }
}

function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

function intAttribute(name: string, i: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function intsAttribute(name: string, ints: number[]): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}

function floatAttribute(name: string, f: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
