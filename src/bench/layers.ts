/**
 * `npm run bench:layers [-- --kernel relaxed-simd|simd] [--rounds R]`: the memory-bound layer
 * kinds of the gradient core (batch norm, ReLU, max and average pooling, global average pooling,
 * dropout) on the reference CNN's activation shapes at batch 64 (64x64x32, 32x32x64, 16x16x128,
 * 8x8x256), on 1 thread and on 2 (the calling thread + 1 worker), and issue 13's fusion question:
 * batch norm -> ReLU -> 2x2 max pooling as three layers against one fused pass each way
 * (src/core/kernels/bnrelumaxpool.as.ts, an experiment compiled here, not part of the core).
 *
 * Each phase runs the layer's CoreLayer driver steps (src/core/layers) exactly as the core's walk
 * would: every thread its share, a barrier after each step. A worker replays the kernel calls its
 * share makes (recorded once from the driver), so the timed work is the core's. Figures: median
 * milliseconds of R interleaved rounds (default 9), nanoseconds per input value, and GB/s of the
 * least memory traffic the phase needs (every buffer read or written once, per the "traffic"
 * column). Human-readable lines go to stderr, one JSON object to stdout (the last line).
 * Run it alone, under `flock /tmp/bench.lock`.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { ACTIVATION_KIND, instantiate, loadKernels, type KernelExports, type WasmKernelName } from '../core/kernels.ts';
import { avgpoolCore } from '../core/layers/avgpool.ts';
import { batchnormCore, blockRows } from '../core/layers/batchnorm.ts';
import type { CoreLayer, LayerAddresses, ThreadShare } from '../core/layers/driver.ts';
import { dropoutCore } from '../core/layers/dropout.ts';
import { globalavgpoolCore } from '../core/layers/globalavgpool.ts';
import { maxpoolCore } from '../core/layers/maxpool.ts';
import { share } from '../core/split.ts';
import type { Mode } from '../nn/layers/layer.ts';
import type { LayerSpec } from '../nn/layers/spec.ts';
import { planNetwork, type PlannedLayer } from '../nn/plan.ts';
import { shapeSize, type Shape } from '../nn/shape.ts';
import { Rng } from '../nn/rng.ts';
import { median, positiveOption } from './common.ts';

const B = 64;
const SHAPES: Shape[] = [
  { height: 64, width: 64, channels: 32 },
  { height: 32, width: 32, channels: 64 },
  { height: 16, width: 16, channels: 128 },
  { height: 8, width: 8, channels: 256 },
];
const MAX_VALUES = B * Math.max(...SHAPES.map(shapeSize));
const MAX_CHANNELS = Math.max(...SHAPES.map((s) => s.channels));
const THREADS = 2;
const say = (line: string): void => void process.stderr.write(line + '\n');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The experiment's kernels (bnrelumaxpool.as.ts) besides the core's. */
interface FusedKernels extends KernelExports {
  bnReluMaxpoolForward(
    x: number, p: number, argmax: number, mean: number, scale: number, beta: number,
    H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number,
  ): void;
  bnReluMaxpoolBackwardBlocks(
    x: number, dp: number, argmax: number, mean: number,
    H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, rows: number, R: number, b0: number, b1: number, partials: number,
  ): void;
  bnReluMaxpoolCoefficients(partials: number, C: number, M: number, blocks: number, gamma: number, invstd: number, dgamma: number, dbeta: number, coefs: number): void;
  bnReluMaxpoolBackwardApply(
    x: number, dp: number, argmax: number, dx: number, mean: number, coefs: number,
    H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number,
  ): void;
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

// ---------------------------------------------------------------------------------------------
// Two threads over one memory: the worker replays recorded kernel calls, step by step.

type Call = [name: string, args: number[]];
/** One barrier-separated step of a phase, as the core runs it: a thread's share. */
type Step = (k: KernelExports, share: ThreadShare) => void;

/** What a thread's share of each step calls, recorded by running it against the real kernels. */
function record(k: KernelExports, steps: Step[], t: number, T: number): Call[][] {
  return steps.map((step) => {
    const calls: Call[] = [];
    const fns = k as unknown as Record<string, (...a: number[]) => number>;
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

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, memory, sync, port } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const w = new Int32Array(sync); // 0 epoch, 1 job (-1 quit, -2 load, else a step), 2 done
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

class TwoThreads {
  private readonly words = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  private readonly port: MessagePort;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, sync: this.words.buffer, port: port2 }, transferList: [port2] });
  }

  /** Runs job `job` on the worker and `own` here; returns when both are done. */
  private run(job: number, own?: () => void): void {
    this.words[1] = job;
    const epoch = Atomics.add(this.words, 0, 1) + 1;
    Atomics.notify(this.words, 0);
    own?.();
    while (Atomics.load(this.words, 2) !== epoch);
  }

  /** Gives the worker its calls (thread 1's share of every step). */
  load(steps: Call[][]): void {
    this.port.postMessage(steps);
    this.run(-2);
  }

  /** All steps, thread 0's calls here, a barrier after each. */
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

