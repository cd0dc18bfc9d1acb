// Batch normalization over (M, C): M = B * H * W rows of C channels (channels last), the formulas
// of src/nn/layers/batchnorm.ts. A channel's sums run over every row, and every thread must get the
// same bits whatever the thread count, so the rows are cut into blocks of R rows (R depends on C
// only, src/core/layers/batchnorm.ts): threads fill the partial sums of whole blocks, then, after a
// barrier, each thread adds the partials of all blocks in block order, in double.
//
// float32 accuracy: the sums are taken of u = x - K, K = the first row of x (a value of the same
// channel, so u is small and exact when x is far from zero), and of squares about each block's own
// mean; the mean is kept as two float32 (hi + lo) and x - mean is computed as (x - hi) - lo. So the
// result does not degrade when |mean| >> standard deviation (the reference works in double).
//
// Forward, training (2 steps):
//   1. per block b (n_b rows): S_b = sum u and Q_b = sum (u - m_b)^2 with the block mean
//      m_b = S_b / n_b (float32; the block is read twice, the second time from cache)
//   2. mean(u) = sum_b S_b / M
//      M2 = sum_b [Q_b + 2 (m_b - mean(u))(S_b - n_b m_b) + n_b (m_b - mean(u))^2]  (= sum (x - mean)^2;
//           the middle term corrects for m_b being rounded)
//      mean = K + mean(u), var = M2 / M, invstd = 1 / sqrt(var + epsilon), scale = gamma invstd
//      (double, then float32); y = (x - mean) scale + beta; one thread updates the running statistics
// Forward, inference: scale = gamma / sqrt(running var + epsilon); y = (x - running mean) scale + beta
// Backward (2 steps; xhat = (x - mean) invstd is recomputed from x, never stored):
//   1. per block: SD_b = sum dy, SX_b = sum dy (x - mean)
//   2. dbeta = sum_b SD_b, dgamma = invstd sum_b SX_b
//      dx = (gamma invstd / M)(M dy - dbeta - xhat dgamma) = A ((dy - dbeta / M) - D (x - mean))
//      with A = gamma invstd, D = invstd dgamma / M
//
// Channels go four to a SIMD vector (16 or 8 per group where the sums need independent
// accumulators); the last C mod 4 channels are done one by one. Which path a channel takes
// depends on C only. Per-channel arrays, C floats each, passed by address:
//   partials  per block b, at float 2 b C: the C first sums, then the C second sums
//   mean      2 C floats: hi, then lo
//   coefs     backward: A, dbeta / M, -D
import { madd, at } from './simd.as';

// @ts-ignore: decorator
@inline function rowsOf(b: i32, R: i32, M: i32): i32 {
  return min(R, M - b * R);
}

/** x - mean for four channels: (x - hi) - lo, hi + lo the mean. */
// @ts-ignore: decorator
@inline function centre(x: v128, hi: v128, lo: v128): v128 {
  return f32x4.sub(f32x4.sub(x, hi), lo);
}

/** Step 1 of the training forward pass for blocks [b0, b1): S_b and Q_b of u = x - (first row of x). */
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
 * channel, the mean (hi, lo), invstd and scale = gamma invstd (float32). When runMean is not 0 also
 * the running statistics: r <- (1 - momentum) r + momentum batch, with the unbiased variance
 * var M / (M - 1).
 */
