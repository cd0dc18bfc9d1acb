/** The geometry of a convolution (src/nn/layers/conv.ts convGeometry) as the conv kernels read it. */
export const CONV_STRUCT = /* wgsl */ `
struct Conv { H: i32, W: i32, C: i32, Ho: i32, Wo: i32, F: i32, k: i32, stride: i32, padTop: i32, padLeft: i32, wOff: u32, bOff: u32 }
@group(0) @binding(1) var<uniform> L: Conv;
`;

/**
 * The implicit im2col of the tiled kernels (no im2col buffer): A[m, kk] = x[n, oy stride - padTop + ky,
 * ox stride - padLeft + kx, c] for output row m = (n, oy, ox) and filter tap kk = (ky, kx, c), 0 in the
 * padding. Needs CONV_STRUCT and a binding named x.
 */
export const CONV_GATHER = /* wgsl */ `
fn gather(m: u32, kk: u32) -> f32 {
  let c = i32(kk % u32(L.C));
  let tap = i32(kk / u32(L.C));
  let kx = tap % L.k;
  let ky = tap / L.k;
  let pos = i32(m);
  let ox = pos % L.Wo;
  let oy = (pos / L.Wo) % L.Ho;
  let n = pos / (L.Wo * L.Ho);
  let iy = oy * L.stride - L.padTop + ky;
  let ix = ox * L.stride - L.padLeft + kx;
  if (iy < 0 || iy >= L.H || ix < 0 || ix >= L.W) { return 0.0; }
  return x[((n * L.H + iy) * L.W + ix) * L.C + c];
}
`;