function replay(k: KernelExports, calls: Call[]): void {
  const fns = k as unknown as Record<string, (...a: number[]) => void>;
  for (const [name, args] of calls) fns[name]!(...args);
}

// ---------------------------------------------------------------------------------------------
// Buffers: one region per role, sized for the largest shape and reused by every shape.

interface Region {
  x: number; y: number; a: number; p: number; argmax: number; dp: number; da: number; dz: number; dx: number;
  gamma: number; beta: number; dgamma: number; dbeta: number; runMean: number; runVar: number; invstd: number;
  partials: number; mean: number; coefs: number[];
}

function layoutRegions(heapBase: number): { region: Region; bytes: number } {
  let end = heapBase;
  const take = (floats: number): number => {
    const at = Math.ceil(end / 4096) * 4096;
    end = at + 4 * floats;
    return at;
  };
  const N = MAX_VALUES;
  const C = MAX_CHANNELS;
  const maxBlocks = Math.max(...SHAPES.map((s) => Math.ceil((B * s.height * s.width) / blockRows(s.channels))));
  const region: Region = {
    x: take(N), y: take(N), a: take(N), p: take(N / 4), argmax: take(N / 4), dp: take(N / 4), da: take(N), dz: take(N), dx: take(N),
    gamma: take(C), beta: take(C), dgamma: take(C), dbeta: take(C), runMean: take(C), runVar: take(C), invstd: take(C),
    partials: take(2 * C * maxBlocks), mean: take(2 * C), coefs: [take(4 * C), take(4 * C)],
  };
  return { region, bytes: end };
}

function planned<S extends LayerSpec>(spec: S, input: Shape): PlannedLayer<S> {
  return planNetwork({ input, layers: [spec, { type: 'dense', units: 1, bias: true }] }).layers[0] as unknown as PlannedLayer<S>;
}

/** The addresses a driver sees: input `x`, output `y`, their gradients, and the shared buffers. */
function addresses(r: Region, t: number, io: { x: number; y: number; dy: number; dx: number }): LayerAddresses {
  return {
    ...io,
    params: { gamma: r.gamma, beta: r.beta },
    grads: { gamma: r.dgamma, beta: r.dbeta },
    stats: { mean: r.runMean, variance: r.runVar },
    saved: { invstd: r.invstd, argmax: r.argmax, mask: r.dx }, // dropout's mask: dx is free in its phases
    buffers: { partials: r.partials, mean: r.mean, coefs: r.coefs[t]! },
  };
}

function forwardSteps<S extends LayerSpec>(driver: CoreLayer<S>, layer: PlannedLayer<S>, r: Region, io: Parameters<typeof addresses>[2], mode: Mode): Step[] {
  return Array.from({ length: driver.forwardSteps(layer, mode) }, (_, step) => (k: KernelExports, s: ThreadShare) =>
    driver.forward(k, layer, addresses(r, s.t, io), B, mode, 0x5eed, step, s));
}

function backwardSteps<S extends LayerSpec>(driver: CoreLayer<S>, layer: PlannedLayer<S>, r: Region, io: Parameters<typeof addresses>[2]): Step[] {
  return Array.from({ length: driver.backwardSteps(layer) }, (_, step) => (k: KernelExports, s: ThreadShare) =>
    driver.backward(k, layer, addresses(r, s.t, io), B, step, s));
}

