/**
 * The training config: one zod schema, the single source of truth for every field, its type,
 * its default and its description. `nn-train --help`, `--help-config` and the config reference
 * (src/config/README.md) are all derived from it (test/config.test.ts checks that file against
 * `describeConfig()`).
 *
 * Every object is strict: an unknown key (a typo such as "learningrate") is an error, never ignored.
 */
import { z } from 'zod';
import { ACTIVATION_NAMES } from '../nn/activations.ts';
import { ACTIVATION_LAYER_TYPES, type LayerSpec, type NetworkSpec } from '../nn/layers/spec.ts';
import { denseStack } from '../nn/plan.ts';
import { INIT_NAMES } from '../nn/init.ts';
import { LOSS_NAMES } from '../nn/losses.ts';
import { FIT_NAMES, RESIZE_NAMES } from '../data/preprocessing.ts';
import { SHIFT_MODES } from '../data/augment.ts';
import { TTA_MODES } from '../data/tta.ts';
import { MAX_THREADS } from '../core/sync.ts';

const positiveInt = (max = 1_000_000_000) => z.int().min(1).max(max);

const dataSchema = z
  .strictObject({
    train: z.string().min(1).default('data/train').describe('folder of training images (relative to the current folder)'),
    width: positiveInt(1024).default(64).describe('width of the network\'s input image, pixels'),
    height: positiveInt(1024).default(64).describe('height of the network\'s input image, pixels'),
    channels: z.union([z.literal(1), z.literal(3)]).default(3).describe('3 = RGB, 1 = grayscale'),
    fit: z.enum(FIT_NAMES).default('fill').describe('how the image meets width x height: fill (stretch), cover (crop), contain (letterbox)'),
    resize: z
      .enum(RESIZE_NAMES)
      .default('linear')
      .describe('how images are resized: linear (JPEGs decoded at 1/2, 1/4 or 1/8 scale by libjpeg, then antialiased bilinear; the fast one), or sharp\'s nearest, cubic, mitchell or lanczos3 (slower)'),
    validation: z.number().min(0.01).max(0.9).default(0.2).describe('fraction of the images held out for validation (stratified)'),
    flip: z.boolean().default(false).describe('augment training batches with random horizontal flips'),
    shift: z
      .int()
      .min(0)
      .max(256)
      .default(0)
      .describe('augment training batches with random shifts of up to shift pixels each way (how: shiftMode)'),
    shiftMode: z
      .enum(SHIFT_MODES)
      .default('crop')
      .describe('crop: images are decoded at (width + 2*shift) x (height + 2*shift) and each training image is a width x height window of it, validation and nn-eval take the centre; pad: images are decoded at width x height and each training image is the whole image moved, the uncovered border black (torchvision\'s RandomCrop(size, padding=shift)), validation and nn-eval see it unmoved'),
    brightness: z.number().min(0).max(1).default(0).describe('augment training batches with brightness jitter: b * 255 added to every pixel, b uniform in [-brightness, brightness]'),
    contrast: z.number().min(0).max(1).default(0).describe('augment training batches with contrast jitter: pixels scaled about mid-grey by c uniform in [1 - contrast, 1 + contrast]'),
    standardize: z.boolean().default(false).describe('subtract the per-channel mean and divide by the std of the training split'),
    limit: positiveInt().nullable().default(null).describe('use only N of the images (a fixed sample, stratified by class), or null for all'),
    cache: z.string().min(1).nullable().default(null).describe('folder for the decoded-pixel cache, or null for the default'),
  })
  .prefault({});

/** The layer kinds of model.layers (src/nn/layers/spec.ts holds the same fields as types). */
export const layerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('dense').describe('fully connected'),
    units: positiveInt(65_536).describe('output units'),
    bias: z.boolean().default(true).describe('learn a bias per unit'),
  }),
  z.strictObject({
    type: z.literal('conv').describe('2-D convolution'),
    filters: positiveInt(4096).describe('output channels'),
    kernel: z.int().min(1).max(7).describe('kernel height and width (1 to 7)'),
    stride: z.union([z.literal(1), z.literal(2)]).default(1).describe('step between windows'),
    padding: z.enum(['same', 'valid']).default('same').describe('same: output = ceil(input / stride), zeros around; valid: no padding'),
    bias: z.boolean().default(true).describe('learn a bias per filter (leave out before batch norm)'),
  }),
  ...(['maxpool', 'avgpool'] as const).map((type) =>
    z.strictObject({
      type: z.literal(type).describe(type === 'maxpool' ? 'max pooling' : 'average pooling'),
      size: z.int().min(1).max(16).default(2).describe('window height and width'),
      stride: z.int().min(1).max(16).default(2).describe('step between windows'),
    }),
  ),
  z.strictObject({ type: z.literal('globalavgpool').describe('mean of each channel over all positions') }),
  z.strictObject({
    type: z.literal('batchnorm').describe('batch normalization, per channel'),
    momentum: z.number().gt(0).max(1).default(0.1).describe('weight of each batch in the running statistics'),
    epsilon: z.number().gt(0).max(1).default(1e-5).describe('added to the variance'),
  }),
  z.strictObject({
    type: z.literal('dropout').describe('inverted dropout (training only)'),
    rate: z.number().min(0).lt(1).default(0.5).describe('probability of dropping a value'),
  }),
  z.strictObject({ type: z.literal('flatten').describe('H x W x C -> H*W*C') }),
  ...ACTIVATION_LAYER_TYPES.map((type) => z.strictObject({ type: z.literal(type) })),
]);

