// The two backward products of a dense layer, both written as weighted sums of rows:
//
//   weight gradient   dW[o, :] = sum_s dZ[s, o] * X[s, :]     (rows o of one thread)
//   input gradient    dX[s, :] = sum_o dZ[s, o] * W[o, :]     (columns of one thread)
//
// dZ is (B, nOut) with rows nOut floats apart. Output rows are computed two at a time (rows 2r and
// 2r + 1, counted from 0 whatever the thread split, so the pairing never changes), from a list of
// (row of the panel, weight for output row a, weight for output row b) that leaves out the panel
// rows where both weights are zero: after ReLU about half of dZ is zero, and adding 0 * x changes
// no bit of a sum (for finite x). The panel holds the rows involved, copied next to each other so
// that the kernel streams contiguous memory (rows of X or W are nIn floats apart, which maps them
// onto the same cache sets).
//
// Every output element is a sum over the list in list order, one SIMD lane per element, so results
// do not depend on how rows or columns are split between threads. Register budget: 2 rows x 4
// vectors = 8 accumulators + 2 weights + 4 panel vectors = 14 of V8's ~15 SIMD registers (one more
// accumulator and V8 spills it to the stack, which halves the speed).
import { madd, at, packRows } from './simd.as';

/** Columns per panel for the weight gradient (a multiple of 16). */
const NC: i32 = 256;
/** Row stride of a weight-gradient panel: NC plus 16 floats, so panel rows do not share cache sets. */
const LDP: i32 = NC + 16;
/**
 * Output rows per block (an even number). A block's rows are written panel by panel, 16 streams
 * of NC floats that the prefetchers follow; one block of all rows measured ~3% slower.
 */
const RB: i32 = 16;
/** Columns per panel for the input gradient (a multiple of 16). */
const NCX: i32 = 64;
/** Bytes per list entry: panel row offset (i32), weight a (f32), weight b (f32). */
const ENTRY: i32 = 12;

export function weightPanelWidth(): i32 {
  return NC;
}
export function inputPanelWidth(): i32 {
  return NCX;
}
export function listEntryBytes(): i32 {
  return ENTRY;
}

/**
 * outA[j] = sum_k a_k * P[row_k, j] and outB[j] = sum_k b_k * P[row_k, j], for j in [0, n).
 * `list` holds count entries (byte offset of row_k in the panel P, a_k, b_k).
 */
export function combinePair(list: usize, count: i32, P: usize, outA: usize, outB: usize, n: i32): void {
  const end = list + <usize>(count * ENTRY);
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const base = at(P, j);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let e = list; e < end; e += ENTRY) {
      const p = base + <usize>load<i32>(e);
      const va = v128.load32_splat(e, 4);
      const vb = v128.load32_splat(e, 8);
      const x0 = v128.load(p);
      a0 = madd(va, x0, a0);
      b0 = madd(vb, x0, b0);
      const x1 = v128.load(p, 16);
      a1 = madd(va, x1, a1);
      b1 = madd(vb, x1, b1);
      const x2 = v128.load(p, 32);
      a2 = madd(va, x2, a2);
      b2 = madd(vb, x2, b2);
      const x3 = v128.load(p, 48);
      a3 = madd(va, x3, a3);
      b3 = madd(vb, x3, b3);
    }
    const oa = at(outA, j);
    v128.store(oa, a0);
    v128.store(oa, a1, 16);
    v128.store(oa, a2, 32);
    v128.store(oa, a3, 48);
    const ob = at(outB, j);
    v128.store(ob, b0);
    v128.store(ob, b1, 16);
    v128.store(ob, b2, 32);
    v128.store(ob, b3, 48);
  }
  for (; j + 4 <= n; j += 4) {
    const base = at(P, j);
    let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
    for (let e = list; e < end; e += ENTRY) {
      const x = v128.load(base + <usize>load<i32>(e));
      a0 = madd(v128.load32_splat(e, 4), x, a0);
      b0 = madd(v128.load32_splat(e, 8), x, b0);
    }
    v128.store(at(outA, j), a0);
    v128.store(at(outB, j), b0);
  }
  for (; j < n; j++) {
    const base = at(P, j);
    let ta: f32 = 0, tb: f32 = 0;
    for (let e = list; e < end; e += ENTRY) {
      const x = load<f32>(base + <usize>load<i32>(e));
      ta += load<f32>(e, 4) * x;
      tb += load<f32>(e, 8) * x;
    }
    store<f32>(at(outA, j), ta);
    store<f32>(at(outB, j), tb);
  }
}

/** combinePair for a single output row (the last one of an odd count): the b weights are ignored. */
export function combineOne(list: usize, count: i32, P: usize, out: usize, n: i32): void {
  const end = list + <usize>(count * ENTRY);
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const base = at(P, j);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let e = list; e < end; e += ENTRY) {
      const p = base + <usize>load<i32>(e);
      const va = v128.load32_splat(e, 4);
      a0 = madd(va, v128.load(p), a0);
      a1 = madd(va, v128.load(p, 16), a1);
      a2 = madd(va, v128.load(p, 32), a2);
      a3 = madd(va, v128.load(p, 48), a3);
    }
    const o = at(out, j);
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  }
  for (; j + 4 <= n; j += 4) {
    const base = at(P, j);
    let a0 = f32x4.splat(0);
    for (let e = list; e < end; e += ENTRY) a0 = madd(v128.load32_splat(e, 4), v128.load(base + <usize>load<i32>(e)), a0);
    v128.store(at(out, j), a0);
  }
  for (; j < n; j++) {
    const base = at(P, j);
    let t: f32 = 0;
    for (let e = list; e < end; e += ENTRY) t += load<f32>(e, 4) * load<f32>(base + <usize>load<i32>(e));
    store<f32>(at(out, j), t);
  }
}

