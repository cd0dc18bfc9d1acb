// Build: bundle src/ into dist/ with esbuild (one ES module per entry point, shared chunks split out
// so that heavy modules stay lazily imported), then compile the WebAssembly kernels when their
// build step exists. Runs on `npm ci` through the `prepare` script; needs no network.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entries = [
  'src/cli/nn-train.ts',
  'src/cli/nn-eval.ts',
  'src/cli/nn-plot.ts',
  'src/cli/nn-export.ts',
  'src/core/worker.ts',
  'src/data/decode-child.ts',
  'src/bench/core.ts',
  'src/bench/data.ts',
  'src/bench/eval.ts',
  'src/bench/genetic.ts',
  'src/bench/layers.ts',
  'src/bench/lr-finder.ts',
  'src/bench/parity.ts',
  'src/data/demo.ts',
].filter((p) => existsSync(join(root, p)));

rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});

const wasmBuild = join(root, 'src/core/kernels/build.mjs');
if (existsSync(wasmBuild)) {
  const { buildKernels } = await import(wasmBuild);
  await buildKernels(root);
}

const resizeBuild = join(root, 'src/data/resize-build.mjs');
if (existsSync(resizeBuild)) {
  const { buildResizeKernel } = await import(resizeBuild);
  await buildResizeKernel(root);
}
