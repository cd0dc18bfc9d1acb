// Compiles the resize passes (src/data/resize.as.ts) into dist/data/resize.wasm: plain SIMD128, no
// threads, memory imported (src/data/resize.ts sizes it), stub runtime and --noAssert because the
// passes allocate nothing and check nothing (resize.ts lays the buffers out). Called by
// src/tools/build.mjs; offline, a second, byte-identical output for the same source.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Builds `root`/src/data/resize.as.ts into `outDir` (default `root`/dist/data). */
export async function buildResizeKernel(root, outDir = join(root, 'dist', 'data')) {
  const { default: asc } = await import('assemblyscript/asc');
  await mkdir(outDir, { recursive: true });
  const args = [
    join(root, 'src', 'data', 'resize.as.ts'),
    '--outFile', join(outDir, 'resize.wasm'),
    '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
    '--importMemory', '--initialMemory', '1', '--enable', 'simd',
  ];
  let log = '';
  const sink = { write: (text) => { log += text; return true; } };
  const { error } = await asc.main(args, { stdout: sink, stderr: sink });
  if (error) throw new Error(`building the resize kernel failed: ${error.message}\n${log}`);
}