/** ReLU as a layer: the core's activation kernel over sample rows (the lead's driver may split otherwise). */
function reluSteps(n: number, z: number, a: number, backward: { da: number; dz: number } | null): Step[] {
  return [
    (k, { t, T }) => {
      const [s0, s1] = share(B, t, T);
      const o = 4 * s0 * n;
      if (backward) k.activationBackward(ACTIVATION_KIND.relu, z + o, a + o, backward.da + o, backward.dz + o, n, s1 - s0, 0, n);
      else k.activationForward(ACTIVATION_KIND.relu, z + o, a + o, n, s1 - s0, 0, n);
    },
  ];
}

/** Pooled rows per block of the fused backward's sums: about 4096 floats of pooled output. */
const fusedBlockRows = (Wo: number, C: number): number => Math.max(1, Math.floor(4096 / (Wo * C)));

function fusedSteps(s: Shape, r: Region, epsilon: number, momentum: number): { forward: Step[]; backward: Step[] } {
  const { height: H, width: W, channels: C } = s;
  const Ho = H >> 1;
  const Wo = W >> 1;
  const M = B * H * W;
  const R = blockRows(C);
  const rows = B * Ho;
  const Rp = fusedBlockRows(Wo, C);
  const pooledBlocks = Math.ceil(rows / Rp);
  return {
    forward: [
      (k, { t, T }) => {
        const [b0, b1] = share(Math.ceil(M / R), t, T);
        k.batchnormBlockStats(r.x, C, M, R, b0, b1, r.partials);
      },
      (k, { t, T }) => {
        const f = k as FusedKernels;
        const coefs = r.coefs[t]!;
        const mean = t === 0 ? r.mean : coefs;
        const scale = coefs + 4 * 2 * C;
        f.batchnormTrainStats(r.x, r.partials, C, M, R, epsilon, r.gamma, mean, t === 0 ? r.invstd : coefs + 4 * 3 * C, scale, momentum, t === 0 ? r.runMean : 0, t === 0 ? r.runVar : 0);
        const [r0, r1] = share(rows, t, T);
        f.bnReluMaxpoolForward(r.x, r.p, r.argmax, mean, scale, r.beta, H, W, C, Ho, Wo, 2, 2, r0, r1);
      },
    ],
    backward: [
      (k, { t, T }) => {
        const [b0, b1] = share(pooledBlocks, t, T);
        (k as FusedKernels).bnReluMaxpoolBackwardBlocks(r.x, r.dp, r.argmax, r.mean, H, W, C, Ho, Wo, 2, 2, rows, Rp, b0, b1, r.partials);
      },
      (k, { t, T }) => {
        const f = k as FusedKernels;
        f.bnReluMaxpoolCoefficients(r.partials, C, M, pooledBlocks, r.gamma, r.invstd, t === 0 ? r.dgamma : 0, r.dbeta, r.coefs[t]!);
        const [r0, r1] = share(B * H, t, T);
        f.bnReluMaxpoolBackwardApply(r.x, r.dp, r.argmax, r.dx, r.mean, r.coefs[t]!, H, W, C, Ho, Wo, 2, 2, r0, r1);
      },
    ],
  };
}

interface Phase {
  shape: string;
  name: string;
  /** Values of the phase's input tensor (for ns per value). */
  values: number;
  /** Least bytes moved, and how they are counted. */
  bytes: number;
  traffic: string;
  steps: Step[];
  /** Recorded calls per thread count: [T][thread][step]. */
  calls: Call[][][][];
  ms: number[][];
}

