/** The geometry of a convolution (src/nn/layers/conv.ts convGeometry) as the conv kernels read it. */
export const CONV_STRUCT = /* wgsl */ `
struct Conv { H: i32, W: i32, C: i32, Ho: i32, Wo: i32, F: i32, k: i32, stride: i32, padTop: i32, padLeft: i32, wOff: u32, bOff: u32 }
@group(0) @binding(1) var<uniform> L: Conv;
`;
