// The numerical core's public surface: pure math on typed arrays, no I/O, no dependencies.
export * from './activations.ts';
export * from './gradcheck.ts';
export * from './init.ts';
export * from './layers/index.ts';
export * from './losses.ts';
export * from './network.ts';
export * from './plan.ts';
export * from './shape.ts';