function phasesOf(s: Shape, r: Region): Phase[] {
  const n = shapeSize(s);
  const N = B * n;
  const name = `${s.height}x${s.width}x${s.channels}`;
  const bn = planned({ type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }, s);
  const maxpool = planned({ type: 'maxpool', size: 2, stride: 2 }, s);
  const avgpool = planned({ type: 'avgpool', size: 2, stride: 2 }, s);
  const gap = planned({ type: 'globalavgpool' }, s);
  const dropout = planned({ type: 'dropout', rate: 0.5 }, s);
  // The unfused chain: x -bn-> y -relu-> a -maxpool-> p; back: dp -> da -> dz -> dx.
  const bnIo = { x: r.x, y: r.y, dy: r.dz, dx: r.dx };
  const poolIo = { x: r.a, y: r.p, dy: r.dp, dx: r.da };
  const fused = fusedSteps(s, r, 1e-5, 0.1);
  const f = 4 * N; // bytes of one full tensor
  const phase = (label: string, bytes: number, traffic: string, steps: Step[]): Phase => ({ shape: name, name: label, values: N, bytes, traffic, steps, calls: [], ms: [] });
  return [
    phase('batchnorm forward, train', 3 * f, 'x twice, y', forwardSteps(batchnormCore, bn, r, bnIo, 'train')),
    phase('batchnorm forward, infer', 2 * f, 'x, y', forwardSteps(batchnormCore, bn, r, bnIo, 'infer')),
    phase('batchnorm backward', 5 * f, 'x, dy twice, dx', backwardSteps(batchnormCore, bn, r, bnIo)),
    phase('relu forward', 2 * f, 'z, a', reluSteps(n, r.y, r.a, null)),
    phase('relu backward', 3 * f, 'z, da, dz', reluSteps(n, r.y, r.a, { da: r.da, dz: r.dz })),
    phase('maxpool 2x2 forward, train', 1.5 * f, 'x, y, argmax', forwardSteps(maxpoolCore, maxpool, r, poolIo, 'train')),
    phase('maxpool 2x2 backward', 1.5 * f, 'dy, argmax, dx', backwardSteps(maxpoolCore, maxpool, r, poolIo)),
    phase('avgpool 2x2 forward', 1.25 * f, 'x, y', forwardSteps(avgpoolCore, avgpool, r, poolIo, 'train')),
    phase('avgpool 2x2 backward', 1.25 * f, 'dy, dx', backwardSteps(avgpoolCore, avgpool, r, poolIo)),
    phase('globalavgpool forward', f, 'x', forwardSteps(globalavgpoolCore, gap, r, { x: r.x, y: r.p, dy: r.dp, dx: r.dx }, 'train')),
    phase('globalavgpool backward', f, 'dx', backwardSteps(globalavgpoolCore, gap, r, { x: r.x, y: r.p, dy: r.dp, dx: r.dx })),
    phase('dropout forward, train', 3 * f, 'x, mask, y', forwardSteps(dropoutCore, dropout, r, { x: r.a, y: r.y, dy: r.dz, dx: r.da }, 'train')),
    phase('dropout backward', 3 * f, 'dy, mask, dx', backwardSteps(dropoutCore, dropout, r, { x: r.a, y: r.y, dy: r.dz, dx: r.da })),
    phase('bn+relu+maxpool forward, 3 layers', 8.5 * f, 'sum of the 3', [
      ...forwardSteps(batchnormCore, bn, r, bnIo, 'train'), ...reluSteps(n, r.y, r.a, null), ...forwardSteps(maxpoolCore, maxpool, r, poolIo, 'train'),
    ]),
    phase('bn+relu+maxpool forward, fused', 2.5 * f, 'x twice, p, argmax', fused.forward),
    phase('bn+relu+maxpool backward, 3 layers', 9.5 * f, 'sum of the 3', [
      ...backwardSteps(maxpoolCore, maxpool, r, poolIo), ...reluSteps(n, r.y, r.a, { da: r.da, dz: r.dz }), ...backwardSteps(batchnormCore, bn, r, bnIo),
    ]),
    phase('bn+relu+maxpool backward, fused', 3.5 * f, 'x twice, dp, argmax twice, dx', fused.backward),
  ];
}

