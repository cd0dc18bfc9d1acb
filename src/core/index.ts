// The gradient core's public surface (see core.ts for the API and its use).
export { checkCoreMemory, createCore, defaultWorkers, CoreError, type Core, type CoreOptions, type LayerProfile, type RegularizationOptions } from './core.ts';
export { CoreMemoryError } from './layout.ts';
export { KERNEL_CHOICES, type KernelChoice, type KernelName } from './kernels.ts';
