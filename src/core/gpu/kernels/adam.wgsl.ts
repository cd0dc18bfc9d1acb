import { optimizerKernel } from './common.ts';

/**
 * Adam (src/optim/adam.ts): m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
 * w = w - (lr (m / c1)) / (sqrt(v / c2) + epsilon). Constants: beta1, 1 - beta1, beta2, 1 - beta2,
 * c1 = 1 - beta1^t, c2 = 1 - beta2^t, epsilon, lr. State: m, v.
 */
export default optimizerKernel(
  2,
  /* wgsl */ `
  let m = stepConstant(0u) * s0[i] + stepConstant(1u) * g;
  let v = stepConstant(2u) * s1[i] + stepConstant(3u) * (g * g);
  s0[i] = m;
  s1[i] = v;
  params[i] = params[i] - (stepConstant(7u) * (m / stepConstant(4u))) / (sqrt(v / stepConstant(5u)) + stepConstant(6u));`,
);
