import { optimizerKernel } from './common.ts';

/** SGD (src/optim/sgd.ts): w = w - lr g. Constants: lr. */
export default optimizerKernel(
  0,
  /* wgsl */ `
  params[i] = params[i] - stepConstant(0u) * g;`,
);
