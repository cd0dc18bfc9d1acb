// Batch normalization over (M, C): M = B * H * W rows of C channels (channels last), the formulas
// of src/nn/layers/batchnorm.ts. A channel's sums run over every row, and every thread must get the
// same bits whatever the thread count, so the rows are cut into blocks of R rows (R depends on C
// only, src/core/layers/batchnorm.ts): threads fill the partial sums of whole blocks, then, after a
// barrier, each thread adds the partials of all blocks in block order, in double.
//
// float32 accuracy: the sums are taken of u = x - K, K = the first row of x (a value of the same
// channel, so u is small and exact when x is far from zero), and of squares about each block's own
// mean; the mean is kept as two float32, hi + lo, and every x - mean is taken as x - hi (exact when
// x is near the mean) with lo folded into a per-channel constant. So the result does not degrade
// when |mean| >> standard deviation (the reference works in double).
//
// Forward, training (2 steps):
//   1. per block b (n_b rows): S_b = sum u and Q_b = sum (u - m_b)^2 with the block mean
//      m_b = S_b / n_b (float32; the block is read twice, the second time from cache)
//   2. mean(u) = sum_b S_b / M
//      M2 = sum_b [Q_b + 2 (m_b - mean(u))(S_b - n_b m_b) + n_b (m_b - mean(u))^2]  (= sum (x - mean)^2;
//           the middle term corrects for m_b being rounded)
//      mean = K + mean(u) = hi + lo, var = M2 / M, invstd = 1 / sqrt(var + epsilon),
//      scale = gamma invstd, shift = beta - lo scale (double, then float32);
//      y = (x - hi) scale + shift; one thread updates the running statistics
// Forward, inference: scale = gamma / sqrt(running var + epsilon); y = (x - running mean) scale + beta
// Backward (2 steps; xhat = (x - mean) invstd is recomputed from x, never stored):
//   1. per block: SD_b = sum dy, SX_b = sum dy (x - hi)
//   2. dbeta = sum_b SD_b, dgamma = invstd (sum_b SX_b - lo dbeta)
//      dx = (gamma invstd / M)(M dy - dbeta - xhat dgamma) = A ((dy - dbeta / M) - D (x - mean))
//         = A ((x - hi)(-D) + (dy + E)),  A = gamma invstd, D = invstd dgamma / M, E = -dbeta / M + D lo
//
// Channels go four to a SIMD vector (16 at a time where the sums need independent accumulators),
// the last C mod 4 one by one: which path a channel takes depends on C only.
// Per-channel arrays, C floats each, passed by address:
//   partials  per block b, at float 2 b C: the C first sums, then the C second sums (added up
//             block after block in double, in block order, by every thread that needs them)
//   mean      2 C floats: hi, then lo
//   coefs     forward: scale, shift; backward: A, -D, E
//
// With a ReLU folded in (src/core/layers/fusion.ts), forward writes relu(y) and backward takes the
// ReLU's dy, gated by y > 0 where y is recomputed from x with the forward pass's own scale and
// shift (the same operations, so the same bits and the same gate as the ReLU's own backward pass).
import { madd, at } from './simd.as';

// @ts-ignore: decorator
@inline function rowsOf(b: i32, R: i32, M: i32): i32 {
  return min(R, M - b * R);
}

/**
 * Step 1 of the training forward pass for blocks [b0, b1): S_b and Q_b of u = x - (first row of
 * x). 16 channels at a time down the block's rows, the sums in registers (measured faster here
 * than summing row by row as the backward pass does).
 */
