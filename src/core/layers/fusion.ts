/**
 * Inference folds a ReLU into the layer before it, when that layer's kind can (PreparedLayer's
 * inferWithRelu: batch norm, as in the usual conv -> batch norm -> ReLU block). The layer then
 * writes relu(its output) straight into the ReLU's output, and the ReLU's own pass is skipped:
 * one pass over the activations instead of two. At inference the element-wise passes are bound by
 * memory traffic (cnn.json in nn-eval: the ReLU passes were 4 % of the time). The result is
 * bit-identical to the two passes (the same arithmetic, then the ReLU's own select). Training
 * keeps the layers apart: backward reads both outputs.
 *
 * Every thread applies the same rule to the same plan, so they all skip the same jobs.
 */
import type { NetworkPlan } from '../../nn/plan.ts';
import type { LayerAddresses, PreparedLayer } from './driver.ts';

/** Whether layer l (a ReLU) is done by layer l - 1 at inference. */
function foldedIntoPrevious(plan: NetworkPlan, prepared: readonly PreparedLayer[], l: number): boolean {
  return l > 0 && plan.layers[l]!.spec.type === 'relu' && prepared[l - 1]!.inferWithRelu !== undefined;
}

/**
 * The layers as the thread runs them: a layer followed by a ReLU it can fold in does the ReLU's
 * work in 'infer' mode, and the ReLU does nothing then. `skipped[l]`: layer l has no inference job.
 */
export function fuseReluForInference(
  plan: NetworkPlan,
  prepared: readonly PreparedLayer[],
  addresses: readonly LayerAddresses[],
): { layers: PreparedLayer[]; skipped: boolean[] } {
  const layers = [...prepared];
  const skipped = plan.layers.map(() => false);
  for (let l = 1; l < layers.length; l++) {
    if (!foldedIntoPrevious(plan, prepared, l)) continue;
    const before = prepared[l - 1]!;
    const relu = prepared[l]!;
    const reluY = addresses[l]!.y;
    layers[l - 1] = {
      forward: (B, mode, key, step, t, T) => (mode === 'infer' ? before.inferWithRelu!(B, reluY, t, T) : before.forward(B, mode, key, step, t, T)),
      backward: (B, step, t, T) => before.backward(B, step, t, T),
    };
    layers[l] = {
      forward: (B, mode, key, step, t, T) => {
        if (mode !== 'infer') relu.forward(B, mode, key, step, t, T);
      },
      backward: (B, step, t, T) => relu.backward(B, step, t, T),
    };
    skipped[l] = true;
  }
  return { layers, skipped };
}
