/**
 * Loading the WebAssembly kernels (built from src/core/kernels/*.as.ts by `npm run build`) and
 * choosing the flavour: relaxed-SIMD fused multiply-add when the runtime accepts it, plain SIMD
 * otherwise. Node 20 (V8 11.3) only accepts relaxed SIMD behind a flag; V8 flags are process-wide,
 * so setting it before compiling also covers the worker threads (they get the compiled module).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';

/**
 * The WebAssembly kernel flavours and their files (src/core/kernels/build.mjs writes the same files:
 * test/nn-layers-registry.test.ts holds the two together), then every kernel choice the commands
 * and createCore take: the flavours, 'js' (the TypeScript path), 'auto'.
 */
export const KERNEL_FILES = {
  'relaxed-simd': 'kernels-relaxed.wasm',
  simd: 'kernels-simd.wasm',
} as const;
export type WasmKernelName = keyof typeof KERNEL_FILES;
export const KERNEL_CHOICES = ['auto', ...(Object.keys(KERNEL_FILES) as WasmKernelName[]), 'js'] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];
export type KernelName = Exclude<KernelChoice, 'auto'>;

/** Sizes the kernels were compiled with (read from the module by probeGeometry). */
export interface KernelGeometry {
  panelWidth: number;
  panelStride: number;
  inputPanelWidth: number;
  listEntryBytes: number;
  /** Output positions per block of the direct convolution (conv.as.ts), and tiles per block of Winograd's (conv-winograd.as.ts). */
  convBlockPositions: number;
  winogradBlockTiles: number;
}

/** The functions every kernel module exports (addresses are byte offsets into the shared memory). */
export interface KernelExports {
  heapBase(): number;
  weightPanelWidth(): number;
  panelStride(): number;
  inputPanelWidth(): number;
  listEntryBytes(): number;
  panelCount(nIn: number): number;
  denseForward(X: number, ldx: number, W: number, nIn: number, bias: number, Z: number, ldz: number, B: number, o0: number, o1: number): void;
  packPanels(X: number, nIn: number, B: number, Xp: number, p0: number, p1: number): void;
  weightGradient(dZ: number, nOut: number, Xp: number, nIn: number, B: number, o0: number, o1: number, dW: number, db: number, lists: number, counts: number): void;
  inputGradient(dZ: number, nOut: number, W: number, nIn: number, B: number, c0: number, c1: number, dX: number, lists: number, counts: number, panel: number): void;
  // Activations (activation.as.ts): `kind` is the module's global activation_<name>; `slope` leaky ReLU's.
  activationForward(kind: number, slope: number, Z: number, A: number, ld: number, B: number, c0: number, c1: number): void;
  activationBackward(kind: number, slope: number, Z: number, A: number, dA: number, dZ: number, ld: number, B: number, c0: number, c1: number): void;
  readonly [activationId: `activation_${string}`]: { readonly value: number } | undefined;
  applyUpdate(step: number, e0: number, n: number, isWeight: number): void;
  sumSquares(step: number, e0: number, n: number, isWeight: number): number;
  // 2-D convolution (conv.as.ts, conv-winograd.as.ts): geometry as in src/nn/layers/conv.ts,
  // addresses in bytes; buffer sizes in src/core/layers/conv.ts.
  convBlockPositions(): number;
  convPackForward(Wt: number, bias: number, F: number, K: number, Wp: number, g0: number, g1: number): void;
  convForward(x: number, H: number, W: number, C: number, y: number, Ho: number, Wo: number, F: number, k: number, s: number, pt: number, pl: number, Wp: number, p0: number, p1: number, panel: number): void;
  convWeightGradient(x: number, H: number, W: number, C: number, dy: number, Ho: number, Wo: number, F: number, k: number, s: number, pt: number, pl: number, p0: number, p1: number, dW: number, f0: number, f1: number, panel: number): void;
  convSumPartials(src: number, stride: number, count: number, dst: number, i0: number, i1: number): void;
  convBiasGradient(dy: number, F: number, nPos: number, db: number, f0: number, f1: number): void;
  convPackInputGradient(Wt: number, F: number, C: number, k: number, s: number, Wq: number, g0: number, g1: number): void;
  convInputGradient(dy: number, Ho: number, Wo: number, F: number, dx: number, H: number, W: number, C: number, k: number, s: number, pt: number, pl: number, Wq: number, r0: number, r1: number, panel: number): void;
  winogradBlockTiles(): number;
  winogradPack(Wt: number, F: number, C: number, flip: number, Up: number, g0: number, g1: number): void;
  winogradForward(x: number, H: number, W: number, Cin: number, y: number, Ho: number, Wo: number, Cout: number, pt: number, pl: number, Up: number, bias: number, t0: number, t1: number, scratch: number, Vall: number): void;
  winogradWeightGradient(Vall: number, C: number, dy: number, Ho: number, Wo: number, F: number, B: number, dW: number, f0: number, f1: number, scratch: number): void;
  // Batch norm (batchnorm.as.ts): partial sums of fixed row blocks, then per-channel coefficients, then rows.
  batchnormBlockStats(x: number, C: number, M: number, R: number, b0: number, b1: number, partials: number): void;
  batchnormTrainStats(
    x: number, partials: number, C: number, M: number, R: number, epsilon: number, gamma: number, beta: number, sums: number,
    mean: number, invstd: number, coefs: number, momentum: number, runMean: number, runVar: number,
  ): void;
  batchnormInferScale(gamma: number, runVar: number, epsilon: number, C: number, scale: number): void;
  batchnormNormalize(x: number, y: number, C: number, r0: number, r1: number, centre: number, scale: number, shift: number): void;
  batchnormNormalizeRelu(x: number, y: number, C: number, r0: number, r1: number, centre: number, scale: number, shift: number): void;
  batchnormBackwardBlocks(x: number, dy: number, mean: number, C: number, M: number, R: number, b0: number, b1: number, partials: number): void;
  batchnormBackwardBlocksRelu(x: number, dy: number, mean: number, coefs: number, C: number, M: number, R: number, b0: number, b1: number, partials: number): void;
  batchnormBackwardCoefficients(
    partials: number, C: number, M: number, blocks: number, gamma: number, mean: number, invstd: number, dgamma: number, dbeta: number,
    sums: number, coefs: number,
  ): void;
  batchnormBackwardApply(x: number, dy: number, dx: number, mean: number, coefs: number, C: number, r0: number, r1: number): void;
  batchnormBackwardApplyRelu(x: number, dy: number, dx: number, mean: number, gate: number, coefs: number, C: number, r0: number, r1: number): void;
  // Pooling (maxpool.as.ts, avgpool.as.ts, pool.as.ts, globalavgpool.as.ts): forward by output rows, backward by dx rows.
  maxpoolForward(x: number, y: number, argmax: number, H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number): void;
  maxpoolForwardBatchnormRelu(
    x: number, y: number, argmax: number, H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number,
    centre: number, scale: number, shift: number,
  ): void;
  avgpoolForward(x: number, y: number, H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number): void;
  poolBackward(dy: number, argmax: number, dx: number, H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number): void;
  maxpoolBackwardGated(dy: number, argmax: number, y: number, dx: number, H: number, W: number, C: number, Ho: number, Wo: number, size: number, stride: number, r0: number, r1: number): void;
  globalavgpoolJobs(B: number, C: number): number;
  globalavgpoolForward(x: number, y: number, P: number, C: number, j0: number, j1: number): void;
  globalavgpoolBackward(dy: number, dx: number, P: number, C: number, r0: number, r1: number): void;
  // Dropout (dropout.as.ts): masks from the counter-based noise of noise.as.ts.
  dropoutForward(x: number, y: number, mask: number, key: number, rate: number, i0: number, i1: number): void;
  dropoutInfer(x: number, y: number, i0: number, i1: number): void;
  dropoutBackward(dy: number, mask: number, dx: number, i0: number, i1: number): void;
}