export function batchnormBlockStats(x: usize, C: i32, M: i32, R: i32, b0: i32, b1: i32, partials: usize): void {
  const ld = <usize>C << 2;
  for (let b = b0; b < b1; b++) {
    const n = rowsOf(b, R, M);
    const first = at(x, b * R * C);
    const span = <usize>n * ld;
    const S = at(partials, 2 * b * C);
    const Q = at(S, C);
    const vn = f32x4.splat(<f32>n);
    let c = 0;
    for (; c + 16 <= C; c += 16) {
      const col = first + (<usize>c << 2);
      const end = col + span;
      const k = at(x, c);
      const k0 = v128.load(k), k1 = v128.load(k, 16), k2 = v128.load(k, 32), k3 = v128.load(k, 48);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let p = col; p < end; p += ld) {
        s0 = f32x4.add(s0, f32x4.sub(v128.load(p), k0));
        s1 = f32x4.add(s1, f32x4.sub(v128.load(p, 16), k1));
        s2 = f32x4.add(s2, f32x4.sub(v128.load(p, 32), k2));
        s3 = f32x4.add(s3, f32x4.sub(v128.load(p, 48), k3));
      }
      // The block mean in x's terms, m_b + K: x - (m_b + K) is as exact as (x - K) - m_b here.
      const m0 = f32x4.add(f32x4.div(s0, vn), k0), m1 = f32x4.add(f32x4.div(s1, vn), k1);
      const m2 = f32x4.add(f32x4.div(s2, vn), k2), m3 = f32x4.add(f32x4.div(s3, vn), k3);
      let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
      for (let p = col; p < end; p += ld) {
        const d0 = f32x4.sub(v128.load(p), m0);
        const d1 = f32x4.sub(v128.load(p, 16), m1);
        const d2 = f32x4.sub(v128.load(p, 32), m2);
        const d3 = f32x4.sub(v128.load(p, 48), m3);
        q0 = madd(d0, d0, q0);
        q1 = madd(d1, d1, q1);
        q2 = madd(d2, d2, q2);
        q3 = madd(d3, d3, q3);
      }
      const sp = at(S, c);
      v128.store(sp, s0);
      v128.store(sp, s1, 16);
      v128.store(sp, s2, 32);
      v128.store(sp, s3, 48);
      const qp = at(Q, c);
      v128.store(qp, q0);
      v128.store(qp, q1, 16);
      v128.store(qp, q2, 32);
      v128.store(qp, q3, 48);
    }
    for (; c + 4 <= C; c += 4) {
      const col = first + (<usize>c << 2);
      const end = col + span;
      const k0 = v128.load(at(x, c));
      let s0 = f32x4.splat(0);
      for (let p = col; p < end; p += ld) s0 = f32x4.add(s0, f32x4.sub(v128.load(p), k0));
      const m0 = f32x4.add(f32x4.div(s0, vn), k0);
      let q0 = f32x4.splat(0);
      for (let p = col; p < end; p += ld) {
        const d0 = f32x4.sub(v128.load(p), m0);
        q0 = madd(d0, d0, q0);
      }
      v128.store(at(S, c), s0);
      v128.store(at(Q, c), q0);
    }
    for (; c < C; c++) {
      const col = first + (<usize>c << 2);
      const end = col + span;
      const k = load<f32>(at(x, c));
      let s: f32 = 0;
      for (let p = col; p < end; p += ld) s += load<f32>(p) - k;
      const m = s / <f32>n + k;
      let q: f32 = 0;
      for (let p = col; p < end; p += ld) {
        const d = load<f32>(p) - m;
        q += d * d;
      }
      store<f32>(at(S, c), s);
      store<f32>(at(Q, c), q);
    }
  }
}

/**
 * Step 2 of the training forward pass, the statistics: from the partials of all blocks, per
 * channel, the mean (hi, lo), invstd, and the coefficients scale and shift (C floats each). When
 * runMean is not 0 also the running statistics: r <- (1 - momentum) r + momentum batch, with the
 * unbiased variance var M / (M - 1). `sums`: 2 C doubles of scratch (the partials are read block
 * by block, in order, each block's row of channels at once).
 */
