/** The geometry of a max or average pooling layer (src/nn/layers/pool.ts poolGeometry) as the pooling kernels read it. */
export const POOL_STRUCT = /* wgsl */ `
struct Pool { H: i32, W: i32, C: i32, Ho: i32, Wo: i32, size: i32, stride: i32, _pad: i32 }
@group(0) @binding(1) var<uniform> L: Pool;
`;
