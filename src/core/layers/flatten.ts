/** Flatten in the gradient core: its output and gradient buffers are its input's (layout.ts), so it does nothing. */
import type { FlattenSpec } from '../../nn/layers/spec.ts';
import type { CoreLayer, PreparedLayer } from './driver.ts';

const NOTHING: PreparedLayer = { forward() {}, backward() {} };

export const flatten: CoreLayer<FlattenSpec> = {
  aliasesInput: true,
  buffers: () => [],
  forwardSteps: () => 0,
  backwardSteps: () => 0,
  work: () => 0,
  prepare: () => NOTHING,
};
