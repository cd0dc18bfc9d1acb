/**
 * `--device cpu|gpu|auto` (training.device): which core runs the network. gpu needs the optional
 * package webgpu and an adapter (exit 2 with what was looked for and how to get one, otherwise);
 * auto takes a GPU only when it is a hardware one (lavapipe and other CPU adapters are for tests),
 * and says which it took.
 */
import { UserError } from '../errors.ts';
import type { GpuAdapterInfo } from '../core/gpu/adapter.ts';
import type { GpuBufferLimits } from '../core/gpu/memory.ts';

export const DEVICE_CHOICES = ['cpu', 'gpu', 'auto'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

export interface ResolvedDevice {
  device: 'cpu' | 'gpu';
  adapter: GpuAdapterInfo | null;
  /** The adapter's limits on one buffer (the GPU core asks for them): what a batch must fit in. */
  limits: GpuBufferLimits | null;
  /** For the start line: "gpu, nvidia nvidia-h200", "cpu (auto: only a software adapter, ...)". */
  description: string;
}

const found = new Map<DeviceChoice, Promise<ResolvedDevice>>();

/** The device a choice gives on this machine (looked up once per process). `what` names the flag or field in errors. */
export function resolveDevice(choice: DeviceChoice, what = '--device'): Promise<ResolvedDevice> {
  let p = found.get(choice);
  if (!p) {
    p = lookUp(choice, what);
    found.set(choice, p);
  }
  return p;
}

async function lookUp(choice: DeviceChoice, what: string): Promise<ResolvedDevice> {
  if (choice === 'cpu') return { device: 'cpu', adapter: null, limits: null, description: 'cpu' };
  const { findAdapter, describeAdapter, GPU_HELP } = await import('../core/gpu/adapter.ts');
  const result = await findAdapter();
  if (choice === 'gpu') {
    if ('missing' in result) throw new UserError(`${what} gpu: ${result.missing}; ${GPU_HELP}`);
    return { device: 'gpu', adapter: result.info, limits: result.limits, description: `gpu, ${describeAdapter(result.info)}` };
  }
  if ('missing' in result) return { device: 'cpu', adapter: null, limits: null, description: `cpu (auto: ${result.missing})` };
  if (result.info.software) return { device: 'cpu', adapter: null, limits: null, description: `cpu (auto: the only GPU adapter is a software one, ${describeAdapter(result.info)})` };
  return { device: 'gpu', adapter: result.info, limits: result.limits, description: `gpu (auto), ${describeAdapter(result.info)}` };
}