export function batchnormTrainStats(
  x: usize, partials: usize, C: i32, M: i32, R: i32, epsilon: f64, gamma: usize, beta: usize, sums: usize,
  mean: usize, invstd: usize, coefs: usize, momentum: f64, runMean: usize, runVar: usize,
): void {
  const blocks = (M + R - 1) / R;
  const S = sums; // sum of u, then the mean of u
  const M2 = sums + (<usize>C << 3);
  memory.fill(sums, 0, <usize>C << 4);
  for (let b = 0; b < blocks; b++) {
    const Sb = at(partials, 2 * b * C);
    for (let c = 0; c < C; c++) {
      const s = S + (<usize>c << 3);
      store<f64>(s, load<f64>(s) + <f64>load<f32>(at(Sb, c)));
    }
  }
  for (let c = 0; c < C; c++) {
    const s = S + (<usize>c << 3);
    store<f64>(s, load<f64>(s) / <f64>M);
  }
  for (let b = 0; b < blocks; b++) {
    const n = rowsOf(b, R, M);
    const Sb = at(partials, 2 * b * C);
    const Qb = at(Sb, C);
    for (let c = 0; c < C; c++) {
      const k = load<f32>(at(x, c));
      const sb = load<f32>(at(Sb, c));
      // The block mean exactly as step 1 used it, in u's terms.
      const mb = <f64>(sb / <f32>n + k) - <f64>k;
      const d = mb - load<f64>(S + (<usize>c << 3));
      const m2 = M2 + (<usize>c << 3);
      store<f64>(m2, load<f64>(m2) + (<f64>load<f32>(at(Qb, c)) + 2 * d * (<f64>sb - <f64>n * mb) + <f64>n * d * d));
    }
  }
  for (let c = 0; c < C; c++) {
    const mu = load<f64>(S + (<usize>c << 3)); // mean of u = x - k
    const variance = max(load<f64>(M2 + (<usize>c << 3)) / <f64>M, 0);
    const inv = 1 / Math.sqrt(variance + epsilon);
    const average = <f64>load<f32>(at(x, c)) + mu;
    const hi = <f32>average;
    const lo = average - <f64>hi;
    const scale = <f64>load<f32>(at(gamma, c)) * inv;
    store<f32>(at(mean, c), hi);
    store<f32>(at(mean, C + c), <f32>lo);
    store<f32>(at(invstd, c), <f32>inv);
    store<f32>(at(coefs, c), <f32>scale);
    store<f32>(at(coefs, C + c), <f32>(<f64>load<f32>(at(beta, c)) - lo * scale));
    if (runMean != 0) {
      const unbiased = M > 1 ? (variance * <f64>M) / <f64>(M - 1) : variance;
      const rm = at(runMean, c);
      const rv = at(runVar, c);
      store<f32>(rm, <f32>((1 - momentum) * <f64>load<f32>(rm) + momentum * average));
      store<f32>(rv, <f32>((1 - momentum) * <f64>load<f32>(rv) + momentum * unbiased));
    }
  }
}

/** Inference: scale = gamma / sqrt(running var + epsilon), per channel. */
export function batchnormInferScale(gamma: usize, runVar: usize, epsilon: f64, C: i32, scale: usize): void {
  for (let c = 0; c < C; c++) {
    store<f32>(at(scale, c), <f32>(<f64>load<f32>(at(gamma, c)) / Math.sqrt(<f64>load<f32>(at(runVar, c)) + epsilon)));
  }
}

/** y = (x - centre) scale + shift for rows [r0, r1) (training: hi and the shift with lo folded in; inference: running mean, beta). */
export function batchnormNormalize(x: usize, y: usize, C: i32, r0: i32, r1: i32, centre: usize, scale: usize, shift: usize): void {
  normalizeRows(x, y, C, r0, r1, centre, scale, shift, false);
}

/**
 * Inference with the ReLU after the batch norm folded in (src/core/layers/fusion.ts):
 * y = relu((x - centre) scale + shift), the ReLU exactly as activation.as.ts computes it
 * (z > 0 ? z : 0), so the result is bit-identical to the two passes.
 */
