// The layer kinds of the network: the registry (registry.ts, one entry per kind) and what the
// planner and the other folders use of them. How to add a kind: README.md in this folder.
export * from './layer.ts';
export * from './registry.ts';
export * from './spec.ts';
export { convGeometry, type ConvGeometry } from './conv.ts';
