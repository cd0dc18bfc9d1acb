/**
 * The network on the GPU (used by the GPU thread, gpu-worker.ts): every buffer, pipeline and bind
 * group made once, and the command buffers of a training step and an inference pass.
 *
 * Buffers: params, grads, the optimizer's two state buffers, batch norm's statistics; the input
 * batch and labels; per layer its output a_l and gradient da_l (a flatten shares its input's);
 * `scalars` (loss, global norm, clipping factor); the squared-norm partial sums; the decay mask;
 * the Step uniform. A training step is one compute pass: forward, loss, backward, weight decay,
 * the norm's two passes (with clipping), the optimizer; then (loss, norm) is copied to a staging
 * buffer that the GPU thread maps later.
 */
import { LAYERS } from '../../nn/layers/registry.ts';
import type { LossName } from '../../nn/losses.ts';
import type { NetworkPlan } from '../../nn/plan.ts';
import { shapeSize } from '../../nn/shape.ts';
import type { GradientOptimizerType } from '../../optim/spec.ts';
import { GpuHeldImages, type HeldImagesLayout, type HeldImagesShape } from './held-images.ts';
import { STEP_BYTES } from './kernels/common.ts';
import { WGSL, type KernelName } from './kernels/index.ts';
import { NORM_CHUNK } from './kernels/norm-partial.wgsl.ts';
import { dispatch1d, type GpuContext, type GpuLayerRun } from './layers/context.ts';
import { GPU_LAYERS } from './layers/index.ts';

/** State buffers each optimizer uses. */
const STATE_BUFFERS: Record<GradientOptimizerType, number> = { sgd: 0, momentum: 1, nesterov: 1, rmsprop: 1, adam: 2 };