/**
 * Writes the list for output rows (a, b): entries k in [0, K) where A(k) != 0 or B(k) != 0, with
 * A(k) = src[k * strideK + a] (same for b; b < 0 means a single row). Returns the entry count.
 */
function buildList(list: usize, src: usize, strideK: i32, K: i32, a: i32, b: i32, rowBytes: i32): i32 {
  let e = list;
  for (let kk = 0; kk < K; kk++) {
    const va = load<f32>(at(src, kk * strideK + a));
    const vb: f32 = b >= 0 ? load<f32>(at(src, kk * strideK + b)) : 0;
    if (va != 0 || vb != 0) {
      store<i32>(e, kk * rowBytes);
      store<f32>(e, va, 4);
      store<f32>(e, vb, 8);
      e += ENTRY;
    }
  }
  return <i32>(e - list) / ENTRY;
}

/**
 * Packs X (B, nIn), rows nIn floats apart, into panels of NC columns: panel c holds
 * X[:, c*NC .. c*NC + NC) as B rows LDP floats apart. Panels [p0, p1) only (threads share the work).
 */
export function packPanels(X: usize, nIn: i32, B: i32, Xp: usize, p0: i32, p1: i32): void {
  for (let c = p0; c < p1; c++) {
    const c0 = c * NC;
    packRows(at(X, c0), nIn, B, min(NC, nIn - c0), at(Xp, c * B * LDP), LDP);
  }
}
export function panelCount(nIn: i32): i32 {
  return (nIn + NC - 1) / NC;
}
export function panelStride(): i32 {
  return LDP;
}

/**
 * dW and db for the rows [o0, o1) of a layer (o0 even), written to dW (nOut, nIn) and db (nOut):
 * the layer's slices of the gradient buffer. Xp is the layer's input packed by packPanels.
 * Scratch: lists (B * (o1 - o0) entries), counts ((o1 - o0) i32).
 * Loop order: blocks of RB rows; within a block, panel after panel (each panel, B rows of NC
 * floats, stays in cache for the whole block), and the rows of the block a pair at a time.
 */
export function weightGradient(
  dZ: usize, nOut: i32, Xp: usize, nIn: i32, B: i32, o0: i32, o1: i32, dW: usize, db: usize,
  lists: usize, counts: usize,
): void {
  const pairs = (o1 - o0 + 1) >> 1;
  const listBytes = <usize>(B * ENTRY);
  for (let p = 0; p < pairs; p++) {
    const a = o0 + 2 * p;
    const count = buildList(lists + <usize>p * listBytes, dZ, nOut, B, a, a + 1 < o1 ? a + 1 : -1, LDP * 4);
    store<i32>(at(counts, p), count);
  }
  // db[o] = sum_s dZ[s, o], in sample order (db = 0: a layer without bias).
  if (db != 0) {
    for (let o = o0; o < o1; o++) {
      let t: f32 = 0;
      for (let s = 0; s < B; s++) t += load<f32>(at(dZ, s * nOut + o));
      store<f32>(at(db, o), t);
    }
  }
  const panels = panelCount(nIn);
  for (let p0 = 0; p0 < pairs; p0 += RB >> 1) {
    const p1 = min(p0 + (RB >> 1), pairs);
    for (let c = 0; c < panels; c++) {
      const c0 = c * NC;
      const nc = min(NC, nIn - c0);
      const panel = at(Xp, c * B * LDP);
      for (let p = p0; p < p1; p++) {
        const a = o0 + 2 * p;
        const list = lists + <usize>p * listBytes;
        const count = load<i32>(at(counts, p));
        const outA = at(dW, a * nIn + c0);
        if (a + 1 < o1) combinePair(list, count, panel, outA, at(dW, (a + 1) * nIn + c0), nc);
        else combineOne(list, count, panel, outA, nc);
      }
    }
  }
}

/**
 * dX[s, c] = sum_o dZ[s, o] * W[o, c] for the columns [c0, c1) (c0 a multiple of 4) and all s < B.
 * dX has rows nIn floats apart. Scratch: lists (B * nOut entries), counts (B i32), panel
 * (nOut * NCX floats).
 */
export function inputGradient(
  dZ: usize, nOut: i32, W: usize, nIn: i32, B: i32, c0: i32, c1: i32, dX: usize,
  lists: usize, counts: usize, panel: usize,
): void {
  const pairs = (B + 1) >> 1;
  const listBytes = <usize>(nOut * ENTRY);
  for (let p = 0; p < pairs; p++) {
    const s = 2 * p;
    // Entries run over o; the weight of sample s for row o is dZ[s * nOut + o].
    const count = buildList(lists + <usize>p * listBytes, at(dZ, s * nOut), 1, nOut, 0, s + 1 < B ? nOut : -1, NCX * 4);
    store<i32>(at(counts, p), count);
  }
  for (let c = c0; c < c1; c += NCX) {
    const nc = min(NCX, c1 - c);
    packRows(at(W, c), nIn, nOut, nc, panel, NCX);
    for (let p = 0; p < pairs; p++) {
      const s = 2 * p;
      const list = lists + <usize>p * listBytes;
      const count = load<i32>(at(counts, p));
      if (s + 1 < B) combinePair(list, count, panel, at(dX, s * nIn + c), at(dX, (s + 1) * nIn + c), nc);
      else combineOne(list, count, panel, at(dX, s * nIn + c), nc);
    }
  }
}
