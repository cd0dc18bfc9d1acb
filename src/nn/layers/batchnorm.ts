/**
 * Batch normalization (Ioffe & Szegedy, 2015), per channel: after a convolution the statistics of a
 * channel are taken over the batch and every position; after a dense layer (shape 1 x 1 x units)
 * over the batch, per unit. A learnable scale gamma and shift beta follow.
 *
 * Shapes: x (B, P, C) -> y (B, P, C), P = H*W positions, M = B*P values per channel.
 *   train      mean_c = (1/M) sum x,  var_c = (1/M) sum (x - mean_c)^2,  invstd_c = 1 / sqrt(var_c + epsilon)
 *              xhat = (x - mean_c) invstd_c,  y = gamma_c xhat + beta_c
 *              running mean <- (1 - momentum) running mean + momentum mean_c
 *              running var  <- (1 - momentum) running var  + momentum var_c M / (M - 1)   (unbiased; M = 1: var_c)
 *   infer      y = gamma_c (x - running mean_c) / sqrt(running var_c + epsilon) + beta_c
 *   backward   dbeta_c = sum dy,  dgamma_c = sum dy xhat
 *              dx = (gamma_c invstd_c / M) (M dy - dbeta_c - xhat dgamma_c)
 * saved: xhat (B, P, C) and invstd (C). gamma starts at 1, beta at 0; neither takes weight decay.
 */
import type { LayerKind } from './layer.ts';
import type { BatchNormSpec } from './spec.ts';

export const batchnorm: LayerKind<BatchNormSpec> = {
  type: 'batchnorm',
  initBefore: 'next',
  describe: () => '',
  plan(_spec, input) {
    const C = input.channels;
    return {
      output: input,
      params: [
        { name: 'gamma', length: C, decay: false, init: { kind: 'constant', value: 1 } },
        { name: 'beta', length: C, decay: false, init: { kind: 'constant', value: 0 } },
      ],
      stats: [
        { name: 'mean', length: C, initial: 0 },
        { name: 'variance', length: C, initial: 1 },
      ],
      saved: [
        { name: 'xhat', perSample: input.height * input.width * C, fixed: 0 },
        { name: 'invstd', perSample: 0, fixed: C },
      ],
    };
  },
  forward(spec, input, _output, io) {
    const { x, y, B } = io;
    const C = input.channels;
    const M = B * input.height * input.width;
    const gamma = io.params.gamma!;
    const beta = io.params.beta!;
    const runningMean = io.stats.mean!;
    const runningVar = io.stats.variance!;
    if (io.mode === 'infer') {
      for (let c = 0; c < C; c++) {
        const scale = gamma[c]! / Math.sqrt(runningVar[c]! + spec.epsilon);
        const mean = runningMean[c]!;
        for (let i = c; i < M * C; i += C) y[i] = scale * (x[i]! - mean) + beta[c]!;
      }
      return;
    }
    const xhat = io.saved.xhat!;
    const invstd = io.saved.invstd!;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = c; i < M * C; i += C) sum += x[i]!;
      const mean = sum / M;
      let sq = 0;
      for (let i = c; i < M * C; i += C) sq += (x[i]! - mean) * (x[i]! - mean);
      const variance = sq / M;
      const inv = 1 / Math.sqrt(variance + spec.epsilon);
      invstd[c] = inv;
      for (let i = c; i < M * C; i += C) {
        const h = (x[i]! - mean) * inv;
        xhat[i] = h;
        y[i] = gamma[c]! * h + beta[c]!;
      }
      runningMean[c] = (1 - spec.momentum) * runningMean[c]! + spec.momentum * mean;
      runningVar[c] = (1 - spec.momentum) * runningVar[c]! + spec.momentum * (M > 1 ? (variance * M) / (M - 1) : variance);
    }
  },
  backward(_spec, input, _output, io) {
    const { dy, dx, B } = io;
    const C = input.channels;
    const M = B * input.height * input.width;
    const gamma = io.params.gamma!;
    const xhat = io.saved.xhat!;
    const invstd = io.saved.invstd!;
    const dgamma = io.grads.gamma!;
    const dbeta = io.grads.beta!;
    for (let c = 0; c < C; c++) {
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let i = c; i < M * C; i += C) {
        sumDy += dy[i]!;
        sumDyXhat += dy[i]! * xhat[i]!;
      }
      dbeta[c] = sumDy;
      dgamma[c] = sumDyXhat;
      if (dx === null) continue;
      const k = (gamma[c]! * invstd[c]!) / M;
      for (let i = c; i < M * C; i += C) dx[i] = k * (M * dy[i]! - sumDy - xhat[i]! * sumDyXhat);
    }
  },
};