/** Storage that can be written and read back (a function: the WebGPU globals exist once webgpu is loaded). */
const storage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export class GpuNetwork {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly stats: GPUBuffer;
  readonly state: [GPUBuffer, GPUBuffer];
  readonly input: GPUBuffer;
  readonly labels: GPUBuffer;
  /** The logits: the last layer's output. */
  readonly logits: GPUBuffer;
  /** (loss, norm, clipping factor, unused). */
  readonly scalars: GPUBuffer;
  private readonly step: GPUBuffer;
  private readonly stepData = new ArrayBuffer(STEP_BYTES);
  private readonly stepWords = new Uint32Array(this.stepData);
  private readonly stepFloats = new Float32Array(this.stepData);
  private readonly runs: GpuLayerRun[];
  private readonly dLogits: GPUBuffer;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly owned: GPUBuffer[] = [];
  private readonly decayGroup: GPUBindGroup | null;
  private readonly normGroups: [GPUBindGroup, GPUBindGroup];
  private optimizerPipeline: GPUComputePipeline | null = null;
  private optimizerGroup: GPUBindGroup | null = null;
  private weightDecay = 0;
  private clipNorm = 0;
  /** The images kept on the GPU (holdImages), from which each step forms its input; null: input is uploaded. */
  private held: GpuHeldImages | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly plan: NetworkPlan,
    private readonly maxBatch: number,
    loss: LossName,
  ) {
    const n = plan.paramCount;
    const floats = (count: number, usage = storage()) => this.buffer(Math.max(4, count) * 4, usage);
    this.params = floats(n);
    this.grads = floats(n);
    this.stats = floats(plan.statCount);
    this.state = [floats(n), floats(n)];
    this.input = floats(maxBatch * shapeSize(plan.input));
    this.labels = floats(maxBatch);
    this.scalars = floats(4);
    this.step = this.buffer(STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const ctx: GpuContext = {
      device,
      maxBatch,
      storage: (count) => floats(count),
      step: this.step,
      params: this.params,
      grads: this.grads,
      stats: this.stats,
      pipeline: (kernel, constants) => this.pipeline(kernel, constants),
      bind: (pipeline, buffers) => this.bind(pipeline, buffers),
      uniform: (words) => {
        const b = this.buffer(Math.max(16, words.length * 4), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        device.queue.writeBuffer(b, 0, Uint32Array.from(words));
        return b;
      },
    };

    // Activations: a_0 is the input; a flatten's output and gradient are its input's.
    const a: GPUBuffer[] = [this.input];
    const da: (GPUBuffer | null)[] = [null];
    this.runs = plan.layers.map((layer, l) => {
      const part = GPU_LAYERS[LAYERS[layer.spec.type].gpu as keyof typeof GPU_LAYERS];
      if (part.aliasesInput) {
        a.push(a[l]!);
        da.push(da[l] ?? floats(maxBatch * shapeSize(layer.output)));
      } else {
        a.push(floats(maxBatch * shapeSize(layer.output)));
        da.push(floats(maxBatch * shapeSize(layer.output)));
      }
      return part.prepare(layer, ctx, { x: a[l]!, y: a[l + 1]!, dx: l === 0 ? null : da[l]!, dy: da[l + 1]! });
    });
    this.logits = a[plan.layers.length]!;
    this.dLogits = da[plan.layers.length]!;
    this.lossPipeline = this.pipeline('loss', { LOSS: loss === 'bce' ? 0 : 1 });
    this.lossGroup = this.bind(this.lossPipeline, [this.step, this.logits, this.labels, this.dLogits, this.scalars]);

    // Weight decay: one bit per parameter, set on the slices that decay.
    const mask = new Uint32Array(Math.max(1, Math.ceil(n / 32)));
    for (const s of plan.params) if (s.decay) for (let i = s.offset; i < s.offset + s.length; i++) mask[i >>> 5]! |= 1 << (i & 31);
    const decays = floats(mask.length);
    device.queue.writeBuffer(decays, 0, mask);
    this.decayGroup = n > 0 ? this.bind(this.pipeline('weight-decay'), [this.step, decays, this.params, this.grads]) : null;
    const partials = floats(Math.ceil(n / NORM_CHUNK));
    this.normGroups = [this.bind(this.pipeline('norm-partial'), [this.step, this.grads, partials]), this.bind(this.pipeline('norm-final'), [this.step, partials, this.scalars])];
  }

  private readonly lossPipeline: GPUComputePipeline;
  private readonly lossGroup: GPUBindGroup;

  /** The optimizer's kernel and its regularisation; its state buffers are zeroed. */
  setOptimizer(type: GradientOptimizerType, weightDecay: number, clipNorm: number): void {
    this.optimizerPipeline = this.pipeline(type);
    const states = STATE_BUFFERS[type];
    this.optimizerGroup = this.bind(this.optimizerPipeline, [this.step, this.params, this.grads, this.scalars, ...this.state.slice(0, states)]);
    this.weightDecay = weightDecay;
    this.clipNorm = clipNorm;
    const zeros = new Float32Array(this.plan.paramCount);
    for (const s of this.state) this.device.queue.writeBuffer(s, 0, zeros);
    // (loss, norm, factor): the factor stays 1 when there is no clipping; the norm is then NaN.
    this.device.queue.writeBuffer(this.scalars, 0, new Float32Array([0, NaN, 1, 0]));
  }

  /**
   * Keeps images of this shape on the GPU (their pixels are then written through the result): from
   * now on every step and inference pass first forms its input from the batch's rows.
   */
  holdImages(shape: HeldImagesShape, layout: HeldImagesLayout): GpuHeldImages {
    this.held?.destroy();
    this.held = new GpuHeldImages(this.device, shape, layout, this.maxBatch, this.input, (buffers) => {
      const pipeline = this.pipeline('gather-batch');
      return { pipeline, group: this.bind(pipeline, [this.step, ...buffers]) };
    });
    return this.held;
  }

  /** Writes the Step uniform: batch size, parameter count, dropout's seed and step, the optimizer's constants (8). */
  writeStep(B: number, constants: ArrayLike<number>, seed: number, step: number): void {
    const u = this.stepWords;
    const f = this.stepFloats;
    u[0] = B;
    u[1] = this.plan.paramCount;
    u[2] = seed >>> 0;
    u[3] = step >>> 0;
    for (let i = 0; i < 8; i++) f[4 + i] = constants[i] ?? 0;
    f[12] = this.weightDecay;
    f[13] = this.clipNorm;
    this.device.queue.writeBuffer(this.step, 0, this.stepData);
  }

  /** Forward (training), loss, backward and, with `update`, decay, clipping and the optimizer; then copies (loss, norm) into `staging`. */
  encodeTraining(B: number, update: boolean, staging: GPUBuffer): GPUCommandBuffer {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.held?.encode(pass, B);
    for (const run of this.runs) run.forward(pass, B, 'train');
    pass.setPipeline(this.lossPipeline);
    pass.setBindGroup(0, this.lossGroup);
    pass.dispatchWorkgroups(1);
    for (let l = this.runs.length - 1; l >= 0; l--) this.runs[l]!.backward(pass, B);
    const n = this.plan.paramCount;
    if (update && n > 0) {
      if (!this.optimizerPipeline || !this.optimizerGroup) throw new Error('GPU core: no optimizer set');
      if (this.weightDecay !== 0 && this.decayGroup) {
        pass.setPipeline(this.pipeline('weight-decay'));
        pass.setBindGroup(0, this.decayGroup);
        dispatch1d(pass, n);
      }
      if (this.clipNorm > 0) {
        const groups = Math.ceil(n / NORM_CHUNK);
        const x = Math.min(groups, 65535);
        pass.setPipeline(this.pipeline('norm-partial'));
        pass.setBindGroup(0, this.normGroups[0]);
        pass.dispatchWorkgroups(x, Math.ceil(groups / x));
        pass.setPipeline(this.pipeline('norm-final'));
        pass.setBindGroup(0, this.normGroups[1]);
        pass.dispatchWorkgroups(1);
      }
      pass.setPipeline(this.optimizerPipeline);
      pass.setBindGroup(0, this.optimizerGroup);
      dispatch1d(pass, n);
    }
    pass.end();
    encoder.copyBufferToBuffer(this.scalars, 0, staging, 0, 8);
    return encoder.finish();
  }

  /** Timestamp pairs encodeTimed writes: each layer's forward, the loss, each layer's backward, the update. */
  get timedPasses(): number {
    return 2 * this.runs.length + 2;
  }

  /**
   * A training step as encodeTraining's (no decay or clipping), but each layer's forward, the loss,
   * each layer's backward and the update in a compute pass of its own, with the pass's start and end
   * written to `timestamps` (pair p at 2p, 2p + 1: forward of layer l at p = l, the loss at L,
   * backward of layer l at L + 1 + l, the update at 2L + 1). For per-layer milliseconds (the bench).
   */
  encodeTimed(B: number, timestamps: GPUQuerySet): GPUCommandBuffer {
    const encoder = this.device.createCommandEncoder();
    const L = this.runs.length;
    const timed = (pair: number, encode: (pass: GPUComputePassEncoder) => void) => {
      const pass = encoder.beginComputePass({ timestampWrites: { querySet: timestamps, beginningOfPassWriteIndex: 2 * pair, endOfPassWriteIndex: 2 * pair + 1 } });
      encode(pass);
      pass.end();
    };
    this.runs.forEach((run, l) =>
      timed(l, (pass) => {
        if (l === 0) this.held?.encode(pass, B); // counted with the first layer
        run.forward(pass, B, 'train');
      }),
    );
    timed(L, (pass) => {
      pass.setPipeline(this.lossPipeline);
      pass.setBindGroup(0, this.lossGroup);
      pass.dispatchWorkgroups(1);
    });
    for (let l = L - 1; l >= 0; l--) timed(L + 1 + l, (pass) => this.runs[l]!.backward(pass, B));
    timed(2 * L + 1, (pass) => {
      if (!this.optimizerPipeline || !this.optimizerGroup) throw new Error('GPU core: no optimizer set');
      pass.setPipeline(this.optimizerPipeline);
      pass.setBindGroup(0, this.optimizerGroup);
      dispatch1d(pass, this.plan.paramCount);
    });
    return encoder.finish();
  }

  /** Forward in inference mode; the B logits copied into `staging`. */
  encodeInference(B: number, staging: GPUBuffer): GPUCommandBuffer {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.held?.encode(pass, B);
    for (const run of this.runs) run.forward(pass, B, 'infer');
    pass.end();
    encoder.copyBufferToBuffer(this.logits, 0, staging, 0, B * 4);
    return encoder.finish();
  }

  destroy(): void {
    this.held?.destroy();
    for (const b of this.owned) b.destroy();
  }

  private buffer(size: number, usage: number): GPUBuffer {
    const b = this.device.createBuffer({ size: Math.ceil(size / 4) * 4, usage });
    this.owned.push(b);
    return b;
  }

  private pipeline(kernel: KernelName, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${kernel} ${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: WGSL[kernel], label: kernel });
      p = this.device.createComputePipeline({ label: kernel, layout: 'auto', compute: { module, entryPoint: 'main', constants } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private bind(pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  }
}