export function batchnormTrainStats(
  x: usize, partials: usize, C: i32, M: i32, R: i32, epsilon: f64, gamma: usize,
  mean: usize, invstd: usize, scale: usize, momentum: f64, runMean: usize, runVar: usize,
): void {
  const blocks = (M + R - 1) / R;
  const ld = 2 * C;
  for (let c = 0; c < C; c++) {
    let S: f64 = 0;
    for (let b = 0; b < blocks; b++) S += <f64>load<f32>(at(partials, b * ld + c));
    const k = load<f32>(at(x, c));
    const mu = S / <f64>M; // mean of u = x - k
    let m2: f64 = 0;
    for (let b = 0; b < blocks; b++) {
      const n = rowsOf(b, R, M);
      const Sb = load<f32>(at(partials, b * ld + c));
      const Qb = load<f32>(at(partials, b * ld + C + c));
      // The block mean exactly as step 1 used it, in u's terms.
      const mb = <f64>(Sb / <f32>n + k) - <f64>k;
      const d = mb - mu;
      m2 += <f64>Qb + 2 * d * (<f64>Sb - <f64>n * mb) + <f64>n * d * d;
    }
    const variance = max(m2 / <f64>M, 0);
    const inv = 1 / Math.sqrt(variance + epsilon);
    const average = <f64>k + mu;
    const hi = <f32>average;
    store<f32>(at(mean, c), hi);
    store<f32>(at(mean, C + c), <f32>(average - <f64>hi));
    store<f32>(at(invstd, c), <f32>inv);
    store<f32>(at(scale, c), <f32>(<f64>load<f32>(at(gamma, c)) * inv));
    if (runMean != 0) {
      const unbiased = M > 1 ? (variance * <f64>M) / <f64>(M - 1) : variance;
      const rm = at(runMean, c);
      const rv = at(runVar, c);
      store<f32>(rm, <f32>((1 - momentum) * <f64>load<f32>(rm) + momentum * average));
      store<f32>(rv, <f32>((1 - momentum) * <f64>load<f32>(rv) + momentum * unbiased));
    }
  }
}

/** Inference: mean = (running mean, 0) and scale = gamma / sqrt(running var + epsilon), per channel. */
export function batchnormInferStats(gamma: usize, runMean: usize, runVar: usize, epsilon: f64, C: i32, mean: usize, scale: usize): void {
  for (let c = 0; c < C; c++) {
    store<f32>(at(mean, c), load<f32>(at(runMean, c)));
    store<f32>(at(mean, C + c), 0);
    store<f32>(at(scale, c), <f32>(<f64>load<f32>(at(gamma, c)) / Math.sqrt(<f64>load<f32>(at(runVar, c)) + epsilon)));
  }
}

/** y = (x - mean) scale + beta for rows [r0, r1) (training and inference). */
export function batchnormNormalize(x: usize, y: usize, C: i32, r0: i32, r1: i32, mean: usize, scale: usize, beta: usize): void {
  const meanLo = at(mean, C);
  for (let r = r0; r < r1; r++) {
    const xr = at(x, r * C);
    const yr = at(y, r * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const centred = centre(v128.load(xr + o), v128.load(mean + o), v128.load(meanLo + o));
      v128.store(yr + o, madd(centred, v128.load(scale + o), v128.load(beta + o)));
    }
    for (; c < C; c++) {
      const centred = load<f32>(at(xr, c)) - load<f32>(at(mean, c)) - load<f32>(at(meanLo, c));
      store<f32>(at(yr, c), centred * load<f32>(at(scale, c)) + load<f32>(at(beta, c)));
    }
  }
}

/** Step 1 of the backward pass for blocks [b0, b1): SD_b = sum dy and SX_b = sum dy (x - mean). */
export function batchnormBackwardBlocks(x: usize, dy: usize, mean: usize, C: i32, M: i32, R: i32, b0: i32, b1: i32, partials: usize): void {
  const ld = <usize>C << 2;
  const meanLo = at(mean, C);
  for (let b = b0; b < b1; b++) {
    const n = rowsOf(b, R, M);
    const offset = <usize>(b * R * C) << 2;
    const span = <usize>n * ld;
    const SD = at(partials, 2 * b * C);
    const SX = at(SD, C);
    let c = 0;
    for (; c + 8 <= C; c += 8) {
      const o = offset + (<usize>c << 2);
      const xc = x + o;
      const end = xc + span;
      const dyc = dy + o - xc; // dy's address is x's + dyc (modulo 2^32)
      const h0 = v128.load(at(mean, c)), h1 = v128.load(at(mean, c), 16);
      const l0 = v128.load(at(meanLo, c)), l1 = v128.load(at(meanLo, c), 16);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), e0 = f32x4.splat(0), e1 = f32x4.splat(0);
      for (let p = xc; p < end; p += ld) {
        const g0 = v128.load(p + dyc);
        const g1 = v128.load(p + dyc, 16);
        d0 = f32x4.add(d0, g0);
        d1 = f32x4.add(d1, g1);
        e0 = madd(g0, centre(v128.load(p), h0, l0), e0);
        e1 = madd(g1, centre(v128.load(p, 16), h1, l1), e1);
      }
      v128.store(at(SD, c), d0);
      v128.store(at(SD, c), d1, 16);
      v128.store(at(SX, c), e0);
      v128.store(at(SX, c), e1, 16);
    }
    for (; c + 4 <= C; c += 4) {
      const o = offset + (<usize>c << 2);
      const xc = x + o;
      const end = xc + span;
      const dyc = dy + o - xc;
      const h0 = v128.load(at(mean, c));
      const l0 = v128.load(at(meanLo, c));
      let d0 = f32x4.splat(0), e0 = f32x4.splat(0);
      for (let p = xc; p < end; p += ld) {
        const g0 = v128.load(p + dyc);
        d0 = f32x4.add(d0, g0);
        e0 = madd(g0, centre(v128.load(p), h0, l0), e0);
      }
      v128.store(at(SD, c), d0);
      v128.store(at(SX, c), e0);
    }
    for (; c < C; c++) {
      const o = offset + (<usize>c << 2);
      const xc = x + o;
      const end = xc + span;
      const dyc = dy + o - xc;
      const h = load<f32>(at(mean, c));
      const l = load<f32>(at(meanLo, c));
      let d: f32 = 0, e: f32 = 0;
      for (let p = xc; p < end; p += ld) {
        const g = load<f32>(p + dyc);
        d += g;
        e += g * (load<f32>(p) - h - l);
      }
      store<f32>(at(SD, c), d);
      store<f32>(at(SX, c), e);
    }
  }
}

