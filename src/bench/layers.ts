/**
 * `npm run bench:layers [-- --kernel relaxed-simd|simd] [--rounds R]`: the memory-bound layer
 * kinds of the gradient core (batch norm, max and average pooling, global average pooling,
 * dropout, and ReLU next to them) on the reference CNN's activation shapes at batch 64
 * (64x64x32, 32x32x64, 16x16x128, 8x8x256), on 1 thread and on 2.
 *
 * 1. Through the core: small networks on each shape (a ReLU first, so that the measured layers
 *    compute their input gradient, then the layers, then flatten and dense 1), with the core's
 *    per-layer profile: forward in training and in inference mode, backward. Real jobs, barriers
 *    and thread splits (createCore's defaults).
 * 2. Issue 13's fusion question: batch norm -> ReLU -> 2x2 max pooling as three layers (their
 *    drivers' steps) against one fused pass each way (src/core/kernels/bnrelumaxpool.as.ts, an
 *    experiment compiled here with the core's flags, not part of the core). Both run on a small
 *    two-thread harness: a worker replays the kernel calls its share makes, a barrier after each
 *    step, as the core does.
 * Figures: medians of R interleaved rounds (default 9) in milliseconds, nanoseconds per input value,
 * and GB/s of the least memory traffic (every buffer read or written once, as the "traffic" column
 * counts it). Human-readable lines go to stderr, one JSON object to stdout (the last line).
 * Run it alone, under `flock /tmp/bench.lock`.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { createCore, type Core } from '../core/index.ts';
import { instantiate, loadKernels, type KernelExports, type WasmKernelName } from '../core/kernels.ts';
import { blockRows } from '../core/layers/batchnorm.ts';
import { coreLayer, type LayerAddresses } from '../core/layers/index.ts';
import { share } from '../core/split.ts';
import { initParams } from '../nn/init.ts';
import type { Mode } from '../nn/layers/layer.ts';
import type { LayerSpec } from '../nn/layers/spec.ts';
import { planNetwork, type PlannedLayer } from '../nn/plan.ts';
import { formatShape, shapeSize, type Shape } from '../nn/shape.ts';
import { Rng } from '../random/rng.ts';
import { median, positiveOption } from './common.ts';

const B = 64;
const SHAPES: Shape[] = [
  { height: 64, width: 64, channels: 32 },
  { height: 32, width: 32, channels: 64 },
  { height: 16, width: 16, channels: 128 },
  { height: 8, width: 8, channels: 256 },
];
const THREADS = 2;
const BN: LayerSpec = { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 };
const RELU: LayerSpec = { type: 'relu' };
const MAXPOOL: LayerSpec = { type: 'maxpool', size: 2, stride: 2 };
const say = (line: string): void => void process.stderr.write(line + '\n');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const round2 = (v: number): number => Math.round(v * 100) / 100;

/** A timed figure: medians on 1 and on 2 threads, and the least bytes it moves. */
interface Figure {
  name: string;
  shape: Shape;
  bytes: number;
  traffic: string;
  ms: [number[], number[]];
}

