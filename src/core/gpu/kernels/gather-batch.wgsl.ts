import { FLAT_INDEX, STEP_STRUCT } from './common.ts';

/** Buffers the held images may be spread over (storage bindings are few: 8 per stage by default). */
export const IMAGE_BUFFERS = 4;

/**
 * The batch's inputs formed on the GPU from the held images (src/core/batch-rows.ts): one thread
 * per input value i = r * D + (row * width + col) * channels + c of row r,
 *
 *   v = stored_image[top + row][left + col'][c]   (0 outside the stored image: a padded window),
 *   col' = mirror ? width - 1 - col : col,
 *   x[i] = table[c * 256 + levels_r[v]]
 *
 * The images are bytes packed four to a u32 word (WGSL has no 8-bit storage), as are the levels;
 * they lie in IMAGE_BUFFERS buffers of G.perBuffer whole images each (one buffer may hold less than
 * the data set: lavapipe binds at most 128 MiB), image i in buffer i / perBuffer.
 */
export default /* wgsl */ `
${STEP_STRUCT}
${FLAT_INDEX}
struct Gather { width: u32, height: u32, channels: u32, decodeWidth: u32, decodeHeight: u32, stored: u32, inputSize: u32, rowWords: u32, perBuffer: u32 }
@group(0) @binding(1) var<uniform> G: Gather;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read> table: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;
@group(0) @binding(5) var<storage, read> pixels0: array<u32>;
@group(0) @binding(6) var<storage, read> pixels1: array<u32>;
@group(0) @binding(7) var<storage, read> pixels2: array<u32>;
@group(0) @binding(8) var<storage, read> pixels3: array<u32>;

fn pixelWord(buffer: u32, index: u32) -> u32 {
  switch buffer {
    case 0u: { return pixels0[index]; }
    case 1u: { return pixels1[index]; }
    case 2u: { return pixels2[index]; }
    default: { return pixels3[index]; }
  }
}

fn byteAt(word: u32, index: u32) -> u32 { return (word >> ((index & 3u) * 8u)) & 255u; }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flatIndex(g, nw);
  if (i >= step.batch * G.inputSize) { return; }
  let r = i / G.inputSize;
  let k = i % G.inputSize;
  let c = k % G.channels;
  let p = k / G.channels;
  let col = p % G.width;
  let row = p / G.width;
  let base = r * G.rowWords;
  let image = rows[base];
  let left = bitcast<i32>(rows[base + 1u]);
  let top = bitcast<i32>(rows[base + 2u]);
  let mirrored = rows[base + 3u] == 1u;
  let sx = left + i32(select(col, G.width - 1u - col, mirrored));
  let sy = top + i32(row);
  var v = 0u;
  if (sx >= 0 && sy >= 0 && u32(sx) < G.decodeWidth && u32(sy) < G.decodeHeight) {
    let at = (image % G.perBuffer) * G.stored + (u32(sy) * G.decodeWidth + u32(sx)) * G.channels + c;
    v = byteAt(pixelWord(image / G.perBuffer, at / 4u), at);
  }
  let level = byteAt(rows[base + 4u + v / 4u], v);
  x[i] = table[c * 256u + level];
}
`;