export function batchnormNormalizeRelu(x: usize, y: usize, C: i32, r0: i32, r1: i32, centre: usize, scale: usize, shift: usize): void {
  normalizeRows(x, y, C, r0, r1, centre, scale, shift, true);
}

@inline function normalizeRows(x: usize, y: usize, C: i32, r0: i32, r1: i32, centre: usize, scale: usize, shift: usize, relu: bool): void {
  const zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const xr = at(x, r * C);
    const yr = at(y, r * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const v = madd(f32x4.sub(v128.load(xr + o), v128.load(centre + o)), v128.load(scale + o), v128.load(shift + o));
      v128.store(yr + o, relu ? v128.and(v, f32x4.gt(v, zero)) : v);
    }
    for (; c < C; c++) {
      const v = (load<f32>(at(xr, c)) - load<f32>(at(centre, c))) * load<f32>(at(scale, c)) + load<f32>(at(shift, c));
      store<f32>(at(yr, c), relu ? (v > 0 ? v : 0) : v);
    }
  }
}

/**
 * Step 1 of the backward pass for blocks [b0, b1): SD_b = sum dy and SX_b = sum dy (x - hi). Rows
 * outer, channels inner, the sums kept in the block's partials (in L1): x and dy are read as they
 * lie (measured twice as fast as 16 channels at a time down the rows at 32x32x64).
 */
export function batchnormBackwardBlocks(x: usize, dy: usize, mean: usize, C: i32, M: i32, R: i32, b0: i32, b1: i32, partials: usize): void {
  backwardBlocks(x, dy, mean, 0, C, M, R, b0, b1, partials, false);
}

/** The same with the ReLU after the batch norm folded in: dy is the ReLU's, gated by (x - hi) scale + shift > 0 (`coefs`: the forward pass's scale, shift). */
export function batchnormBackwardBlocksRelu(x: usize, dy: usize, mean: usize, coefs: usize, C: i32, M: i32, R: i32, b0: i32, b1: i32, partials: usize): void {
  backwardBlocks(x, dy, mean, coefs, C, M, R, b0, b1, partials, true);
}

// @ts-ignore: decorator
@inline function backwardBlocks(x: usize, dy: usize, mean: usize, coefs: usize, C: i32, M: i32, R: i32, b0: i32, b1: i32, partials: usize, relu: bool): void {
  const ld = <usize>C << 2;
  const vector = <usize>(C & ~3) << 2;
  const scale = coefs;
  const shift = coefs + ld;
  const zero = f32x4.splat(0);
  for (let b = b0; b < b1; b++) {
    const n = rowsOf(b, R, M);
    const offset = <usize>(b * R * C) << 2;
    const end = x + offset + <usize>n * ld;
    const dyx = dy - x; // dy's row is x's + dyx (modulo 2^32)
    const SD = at(partials, 2 * b * C);
    const SX = SD + ld;
    memory.fill(SD, 0, ld << 1);
    for (let row = x + offset; row < end; row += ld) {
      const g = row + dyx;
      let o: usize = 0;
      for (; o < vector; o += 16) {
        const centred = f32x4.sub(v128.load(row + o), v128.load(mean + o));
        let d = v128.load(g + o);
        if (relu) d = v128.and(d, f32x4.gt(madd(centred, v128.load(scale + o), v128.load(shift + o)), zero));
        v128.store(SD + o, f32x4.add(v128.load(SD + o), d));
        v128.store(SX + o, madd(d, centred, v128.load(SX + o)));
      }
      for (; o < ld; o += 4) {
        const centred = load<f32>(row + o) - load<f32>(mean + o);
        let d = load<f32>(g + o);
        if (relu && !(centred * load<f32>(scale + o) + load<f32>(shift + o) > 0)) d = 0;
        store<f32>(SD + o, load<f32>(SD + o) + d);
        store<f32>(SX + o, load<f32>(SX + o) + d * centred);
      }
    }
  }
}