/**
 * Step 2 of the backward pass, per channel: the sums over all blocks; when dgamma is not 0 the
 * parameter gradients; and the coefficients of dx: A, the mean of dy, -D (C floats each, in turn).
 */
export function batchnormBackwardCoefficients(
  partials: usize, C: i32, M: i32, R: i32, gamma: usize, invstd: usize, dgamma: usize, dbeta: usize, coefs: usize,
): void {
  const blocks = (M + R - 1) / R;
  const ld = 2 * C;
  for (let c = 0; c < C; c++) {
    let sumDy: f64 = 0;
    let sumDyX: f64 = 0;
    for (let b = 0; b < blocks; b++) {
      sumDy += <f64>load<f32>(at(partials, b * ld + c));
      sumDyX += <f64>load<f32>(at(partials, b * ld + C + c));
    }
    const inv = <f64>load<f32>(at(invstd, c));
    const sumDyXhat = sumDyX * inv;
    if (dgamma != 0) {
      store<f32>(at(dgamma, c), <f32>sumDyXhat);
      store<f32>(at(dbeta, c), <f32>sumDy);
    }
    store<f32>(at(coefs, c), <f32>(<f64>load<f32>(at(gamma, c)) * inv));
    store<f32>(at(coefs, C + c), <f32>(sumDy / <f64>M));
    store<f32>(at(coefs, 2 * C + c), <f32>((-inv * sumDyXhat) / <f64>M));
  }
}

/** dx = A ((dy - mean of dy) - D (x - mean)) for rows [r0, r1). */
export function batchnormBackwardApply(x: usize, dy: usize, dx: usize, mean: usize, coefs: usize, C: i32, r0: i32, r1: i32): void {
  const meanLo = at(mean, C);
  const A = coefs;
  const dyMean = at(coefs, C);
  const negD = at(coefs, 2 * C);
  for (let r = r0; r < r1; r++) {
    const xr = at(x, r * C);
    const dyr = at(dy, r * C);
    const dxr = at(dx, r * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const centred = centre(v128.load(xr + o), v128.load(mean + o), v128.load(meanLo + o));
      const g = f32x4.sub(v128.load(dyr + o), v128.load(dyMean + o));
      v128.store(dxr + o, f32x4.mul(v128.load(A + o), madd(centred, v128.load(negD + o), g)));
    }
    for (; c < C; c++) {
      const centred = load<f32>(at(xr, c)) - load<f32>(at(mean, c)) - load<f32>(at(meanLo, c));
      const g = load<f32>(at(dyr, c)) - load<f32>(at(dyMean, c));
      store<f32>(at(dxr, c), load<f32>(at(A, c)) * (centred * load<f32>(at(negD, c)) + g));
    }
  }
}