function figureLine(f: Figure): { text: string; json: { ms: number[]; nsPerValue: number[]; gbps: number[] } } {
  const values = B * shapeSize(f.shape);
  const ms = f.ms.map(median);
  const ns = ms.map((m) => (m * 1e6) / values);
  const gbps = ms.map((m) => f.bytes / m / 1e6);
  const cells = ms.map((m, i) => `${m.toFixed(2).padStart(7)} ms ${ns[i]!.toFixed(2).padStart(5)} ns ${gbps[i]!.toFixed(1).padStart(5)} GB/s`);
  return {
    text: `  ${f.name.padEnd(36)} ${cells[0]}   ${cells[1]}   ${f.traffic}`,
    json: { ms: ms.map(round2), nsPerValue: ns.map(round2), gbps: gbps.map(round2) },
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Through the core: per-layer profile of small networks.

/** A network on `shape` whose layers 1..measured.length are timed (layer 0, a ReLU, gives them a dx). */
function networkOf(shape: Shape, measured: LayerSpec[]): { input: Shape; layers: LayerSpec[] } {
  return { input: shape, layers: [RELU, ...measured, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }] };
}

interface Probe {
  label: string;
  /** Index of the layer in the network, and the least traffic of each phase (in full tensors of its input, and how). */
  layer: number;
  forward: [number, string];
  infer: [number, string];
  backward: [number, string];
}

/** The networks of one shape and what to read from their profiles. */
function probesOf(shape: Shape): { layers: LayerSpec[]; probes: Probe[] }[] {
  const ratio = shapeSize({ ...shape, height: shape.height >> 1, width: shape.width >> 1 }) / shapeSize(shape);
  return [
    {
      layers: [BN, RELU, MAXPOOL],
      probes: [
        { label: 'batchnorm', layer: 1, forward: [3, 'x twice, y'], infer: [2, 'x, y'], backward: [5, 'x and dy twice, dx'] },
        { label: 'relu', layer: 2, forward: [2, 'x, y'], infer: [2, 'x, y'], backward: [3, 'x, dy, dx'] },
        { label: 'maxpool 2x2', layer: 3, forward: [1 + 2 * ratio, 'x, y, argmax'], infer: [1 + ratio, 'x, y'], backward: [1 + 2 * ratio, 'dy, argmax, dx'] },
      ],
    },
    {
      layers: [{ type: 'avgpool', size: 2, stride: 2 }],
      probes: [{ label: 'avgpool 2x2', layer: 1, forward: [1 + ratio, 'x, y'], infer: [1 + ratio, 'x, y'], backward: [1 + ratio, 'dy, dx'] }],
    },
    {
      layers: [{ type: 'dropout', rate: 0.5 }, { type: 'globalavgpool' }],
      probes: [
        { label: 'dropout 0.5', layer: 1, forward: [3, 'x, mask, y'], infer: [2, 'x, y'], backward: [3, 'dy, mask, dx'] },
        { label: 'globalavgpool', layer: 2, forward: [1, 'x'], infer: [1, 'x'], backward: [1, 'dx'] },
      ],
    },
  ];
}

async function throughTheCore(kernel: WasmKernelName, rounds: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const shape of SHAPES) {
    const tensor = 4 * B * shapeSize(shape);
    for (const { layers, probes } of probesOf(shape)) {
      const network = networkOf(shape, layers);
      const cores: Core[] = [];
      try {
        for (const workers of [1, THREADS]) cores.push(await createCore({ network, maxBatch: B, loss: 'bce', kernel, workers, profile: true }));
        const rng = new Rng(3);
        for (const core of cores) {
          initParams(core.plan, core.params, new Rng(1));
          for (let i = 0; i < core.input.length; i++) core.input[i] = rng.uniform() * 2 - 0.5;
          for (let s = 0; s < B; s++) core.labels[s] = s & 1;
        }
        const rows = probes.flatMap((p) => [
          { p, phase: 'forward, train', share: p.forward, ms: [[], []] as [number[], number[]] },
          { p, phase: 'forward, infer', share: p.infer, ms: [[], []] as [number[], number[]] },
          { p, phase: 'backward', share: p.backward, ms: [[], []] as [number[], number[]] },
        ]);
        for (let r = 0; r < rounds + 2; r++) {
          cores.forEach((core, i) => {
            const profile = core.profile!;
            core.resetProfile();
            core.gradient(B, r);
            const train = rows.map((row) => (row.phase === 'backward' ? profile.backward : profile.forward)[row.p.layer]! * 1000);
            core.resetProfile();
            core.evaluate(B);
            if (r < 2) return; // warm-up rounds
            rows.forEach((row, j) => row.ms[i]!.push(row.phase === 'forward, infer' ? profile.forward[row.p.layer]! * 1000 : train[j]!));
          });
        }
        for (const row of rows) figures.push({ name: `${row.p.label} ${row.phase}`, shape, bytes: row.share[0] * tensor, traffic: row.share[1], ms: row.ms });
      } finally {
        await Promise.all(cores.map((c) => c.close()));
      }
    }
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------
// 2. The fusion experiment on a two-thread harness.

/** The experiment's kernels (bnrelumaxpool.as.ts) besides the core's. */
interface FusedKernels extends KernelExports {
  bnReluMaxpoolForward(
    x: number, p: number, argmax: number, winner: number, mean: number, scale: number, shift: number, H: number, W: number, C: number, r0: number, r1: number,
  ): void;
  bnReluMaxpoolBackwardBlocks(dp: number, argmax: number, winner: number, W: number, C: number, r0: number, r1: number, partials: number): void;
  bnReluMaxpoolBackwardApply(x: number, dp: number, argmax: number, dx: number, mean: number, coefs: number, H: number, W: number, C: number, r0: number, r1: number): void;
}

/** What src/core/kernels/build.mjs exports (a build script, read from the source tree). */
interface KernelBuild {
  KERNEL_FLAVOURS: Record<WasmKernelName, { features: string[] }>;
  kernelArgs(entry: string, outFile: string, flavour: { features: string[] }): string[];
}

/** Compiles index.as.ts plus the fusion experiment with the core's flags for `kernel`. */
async function compileExperiment(kernel: WasmKernelName): Promise<WebAssembly.Module> {
  const { default: asc } = await import('assemblyscript/asc');
  const dir = join(root, 'src', 'core', 'kernels');
  const { KERNEL_FLAVOURS, kernelArgs } = (await import(pathToFileURL(join(dir, 'build.mjs')).href)) as KernelBuild;
  const entry = join(dir, 'bench-experiment.as.ts');
  const source = "export * from './index.as';\nexport * from './bnrelumaxpool.as';\n";
  let binary: Uint8Array | null = null;
  let log = '';
  const { error } = await asc.main(kernelArgs(entry, join(dir, 'experiment.wasm'), KERNEL_FLAVOURS[kernel]), {
    readFile: (name: string, baseDir: string) => {
      const path = resolve(baseDir, name);
      if (path === entry) return source;
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (text: string) => ((log += text), true) },
    stderr: { write: (text: string) => ((log += text), true) },
  } as Parameters<typeof asc.main>[1]);
  if (error || !binary) throw new Error(`compiling the fusion experiment failed: ${error?.message ?? 'no output'}\n${log}`);
  return new WebAssembly.Module(binary);
}

type Call = [name: string, args: number[]];
/** One barrier-separated step, as the core runs it: thread t of T's share. */
type Step = (k: KernelExports, share: { t: number; T: number }) => void;

/** What a thread's share of each step calls, recorded by running it against the real kernels. */
function record(k: KernelExports, steps: Step[], t: number, T: number): Call[][] {
  const fns = k as unknown as Record<string, (...a: number[]) => number>;
  return steps.map((step) => {
    const calls: Call[] = [];
    // (The exports object is frozen: a proxy of it must return its own values, so proxy an empty one.)
    const recorder = new Proxy({} as KernelExports, {
      get: (_target, name: string) => (...args: number[]) => {
        calls.push([name, args]);
        return fns[name]!(...args);
      },
    });
    step(recorder, { t, T });
    return calls;
  });
}

function replay(k: KernelExports, calls: Call[]): void {
  const fns = k as unknown as Record<string, (...a: number[]) => void>;
  for (const [name, args] of calls) fns[name]!(...args);
}

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, memory, sync, port } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const w = new Int32Array(sync); // 0 epoch, 1 job (-1 quit, -2 load, else a step), 2 epoch done
let steps = [];
let seen = 0;
for (;;) {
  let spins = 0;
  while (Atomics.load(w, 0) === seen) if (++spins > 2e5) Atomics.wait(w, 0, seen);
  seen = Atomics.load(w, 0);
  const job = w[1];
  if (job === -1) break;
  if (job === -2) steps = receiveMessageOnPort(port).message;
  else for (const [name, args] of steps[job]) k[name](...args);
  Atomics.store(w, 2, seen);
}
`;

/** The calling thread and one worker over the same memory; the worker replays its recorded share. */
class TwoThreads {
  private readonly words = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  private readonly port: MessagePort;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, sync: this.words.buffer, port: port2 }, transferList: [port2] });
  }

  private run(job: number, own?: () => void): void {
    this.words[1] = job;
    const epoch = Atomics.add(this.words, 0, 1) + 1;
    Atomics.notify(this.words, 0);
    own?.();
    while (Atomics.load(this.words, 2) !== epoch);
  }

  /** Gives the worker thread 1's calls of every step (this also wakes it). */
  load(steps: Call[][]): void {
    this.port.postMessage(steps);
    this.run(-2);
  }

  /** Every step: thread 0's calls here, the worker's there, a barrier after each. */
  runSteps(k: KernelExports, own: Call[][]): void {
    for (let s = 0; s < own.length; s++) this.run(s, () => replay(k, own[s]!));
  }

  async close(): Promise<void> {
    this.words[1] = -1;
    Atomics.add(this.words, 0, 1);
    Atomics.notify(this.words, 0);
    await new Promise((resolve) => this.worker.once('exit', resolve));
  }
}

/** Buffers of the chain, sized for the largest shape and reused by every shape. */
interface Region {
  x: number; y: number; a: number; p: number; argmax: number; winner: number; dp: number; da: number; dz: number; dx: number;
  gamma: number; beta: number; dgamma: number; dbeta: number; runMean: number; runVar: number; invstd: number;
  partials: number; mean: number; scratch: number[];
}

function layoutRegion(heapBase: number): { region: Region; bytes: number } {
  let end = heapBase;
  const take = (floats: number): number => {
    const at = Math.ceil(end / 4096) * 4096;
    end = at + 4 * floats;
    return at;
  };
  const N = B * Math.max(...SHAPES.map(shapeSize));
  const C = Math.max(...SHAPES.map((s) => s.channels));
  // Blocks of batch norm's sums, or of the fused backward's (one per pooled row).
  const maxBlocks = Math.max(...SHAPES.map((s) => Math.max(Math.ceil((B * s.height * s.width) / blockRows(s.channels)), B * (s.height >> 1))));
  const region: Region = {
    x: take(N), y: take(N), a: take(N), p: take(N / 4), argmax: take(N / 4), winner: take(N / 4), dp: take(N / 4), da: take(N), dz: take(N), dx: take(N),
    gamma: take(C), beta: take(C), dgamma: take(C), dbeta: take(C), runMean: take(C), runVar: take(C), invstd: take(C),
    partials: take(2 * C * maxBlocks), mean: take(2 * C), scratch: [take(9 * C), take(9 * C)],
  };
  return { region, bytes: end };
}

function fillRegion(memory: WebAssembly.Memory, r: Region, shape: Shape): void {
  const rng = new Rng(5);
  const fill = (address: number, count: number, f: () => number) => {
    const v = new Float32Array(memory.buffer, address, count);
    for (let i = 0; i < count; i++) v[i] = f();
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
  const N = B * shapeSize(shape);
  const C = shape.channels;
  fill(r.x, N, () => 0.5 + gauss());
  fill(r.dp, N / 4, () => 1e-3 * gauss());
  fill(r.gamma, C, () => 1 + 0.1 * gauss());
  fill(r.beta, C, () => 0.1 * gauss());
  fill(r.runMean, C, () => 0);
  fill(r.runVar, C, () => 1);
}

function planned(spec: LayerSpec, input: Shape): PlannedLayer {
  return planNetwork({ input, layers: [spec, { type: 'dense', units: 1, bias: true }] }).layers[0]!;
}

/** The steps of one layer's forward (mode) or backward job, through its driver. */
function driverSteps(spec: LayerSpec, shape: Shape, io: LayerAddresses[], job: Mode | 'backward'): Step[] {
  const layer = planned(spec, shape);
  const driver = coreLayer(spec);
  const count = job === 'backward' ? driver.backwardSteps(layer) : driver.forwardSteps(layer, job);
  return Array.from({ length: count }, (_, step) => (k: KernelExports, { t, T }: { t: number; T: number }) => {
    // (Prepared on each call: the kernels k differ from call to call, recorders of the calls.)
    const prepared = driver.prepare(k, layer, io[t]!);
    if (job === 'backward') prepared.backward(B, step, t, T);
    else prepared.forward(B, job, 0, step, t, T);
  });
}

/** The chain as three layers, x -bn-> y -relu-> a -maxpool-> p, back dp -> da -> dz -> dx; and fused. */
function chainSteps(shape: Shape, r: Region): Record<'forward' | 'fusedForward' | 'backward' | 'fusedBackward' | 'infer' | 'fusedInfer', Step[]> {
  const io = (x: number, y: number, dy: number, dx: number): LayerAddresses[] =>
    r.scratch.map((scratch) => ({
      x, y, dy, dx,
      params: { gamma: r.gamma, beta: r.beta },
      grads: { gamma: r.dgamma, beta: r.dbeta },
      stats: { mean: r.runMean, variance: r.runVar },
      saved: { invstd: r.invstd, argmax: r.argmax },
      buffers: { partials: r.partials, mean: r.mean, scratch },
    }));
  const bn = io(r.x, r.y, r.dz, r.dx);
  const relu = io(r.y, r.a, r.da, r.dz);
  const pool = io(r.a, r.p, r.dp, r.da);
  const { height: H, width: W, channels: C } = shape;
  const M = B * H * W;
  const rows = B * (H >> 1); // pooled rows: one block each in the fused backward's sums
  const bnForward = driverSteps(BN, shape, bn, 'train');
  return {
    forward: [...bnForward, ...driverSteps(RELU, shape, relu, 'train'), ...driverSteps(MAXPOOL, shape, pool, 'train')],
    backward: [...driverSteps(MAXPOOL, shape, pool, 'backward'), ...driverSteps(RELU, shape, relu, 'backward'), ...driverSteps(BN, shape, bn, 'backward')],
    fusedForward: [
      bnForward[0]!,
      (k, { t, T }) => {
        // Batch norm's statistics as in its driver's step 1, then the fused pass instead of normalize.
        const keeper = t === 0;
        const sums = r.scratch[t]!;
        const scratch = sums + 8 * 2 * C;
        const mean = keeper ? r.mean : scratch;
        const coefs = scratch + 4 * 2 * C;
        k.batchnormTrainStats(
          r.x, r.partials, C, M, blockRows(C), 1e-5, r.gamma, r.beta, sums, mean, keeper ? r.invstd : scratch + 4 * 4 * C, coefs, 0.1,
          keeper ? r.runMean : 0, keeper ? r.runVar : 0,
        );
        const [r0, r1] = share(rows, t, T);
        (k as FusedKernels).bnReluMaxpoolForward(r.x, r.p, r.argmax, r.winner, mean, coefs, coefs + 4 * C, H, W, C, r0, r1);
      },
    ],
    infer: [...driverSteps(BN, shape, bn, 'infer'), ...driverSteps(RELU, shape, relu, 'infer'), ...driverSteps(MAXPOOL, shape, pool, 'infer')],
    fusedInfer: [
      (k, { t, T }) => {
        // As batch norm's inference step, with the fused pass instead of normalize (no argmax kept).
        const scale = r.scratch[t]!;
        k.batchnormInferScale(r.gamma, r.runVar, 1e-5, C, scale);
        const [r0, r1] = share(rows, t, T);
        (k as FusedKernels).bnReluMaxpoolForward(r.x, r.p, 0, 0, r.runMean, scale, r.beta, H, W, C, r0, r1);
      },
    ],
    fusedBackward: [
      (k, { t, T }) => {
        const [r0, r1] = share(rows, t, T);
        (k as FusedKernels).bnReluMaxpoolBackwardBlocks(r.dp, r.argmax, r.winner, W, C, r0, r1, r.partials);
      },
      (k, { t, T }) => {
        const sums = r.scratch[t]!;
        const coefs = sums + 8 * 2 * C;
        k.batchnormBackwardCoefficients(r.partials, C, M, rows, r.gamma, r.mean, r.invstd, t === 0 ? r.dgamma : 0, r.dbeta, sums, coefs);
        const [r0, r1] = share(rows, t, T);
        (k as FusedKernels).bnReluMaxpoolBackwardApply(r.x, r.dp, r.argmax, r.dx, r.mean, coefs, H, W, C, r0, r1);
      },
    ],
  };
}

/**
 * The experiment computes what the three layers do: the pooled output bit for bit, dx and the
 * batch-norm gradients within float32 rounding (its sums run in another order). Throws otherwise.
 */
function checkFusion(k: KernelExports, memory: WebAssembly.Memory, r: Region, shape: Shape, phases: Call[][][]): string {
  const [forward, fused, backward, fusedBackward, infer, fusedInfer] = phases;
  const N = B * shapeSize(shape);
  const C = shape.channels;
  const copy = (address: number, n: number): Float32Array => new Float32Array(memory.buffer, address, n).slice();
  const run = (steps: Call[][]): void => steps.forEach((calls) => replay(k, calls));
  run(forward!);
  run(backward!);
  const three = { p: copy(r.p, N / 4), dx: copy(r.dx, N), dgamma: copy(r.dgamma, C), dbeta: copy(r.dbeta, C) };
  run(fused!);
  run(fusedBackward!);
  const one = { p: copy(r.p, N / 4), dx: copy(r.dx, N), dgamma: copy(r.dgamma, C), dbeta: copy(r.dbeta, C) };
  const error = (a: Float32Array, b: Float32Array): number => {
    let diff = 0;
    let size = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      size = Math.max(size, Math.abs(b[i]!));
    }
    return diff / size;
  };
  run(infer!);
  const threeInfer = copy(r.p, N / 4);
  run(fusedInfer!);
  const oneInfer = copy(r.p, N / 4);
  const samePooled = one.p.every((v, i) => Object.is(v, three.p[i])) && oneInfer.every((v, i) => Object.is(v, threeInfer[i]));
  const errors = { dx: error(one.dx, three.dx), dgamma: error(one.dgamma, three.dgamma), dbeta: error(one.dbeta, three.dbeta) };
  if (!samePooled || Object.values(errors).some((e) => !(e < 1e-4))) {
    throw new Error(`the fused pass disagrees with the three layers at ${formatShape(shape)}: pooled output ${samePooled ? 'equal' : 'different'}, errors ${JSON.stringify(errors)}`);
  }
  return `${formatShape(shape)}: fused = 3 layers (pooled output bit for bit, training and inference; dx, dgamma, dbeta within ${Math.max(...Object.values(errors)).toExponential(1)})`;
}

async function fusion(kernel: WasmKernelName, rounds: number): Promise<{ figures: Figure[]; checks: string[] }> {
  const module = await compileExperiment(kernel);
  const probe = instantiate(module, new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }));
  const { region, bytes } = layoutRegion(probe.heapBase());
  const pages = Math.ceil(bytes / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const k = instantiate(module, memory);
  const pair = new TwoThreads(module, memory);
  const figures: Figure[] = [];
  const checks: string[] = [];
  try {
    for (const shape of SHAPES) {
      fillRegion(memory, region, shape);
      const tensor = 4 * B * shapeSize(shape);
      const chain = chainSteps(shape, region);
      const phases = [
        { name: 'bn+relu+maxpool forward, 3 layers', steps: chain.forward, bytes: 8.5, traffic: 'as the 3 layers' },
        { name: 'bn+relu+maxpool forward, fused', steps: chain.fusedForward, bytes: 2.75, traffic: 'x twice, p, argmax, winner' },
        { name: 'bn+relu+maxpool backward, 3 layers', steps: chain.backward, bytes: 9.5, traffic: 'as the 3 layers' },
        { name: 'bn+relu+maxpool backward, fused', steps: chain.fusedBackward, bytes: 3.25, traffic: 'dp, argmax twice, winner, x, dx' },
        { name: 'bn+relu+maxpool inference, 3 layers', steps: chain.infer, bytes: 5.25, traffic: 'as the 3 layers' },
        { name: 'bn+relu+maxpool inference, fused', steps: chain.fusedInfer, bytes: 1.25, traffic: 'x, p' },
      ].map((p) => ({ ...p, one: record(k, p.steps, 0, 1), two: [0, 1].map((t) => record(k, p.steps, t, THREADS)), ms: [[], []] as [number[], number[]] }));
      const once = (p: (typeof phases)[number], T: number): number => {
        const t0 = performance.now();
        if (T === 1) for (const calls of p.one) replay(k, calls);
        else pair.runSteps(k, p.two[0]!);
        return performance.now() - t0;
      };
      for (let r = 0; r < rounds + 2; r++) {
        for (const p of phases) {
          const one = once(p, 1);
          pair.load(p.two[1]!);
          const two = once(p, THREADS);
          if (r < 2) continue; // warm-up rounds
          p.ms[0].push(one);
          p.ms[1].push(two);
        }
      }
      for (const p of phases) figures.push({ name: p.name, shape, bytes: p.bytes * tensor, traffic: p.traffic, ms: p.ms });
      checks.push(checkFusion(k, memory, region, shape, phases.map((p) => p.one)));
    }
  } finally {
    await pair.close();
  }
  return { figures, checks };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kernel: { type: 'string', default: 'relaxed-simd' }, rounds: { type: 'string' } } });
  const kernel = values.kernel as WasmKernelName;
  if (kernel !== 'relaxed-simd' && kernel !== 'simd') throw new Error(`--kernel: relaxed-simd or simd, found ${JSON.stringify(values.kernel)}`);
  const rounds = positiveOption('rounds', values.rounds, 9);
  if (!loadKernels(kernel, join(root, 'dist', 'core'))) throw new Error(`this runtime cannot run the ${kernel} kernels`);
  say(`nn-train layer kernels: ${kernel}, batch ${B}, medians of ${rounds} interleaved rounds; 1 thread, and ${THREADS} (the calling thread + 1 worker)`);
  say(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, Node ${process.versions.node}`);
  const json: Record<string, Record<string, ReturnType<typeof figureLine>['json']>> = {};
  const show = (title: string, figures: Figure[]): void => {
    say(`\n${title}`);
    let shape = '';
    for (const f of figures) {
      const name = formatShape(f.shape);
      if (name !== shape) {
        shape = name;
        say(`  ${name} x ${B} (${((4 * B * shapeSize(f.shape)) / 2 ** 20).toFixed(0)} MiB per tensor)${' '.repeat(Math.max(0, 14 - name.length))}1 thread${' '.repeat(25)}${THREADS} threads${' '.repeat(24)}traffic`);
      }
      const line = figureLine(f);
      say(line.text);
      (json[name] ??= {})[f.name] = line.json;
    }
  };
  show('1. per layer, through the core (createCore, profile)', await throughTheCore(kernel, rounds));
  const fused = await fusion(kernel, rounds);
  show('2. batch norm -> ReLU -> max pool 2x2: three layers or one fused pass (two-thread harness)', fused.figures);
  for (const line of fused.checks) say(`  ${line}`);
  process.stdout.write(JSON.stringify({ kernel, batch: B, threads: [1, THREADS], rounds, layers: json }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