/**
 * Step 2 of the backward pass, per channel, from `blocks` blocks of partials: the sums; when
 * dgamma is not 0 the parameter gradients; and the coefficients of dx: A, -D, E (C floats each,
 * in turn). M: the values per channel; `sums`: 2 C doubles of scratch.
 */
export function batchnormBackwardCoefficients(
  partials: usize, C: i32, M: i32, blocks: i32, gamma: usize, mean: usize, invstd: usize, dgamma: usize, dbeta: usize, sums: usize, coefs: usize,
): void {
  const SD = sums;
  const SX = sums + (<usize>C << 3);
  memory.fill(sums, 0, <usize>C << 4);
  for (let b = 0; b < blocks; b++) {
    const row = at(partials, 2 * b * C);
    for (let c = 0; c < 2 * C; c++) {
      const s = SD + (<usize>c << 3); // SD then SX: the same layout as a block's partials
      store<f64>(s, load<f64>(s) + <f64>load<f32>(at(row, c)));
    }
  }
  for (let c = 0; c < C; c++) {
    const sumDy = load<f64>(SD + (<usize>c << 3));
    const lo = <f64>load<f32>(at(mean, C + c));
    const inv = <f64>load<f32>(at(invstd, c));
    const sumDyXhat = (load<f64>(SX + (<usize>c << 3)) - lo * sumDy) * inv;
    if (dgamma != 0) {
      store<f32>(at(dgamma, c), <f32>sumDyXhat);
      store<f32>(at(dbeta, c), <f32>sumDy);
    }
    const D = (inv * sumDyXhat) / <f64>M;
    store<f32>(at(coefs, c), <f32>(<f64>load<f32>(at(gamma, c)) * inv));
    store<f32>(at(coefs, C + c), <f32>-D);
    store<f32>(at(coefs, 2 * C + c), <f32>(-sumDy / <f64>M + D * lo));
  }
}

/** dx = A ((x - hi)(-D) + (dy + E)) for rows [r0, r1). */
export function batchnormBackwardApply(x: usize, dy: usize, dx: usize, mean: usize, coefs: usize, C: i32, r0: i32, r1: i32): void {
  backwardApply(x, dy, dx, mean, 0, coefs, C, r0, r1, false);
}

/** The same with the ReLU folded in: dy is the ReLU's, gated as in batchnormBackwardBlocksRelu (`gate`: the forward pass's scale, shift). */
export function batchnormBackwardApplyRelu(x: usize, dy: usize, dx: usize, mean: usize, gate: usize, coefs: usize, C: i32, r0: i32, r1: i32): void {
  backwardApply(x, dy, dx, mean, gate, coefs, C, r0, r1, true);
}

// @ts-ignore: decorator
@inline function backwardApply(x: usize, dy: usize, dx: usize, mean: usize, gate: usize, coefs: usize, C: i32, r0: i32, r1: i32, relu: bool): void {
  const A = coefs;
  const negD = at(coefs, C);
  const E = at(coefs, 2 * C);
  const scale = gate;
  const shift = at(gate, C);
  const zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const xr = at(x, r * C);
    const dyr = at(dy, r * C);
    const dxr = at(dx, r * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const centred = f32x4.sub(v128.load(xr + o), v128.load(mean + o));
      let d = v128.load(dyr + o);
      if (relu) d = v128.and(d, f32x4.gt(madd(centred, v128.load(scale + o), v128.load(shift + o)), zero));
      const g = f32x4.add(d, v128.load(E + o));
      v128.store(dxr + o, f32x4.mul(v128.load(A + o), madd(centred, v128.load(negD + o), g)));
    }
    for (; c < C; c++) {
      const centred = load<f32>(at(xr, c)) - load<f32>(at(mean, c));
      let d = load<f32>(at(dyr, c));
      if (relu && !(centred * load<f32>(at(scale, c)) + load<f32>(at(shift, c)) > 0)) d = 0;
      const g = d + load<f32>(at(E, c));
      store<f32>(at(dxr, c), load<f32>(at(A, c)) * (centred * load<f32>(at(negD, c)) + g));
    }
  }
}