function fillRegion(memory: WebAssembly.Memory, r: Region): void {
  const rng = new Rng(5);
  const fill = (address: number, count: number, f: () => number) => {
    const v = new Float32Array(memory.buffer, address, count);
    for (let i = 0; i < count; i++) v[i] = f();
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
  fill(r.x, MAX_VALUES, () => 0.5 + gauss());
  fill(r.dz, MAX_VALUES, () => 1e-3 * gauss());
  fill(r.dp, MAX_VALUES / 4, () => 1e-3 * gauss());
  fill(r.gamma, MAX_CHANNELS, () => 1 + 0.1 * gauss());
  fill(r.beta, MAX_CHANNELS, () => 0.1 * gauss());
  fill(r.runMean, MAX_CHANNELS, () => 0);
  fill(r.runVar, MAX_CHANNELS, () => 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kernel: { type: 'string', default: 'relaxed-simd' }, rounds: { type: 'string' } } });
  const kernel = values.kernel as WasmKernelName;
  if (kernel !== 'relaxed-simd' && kernel !== 'simd') throw new Error(`--kernel: relaxed-simd or simd, found ${JSON.stringify(values.kernel)}`);
  const rounds = positiveOption('rounds', values.rounds, 9);
  loadKernels(kernel, join(root, 'dist', 'core')); // turns relaxed SIMD on in Node 20, or says why not
  const module = await compileExperiment(kernel);
  const probe = instantiate(module, new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }));
  const { region, bytes } = layoutRegions(probe.heapBase());
  const pages = Math.ceil(bytes / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const k = instantiate(module, memory);
  fillRegion(memory, region);
  const pair = new TwoThreads(module, memory);
  try {
    say(`nn-train layer kernels: ${kernel}, batch ${B}, median of ${rounds} interleaved rounds; 1 thread, and ${THREADS} (the calling thread + 1 worker)`);
    say(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, Node ${process.versions.node}`);
    const phases = SHAPES.flatMap((s) => phasesOf(s, region));
    for (const p of phases) {
      p.calls = [1, THREADS].map((T) => Array.from({ length: T }, (_, t) => record(k, p.steps, t, T)));
      p.ms = [[], []];
    }
    const timeOnce = (p: Phase, T: number): number => {
      const t0 = performance.now();
      if (T === 1) for (const calls of p.calls[0]![0]!) replay(k, calls);
      else pair.runSteps(k, p.calls[1]![0]!);
      return performance.now() - t0;
    };
    // Warm-up (tiering up every kernel), then interleaved rounds.
    for (const p of phases) {
      pair.load(p.calls[1]![1]!);
      for (let i = 0; i < 3; i++) timeOnce(p, 1), timeOnce(p, THREADS);
    }
    for (let round = 0; round < rounds; round++) {
      for (const p of phases) {
        p.ms[0]!.push(timeOnce(p, 1));
        pair.load(p.calls[1]![1]!);
        p.ms[1]!.push(timeOnce(p, THREADS));
      }
    }
    const result: Record<string, Record<string, { ms: number[]; nsPerValue: number[]; gbps: number[] }>> = {};
    let shape = '';
    for (const p of phases) {
      if (p.shape !== shape) {
        shape = p.shape;
        say(`\n${shape} x ${B} (${((4 * p.values) / 2 ** 20).toFixed(1)} MiB per tensor)        1 thread: ms  ns/value  GB/s   ${THREADS} threads: ms  ns/value  GB/s   traffic`);
      }
      const ms = p.ms.map(median);
      const ns = ms.map((m) => (m * 1e6) / p.values);
      const gbps = ms.map((m) => p.bytes / m / 1e6);
      const cells = ms.map((m, i) => `${m.toFixed(2).padStart(8)} ${ns[i]!.toFixed(2).padStart(8)} ${gbps[i]!.toFixed(1).padStart(6)}`);
      say(`  ${p.name.padEnd(36)} ${cells[0]}          ${cells[1]}   ${p.traffic}`);
      const round2 = (v: number) => Math.round(v * 100) / 100;
      (result[shape] ??= {})[p.name] = { ms: ms.map(round2), nsPerValue: ns.map(round2), gbps: gbps.map(round2) };
    }
    process.stdout.write(JSON.stringify({ kernel, batch: B, threads: [1, THREADS], rounds, layers: result }) + '\n');
  } finally {
    await pair.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
