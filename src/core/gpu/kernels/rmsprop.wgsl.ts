import { optimizerKernel } from './common.ts';

/**
 * RMSprop (src/optim/rmsprop.ts): s = rho s + (1 - rho) g^2; w = w - (lr g) / (sqrt(s) + epsilon).
 * Constants: rho, 1 - rho, epsilon, lr. State: s.
 */
export default optimizerKernel(
  1,
  /* wgsl */ `
  let s = stepConstant(0u) * s0[i] + stepConstant(1u) * (g * g);
  s0[i] = s;
  params[i] = params[i] - (stepConstant(3u) * g) / (sqrt(s) + stepConstant(2u));`,
);
