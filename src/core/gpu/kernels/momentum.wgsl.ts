import { optimizerKernel } from './common.ts';

/**
 * Momentum, both forms (src/optim/momentum.ts): v = beta v + g_scale g; w = w - lr_hat v.
 * Constants: beta, g_scale (1 - beta for the averaging form, 1 for the classic one), lr_hat (lr, or
 * lr / (1 - beta^t) with bias correction). State: v.
 */
export default optimizerKernel(
  1,
  /* wgsl */ `
  let v = stepConstant(0u) * s0[i] + stepConstant(1u) * g;
  s0[i] = v;
  params[i] = params[i] - stepConstant(2u) * v;`,
);
