// The numerical core's public surface: pure math on typed arrays, no I/O, no dependencies.
export * from './activations.ts';
export * from './architecture.ts';
export * from './dense.ts';
export * from './gradcheck.ts';
export * from './init.ts';
export * from './losses.ts';

export * from './network.ts';
export * from './rng.ts';