const modelSchema = z
  .strictObject({
    layers: z
      .array(layerSchema)
      .min(1)
      .max(512)
      .nullable()
      .default(null)
      .describe('the network as a list of layers, input side first, ending with {"type":"dense","units":1}; or null for the dense stack of hidden + activation'),
    hidden: z.array(positiveInt(65_536)).max(32).nullable().default([256, 64]).describe('without layers: sizes of the hidden dense layers, input side first'),
    activation: z.enum(ACTIVATION_NAMES).nullable().default('relu').describe('without layers: activation of the hidden layers (the output is always a sigmoid)'),
    init: z
      .enum(INIT_NAMES)
      .default('auto')
      .describe('weight initialisation: auto (He before a ReLU, Xavier otherwise), he, xavier, or pytorch (PyTorch\'s default: weights U(+-1/sqrt(fanIn)), i.e. Kaiming-uniform with a = sqrt(5), biases U(+-1/sqrt(fanIn)))'),
  })
  .prefault({});

const scheduleSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('constant') }),
    z.strictObject({
      type: z.literal('step'),
      every: positiveInt().describe('epochs between decays'),
      factor: z.number().gt(0).max(1).describe('multiplier applied every `every` epochs'),
    }),
    z.strictObject({
      type: z.literal('cosine'),
      minLr: z.number().min(0).default(0).describe('learning rate reached at the last step'),
    }),
    z
      .strictObject({
        type: z.literal('one-cycle'),
        warmup: z.number().gt(0).lt(1).default(0.3).describe('share of the steps over which the rate rises (PyTorch\'s pct_start)'),
        divFactor: z.number().gte(1).default(25).describe('the rate starts at lr / divFactor'),
        finalDivFactor: z.number().gte(1).default(1e4).describe('the rate ends at lr / divFactor / finalDivFactor'),
        cycleMomentum: z.boolean().default(true).describe('move the momentum (Adam\'s beta1, the beta of momentum and nesterov) from maxMomentum to baseMomentum while the rate rises, and back while it falls'),
        baseMomentum: z.number().min(0).lt(1).default(0.85).describe('the momentum at the peak rate'),
        maxMomentum: z.number().min(0).lt(1).default(0.95).describe('the momentum at the first and last steps'),
      })
      .refine((s) => s.baseMomentum <= s.maxMomentum, { message: 'must be at most maxMomentum', path: ['baseMomentum'] }),
  ])
  .default({ type: 'constant' })
  .describe(
    'learning-rate schedule: {"type":"constant"}, {"type":"step","every":E,"factor":F}, {"type":"cosine","minLr":X} or {"type":"one-cycle"} (PyTorch\'s OneCycleLR: cosine rise from lr/25 to lr over the warmup share, cosine fall to lr/25/1e4, momentum cycled 0.95 -> 0.85 -> 0.95)',
  );

/** Fields shared by every gradient method. */
const gradientFields = {
  lr: z.number().gt(0).max(100).describe('learning rate'),
  schedule: scheduleSchema,
  warmupSteps: z.int().min(0).default(0).describe('batches of linear learning-rate warm-up'),
  weightDecay: z.number().min(0).default(0).describe('L2 weight decay (adds weightDecay * w to each gradient)'),
  clipNorm: z.number().gt(0).nullable().default(null).describe('clip gradients to this global L2 norm, or null'),
};

/**
 * What one-cycle asks of the rest of the optimizer: no warmupSteps (it has its own rise), and a
 * momentum to cycle when cycleMomentum is on (sgd and rmsprop have none).
 */
function checkSchedule(hasMomentum: boolean) {
  return (o: { type: string; schedule: z.infer<typeof scheduleSchema>; warmupSteps: number }, ctx: z.RefinementCtx): void => {
    if (o.schedule.type !== 'one-cycle') return;
    if (o.warmupSteps !== 0) ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: 'must be 0 with the one-cycle schedule (its warmup share is the rise)' });
    if (o.schedule.cycleMomentum && !hasMomentum) {
      ctx.addIssue({ code: 'custom', path: ['schedule', 'cycleMomentum'], message: `must be false: ${o.type} has no momentum to cycle` });
    }
  };
}

const beta = (d: number, what: string) => z.number().min(0).lt(1).default(d).describe(what);
const epsilon = z.number().gt(0).max(1).default(1e-8).describe('added to the denominator for stability');

