/**
 * Finding a WebGPU adapter through the optional npm package `webgpu` (Dawn's Node bindings: Vulkan
 * on Linux, Metal on macOS, D3D12 on Windows). The package is imported here, lazily, and only by the
 * GPU paths (`--device gpu|auto`): `npm ci --omit=optional` and every CPU path work without it.
 */

import type { GpuBufferLimits } from './memory.ts';

/** What an adapter says about itself (GPUAdapterInfo), and whether it is a software one. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (Mesa's lavapipe says architecture "software"; Dawn's SwiftShader too). */
  software: boolean;
}

/** Where an adapter was looked for, and how to get one: the second half of every "no GPU" message. */
export const GPU_HELP =
  'looked for a WebGPU adapter through the npm package webgpu (Dawn: Vulkan on Linux, Metal on macOS, D3D12 on Windows); ' +
  'install the GPU vendor\'s driver (on Linux one with Vulkan), or Mesa >= 24\'s lavapipe for a CPU one (src/tools/install-lavapipe.sh as root), or use --device cpu';

/** The module `webgpu` exports (its own types need @webgpu/types; only this much is used). */
export interface WebgpuModule {
  create(flags: string[]): GPU;
  globals: object;
}

/** The package, or the reason it cannot be loaded (not installed: an optional dependency). */
export async function loadWebgpu(): Promise<{ module: WebgpuModule } | { missing: string }> {
  try {
    const module = (await import('webgpu')) as unknown as WebgpuModule;
    // The WebGPU constants (GPUBufferUsage, GPUMapMode, ...) are globals in a browser; Dawn hands them over.
    Object.assign(globalThis, module.globals);
    return { module };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { missing: 'the optional package webgpu is not installed (npm install webgpu@0.6.2)' };
    return { missing: `the package webgpu does not load here: ${(err as Error).message.split('\n')[0]}` };
  }
}

export function describeAdapter(info: GpuAdapterInfo): string {
  const name = info.description || info.device || 'unnamed adapter';
  return `${info.vendor || 'unknown vendor'} ${name}${info.architecture ? ` (${info.architecture})` : ''}`;
}

export function adapterInfo(adapter: GPUAdapter): GpuAdapterInfo {
  const i = adapter.info;
  const software = i.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${i.device} ${i.description}`);
  return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, software };
}

/** The Vulkan loader Dawn opens on Linux. */
export const VULKAN_LOADER = 'libvulkan.so.1';

/**
 * Whether the dynamic linker finds `library` (by its usual search: LD_LIBRARY_PATH, the linker's
 * cache, the system folders). Asked through process.dlopen, which opens the library as dlopen does
 * and then fails for anything that is not a Node addon: "cannot open" means it is not there.
 */
export function sharedLibraryFound(library: string): boolean {
  try {
    process.dlopen({ exports: {} }, library);
    return true; // (no library here is an addon)
  } catch (err) {
    return !/cannot open shared object file/i.test((err as Error).message);
  }
}

/**
 * The adapter Dawn offers by default (asked with no options: `forceFallbackAdapter` finds nothing
 * on lavapipe), or why there is none. Nothing stays open: the GPU object is dropped, so Node can exit.
 * On Linux without a Vulkan loader Dawn would print its own two-line warning (with a C++ source
 * location) before finding nothing, so the loader is looked for first.
 */
export async function findAdapter(): Promise<{ info: GpuAdapterInfo; limits: GpuBufferLimits } | { missing: string }> {
  const loaded = await loadWebgpu();
  if ('missing' in loaded) return loaded;
  if (process.platform === 'linux' && !sharedLibraryFound(VULKAN_LOADER)) return { missing: `no WebGPU adapter found: no Vulkan loader (${VULKAN_LOADER})` };
  let gpu: GPU | null = loaded.module.create([]);
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { missing: 'no WebGPU adapter found' };
    const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
    return { info: adapterInfo(adapter), limits: { maxStorageBufferBindingSize, maxBufferSize } };
  } finally {
    gpu = null;
  }
}
