/**
 * `npm run bench:layers [-- --kernel relaxed-simd|simd] [--rounds R]`: the memory-bound layer
 * kinds of the gradient core (batch norm, max and average pooling, global average pooling,
 * dropout, and ReLU next to them) on the reference CNN's activation shapes at batch 64
 * (64x64x32, 32x32x64, 16x16x128, 8x8x256), on 1 thread and on 2.
 *
 * Small networks on each shape (a ReLU first, so that the measured layers compute their input
 * gradient, then the layers, then flatten and dense 1), timed through the core with its per-layer
 * profile: forward in training and in inference mode, backward. Real jobs, barriers and thread
 * splits (createCore's defaults). Batch norm, ReLU and max pool alone, and the three in a row as
 * the core runs them after a convolution, folded into one layer's passes (layers/fusion.ts).
 * Figures: medians of R interleaved rounds (default 9) in milliseconds, nanoseconds per input value,
 * and GB/s of the least memory traffic (every buffer read or written once, as the "traffic" column
 * counts it). Human-readable lines go to stderr, one JSON object to stdout (the last line).
 * Run it alone, under `flock /tmp/bench.lock`.
 */
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCore, type Core } from '../core/index.ts';
import { loadKernels, type WasmKernelName } from '../core/kernels.ts';
import { initParams } from '../nn/init.ts';
import type { LayerSpec } from '../nn/layers/spec.ts';
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

/** A network on `shape` whose layers 1..measured.length are timed (layer 0, a ReLU, gives them a dx). */
function networkOf(shape: Shape, measured: LayerSpec[]): { input: Shape; layers: LayerSpec[] } {
  return { input: shape, layers: [RELU, ...measured, { type: 'flatten' }, { type: 'dense', units: 1, bias: true }] };
}

interface Probe {
  label: string;
  /** Indices of the layers in the network (their times added), and the least traffic of each phase (in full tensors of its input, and how). */
  layers: number[];
  forward: [number, string];
  infer: [number, string];
  backward: [number, string];
}

/** The networks of one shape and what to read from their profiles. */
function probesOf(shape: Shape): { layers: LayerSpec[]; probes: Probe[] }[] {
  const ratio = shapeSize({ ...shape, height: shape.height >> 1, width: shape.width >> 1 }) / shapeSize(shape);
  return [
    {
      layers: [BN],
      probes: [{ label: 'batchnorm', layers: [1], forward: [3, 'x twice, y'], infer: [2, 'x, y'], backward: [5, 'x and dy twice, dx'] }],
    },
    {
      layers: [RELU],
      probes: [{ label: 'relu', layers: [1], forward: [2, 'x, y'], infer: [2, 'x, y'], backward: [3, 'x, dy, dx'] }],
    },
    {
      layers: [MAXPOOL],
      probes: [{ label: 'maxpool 2x2', layers: [1], forward: [1 + 2 * ratio, 'x, y, argmax'], infer: [1 + ratio, 'x, y'], backward: [1 + 2 * ratio, 'dy, argmax, dx'] }],
    },
    {
      // The three as the core runs them after a convolution: folded (src/core/layers/fusion.ts).
      layers: [BN, RELU, MAXPOOL],
      probes: [
        {
          label: 'batchnorm + relu + maxpool',
          layers: [1, 2, 3],
          forward: [3 + 2 * ratio, 'x 3 times, pooled y, argmax'],
          infer: [1 + ratio, 'x, pooled y'],
          backward: [6 + 3 * ratio, 'pool: dy, argmax, y, dx; x and dy twice, dx'],
        },
      ],
    },
    {
      layers: [{ type: 'avgpool', size: 2, stride: 2 }],
      probes: [{ label: 'avgpool 2x2', layers: [1], forward: [1 + ratio, 'x, y'], infer: [1 + ratio, 'x, y'], backward: [1 + ratio, 'dy, dx'] }],
    },
    {
      layers: [{ type: 'dropout', rate: 0.5 }, { type: 'globalavgpool' }],
      probes: [
        { label: 'dropout 0.5', layers: [1], forward: [3, 'x, mask, y'], infer: [2, 'x, y'], backward: [3, 'dy, mask, dx'] },
        { label: 'globalavgpool', layers: [2], forward: [1, 'x'], infer: [1, 'x'], backward: [1, 'dx'] },
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
            const ms = (times: Float64Array, layers: number[]): number => layers.reduce((sum, l) => sum + times[l]! * 1000, 0);
            const train = rows.map((row) => ms(row.phase === 'backward' ? profile.backward : profile.forward, row.p.layers));
            core.resetProfile();
            core.evaluate(B);
            if (r < 2) return; // warm-up rounds
            rows.forEach((row, j) => row.ms[i]!.push(row.phase === 'forward, infer' ? ms(profile.forward, row.p.layers) : train[j]!));
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
  show('per layer, through the core (createCore, profile)', await throughTheCore(kernel, rounds));
  process.stdout.write(JSON.stringify({ kernel, batch: B, threads: [1, THREADS], rounds, layers: json }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
