// Compiles the AssemblyScript kernels (index.as.ts and the files it imports) into two WebAssembly
// modules: dist/core/kernels-relaxed.wasm (fused multiply-add from the relaxed-SIMD proposal) and
// dist/core/kernels-simd.wasm (plain SIMD128). Called by src/tools/build.mjs; offline, a few
// seconds, byte-identical output for the same source.
//
// Flags: SIMD is not on by default in asc 0.28; the memory is imported (env.memory) and shared so
// that every worker thread runs its own instance over the same buffers; the stub runtime and
// --noAssert because the kernels allocate nothing and check nothing (src/core checks shapes).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export const KERNEL_FLAVOURS = {
  'relaxed-simd': { file: 'kernels-relaxed.wasm', features: ['simd', 'threads', 'relaxed-simd'] },
  simd: { file: 'kernels-simd.wasm', features: ['simd', 'threads'] },
};

/** The compiler's arguments for one flavour. */
function kernelArgs(entry, outFile, flavour) {
  return [
    entry,
    '--outFile', outFile,
    '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
    '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
    ...flavour.features.flatMap((f) => ['--enable', f]),
  ];
}

/** Builds both flavours from `root`/src/core/kernels into `outDir` (default `root`/dist/core). */
export async function buildKernels(root, outDir = join(root, 'dist', 'core')) {
  const { default: asc } = await import('assemblyscript/asc');
  await mkdir(outDir, { recursive: true });
  const entry = join(root, 'src', 'core', 'kernels', 'index.as.ts');
  for (const [name, flavour] of Object.entries(KERNEL_FLAVOURS)) {
    const args = kernelArgs(entry, join(outDir, flavour.file), flavour);
    let log = '';
    const sink = { write: (text) => { log += text; return true; } };
    const { error } = await asc.main(args, { stdout: sink, stderr: sink });
    if (error) throw new Error(`building the ${name} kernels failed: ${error.message}\n${log}`);
  }
}