export const optimizerSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('sgd'), ...gradientFields }).superRefine(checkSchedule(false)),
    z.strictObject({
      type: z.literal('momentum'),
      ...gradientFields,
      beta: beta(0.9, 'decay of the velocity (exponentially weighted average of gradients)'),
      form: z.enum(['ewa', 'classic']).default('ewa').describe('ewa: v = beta v + (1-beta) g; classic: v = beta v + g'),
      biasCorrection: z.boolean().default(false).describe('divide v by (1 - beta^t)'),
    }).superRefine(checkSchedule(true)),
    z.strictObject({ type: z.literal('nesterov'), ...gradientFields, beta: beta(0.9, 'momentum') }).superRefine(checkSchedule(true)),
    z.strictObject({
      type: z.literal('rmsprop'),
      ...gradientFields,
      rho: beta(0.9, 'decay of the average of squared gradients'),
      epsilon,
    }).superRefine(checkSchedule(false)),
    z.strictObject({
      type: z.literal('adam'),
      ...gradientFields,
      beta1: beta(0.9, 'decay of the first moment'),
      beta2: beta(0.999, 'decay of the second moment'),
      epsilon,
    }).superRefine(checkSchedule(true)),
    z.strictObject({
      type: z.literal('genetic'),
      population: z.int().min(4).max(10_000).default(50).describe('individuals (weight vectors) per generation'),
      elite: z.int().min(0).default(2).describe('best individuals carried over unchanged'),
      selection: z.enum(['tournament', 'rank']).default('tournament').describe('how parents are chosen'),
      tournamentSize: z.int().min(2).default(3).describe('contestants per tournament'),
      crossover: z.enum(['uniform', 'one-point']).default('uniform').describe('how two parents are combined'),
      crossoverRate: z.number().min(0).max(1).default(0.9).describe('probability that a child is a crossover'),
      mutationRate: z.number().min(0).max(1).default(0.05).describe('probability that a weight is mutated'),
      mutationScale: z.number().gt(0).default(0.05).describe('standard deviation of the Gaussian mutation'),
      mutationDecay: z.number().gt(0).max(1).default(1).describe('mutation scale multiplier per generation (one generation per training batch)'),
    }).refine((g) => g.elite <= g.population && g.tournamentSize <= g.population, {
      message: 'elite and tournamentSize must each be at most population',
      path: ['population'],
    }),
  ])
  .default({ type: 'momentum', lr: 0.01, schedule: { type: 'constant' }, warmupSteps: 0, weightDecay: 0, clipNorm: null, beta: 0.9, form: 'ewa', biasCorrection: false });

const trainingSchema = z
  .strictObject({
    batchSize: z.union([positiveInt(1_000_000), z.literal('full')]).default(64).describe('images per mini-batch: a number (1 = stochastic), or "full" for full-batch gradient descent'),
    epochs: positiveInt(100_000).default(10).describe('passes over the training set'),
    patience: positiveInt().nullable().default(null).describe('stop after this many epochs without a better validation loss, or null'),
    seed: z.int().min(0).max(2 ** 32 - 1).default(1).describe('seed of every random choice (init, split, shuffle, augmentation)'),
    workers: positiveInt(MAX_THREADS).nullable().default(null).describe('threads of the gradient core, or null for one per core'),
    device: z
      .enum(['cpu', 'gpu', 'auto'])
      .default('cpu')
      .describe('where the network runs: cpu (the WebAssembly core), gpu (WebGPU, through the optional package webgpu: exit 2 without an adapter), auto (a hardware GPU if there is one, else cpu); model files and checkpoints do not depend on it'),
    tta: z
      .enum(TTA_MODES)
      .nullable()
      .default(null)
      .describe('at the end, validate the best model again with test-time augmentation: flip (2 views) or shifts (18: 3 x 3 windows moved by half the shift room, each mirrored), as nn-eval --tta / --tta-shifts; null for none'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  data: dataSchema,
  model: modelSchema,
  loss: z.enum(LOSS_NAMES).default('bce').describe('bce (binary cross-entropy) or mse (mean squared error)'),
  optimizer: optimizerSchema.describe('the training method; its "type" decides which other fields it takes'),
  training: trainingSchema,
  out: z.string().min(1).nullable().default(null).describe('run folder, or null for runs/<config name>-<timestamp>'),
});

export type Config = z.infer<typeof configSchema>;
export type OptimizerConfig = Config['optimizer'];
export type GradientOptimizerConfig = Exclude<OptimizerConfig, { type: 'genetic' }>;
export type GeneticConfig = Extract<OptimizerConfig, { type: 'genetic' }>;

export const DEFAULT_CONFIG: Config = configSchema.parse({});

/** The layer list a model config describes: model.layers, or the dense stack of hidden + activation. */
export function modelLayers(model: Config['model']): LayerSpec[] {
  return model.layers ?? denseStack(model.hidden ?? [], model.activation ?? 'relu');
}

/** The network a config trains: the image of data (height x width x channels) through its layers. */
export function networkSpec(config: Pick<Config, 'data' | 'model'>): NetworkSpec {
  const { width, height, channels } = config.data;
  return { input: { height, width, channels }, layers: modelLayers(config.model) };
}

// Checked by the compiler: the schema's layer objects are exactly the layer specs of src/nn, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const LAYER_SCHEMA_MATCHES_SPECS: Same<z.infer<typeof layerSchema>, LayerSpec> = true;
