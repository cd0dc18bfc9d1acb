// Build: bundle src/ with esbuild (one ES module per entry point, shared chunks split out so that
// heavy modules stay lazily imported), then compile the WebAssembly kernels when their build step
// exists. Runs on `npm ci` through the `prepare` script; needs no network.
//
// Two folders: dist/ holds the product (the commands, the core's worker, the decoder process, the
// demo) and is what ships (package.json "files"); dist-bench/ holds the benchmarks for `npm run
// bench*` from a clone, and never ships. A benchmark finds the core's worker and kernels in dist/
// (from the package root) and the resize kernel there too (resize.ts looks in ../../dist/data); the
// decoder process it starts is looked for next to its bundles, so dist-bench/ gets its own.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const present = (paths) => paths.filter((p) => existsSync(join(root, p)));
const product = present([
  'src/cli/nn-train.ts',
  'src/cli/nn-eval.ts',
  'src/cli/nn-plot.ts',
  'src/cli/nn-export.ts',
  'src/core/worker.ts',
  'src/core/gpu/gpu-worker.ts',
  'src/data/decode-child.ts',
  'src/data/demo.ts',
]);
// Every benchmark in src/bench (common.ts is their shared part, not a command).
const benchDir = join(root, 'src', 'bench');
const benchmarks = existsSync(benchDir)
  ? readdirSync(benchDir)
      .filter((f) => f.endsWith('.ts') && f !== 'common.ts')
      .sort()
      .map((f) => `src/bench/${f}`)
  : [];

async function bundle(entryPoints, outdir) {
  rmSync(join(root, outdir), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints,
    outdir,
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
}

await bundle(product, 'dist');
if (benchmarks.length > 0) await bundle([...benchmarks, 'src/data/decode-child.ts'], 'dist-bench');

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
