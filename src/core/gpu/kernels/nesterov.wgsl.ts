import { optimizerKernel } from './common.ts';

/** Nesterov (src/optim/nesterov.ts): v = beta v + g; w = w - lr (g + beta v). Constants: beta, lr. State: v. */
export default optimizerKernel(
  1,
  /* wgsl */ `
  let beta = stepConstant(0u);
  let v = beta * s0[i] + g;
  s0[i] = v;
  params[i] = params[i] - stepConstant(1u) * (g + beta * v);`,
);