/** Kind numbers of src/core/kernels/update.as.ts. */
export const OPTIMIZER_KIND = { sgd: 0, momentum: 1, nesterov: 2, rmsprop: 3, adam: 4 } as const;

/**
 * Whether the runtime accepts these module bytes, turning relaxed SIMD on first if needed: V8 11.3
 * (Node 20) keeps it behind --experimental-wasm-relaxed-simd, later versions ship it.
 */
function validates(name: WasmKernelName, bytes: Uint8Array): boolean {
  if (WebAssembly.validate(bytes)) return true;
  if (name !== 'relaxed-simd') return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

export interface LoadedKernels {
  name: WasmKernelName;
  module: WebAssembly.Module;
}

/**
 * Compiles the kernel module for `choice` from `dir` (the folder holding the .wasm files).
 * 'auto' takes relaxed SIMD when the runtime validates it, else plain SIMD; returns null when the
 * runtime has no WebAssembly SIMD at all (the caller then uses the TypeScript path).
 * An explicit choice the runtime cannot run is an error.
 */
export function loadKernels(choice: Exclude<KernelChoice, 'js'>, dir: string): LoadedKernels | null {
  const read = (name: WasmKernelName): Uint8Array => {
    const path = join(dir, KERNEL_FILES[name]);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`gradient core: cannot read the ${name} kernels at ${path} (run \`npm run build\`): ${(err as Error).message}`);
    }
  };
  const order: WasmKernelName[] = choice === 'auto' ? ['relaxed-simd', 'simd'] : [choice];
  for (const name of order) {
    const bytes = read(name);
    if (validates(name, bytes)) return { name, module: new WebAssembly.Module(bytes) };
    if (choice !== 'auto') throw new Error(`gradient core: this runtime (Node ${process.versions.node}) cannot run the ${name} kernels`);
  }
  return null;
}

/**
 * The module's static data size and its compiled-in panel sizes, read from a throwaway instance:
 * what computeLayout (layout.ts) needs besides the network.
 */
export function probeGeometry(module: WebAssembly.Module): { heapBase: number; geometry: KernelGeometry } {
  const probe = instantiate(module, new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true }));
  return {
    heapBase: probe.heapBase(),
    geometry: {
      panelWidth: probe.weightPanelWidth(),
      panelStride: probe.panelStride(),
      inputPanelWidth: probe.inputPanelWidth(),
      listEntryBytes: probe.listEntryBytes(),
      convBlockPositions: probe.convBlockPositions(),
      winogradBlockTiles: probe.winogradBlockTiles(),
    },
  };
}

/** Instantiates the kernels over the shared memory (one instance per thread). */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}
