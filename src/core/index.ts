// The gradient core's public surface (see core.ts for the API and its use).
export { createCore, defaultWorkers, CoreError, type Core, type CoreOptions, type RegularizationOptions } from './core.ts';
export type { KernelChoice, KernelName } from './kernels.ts';
