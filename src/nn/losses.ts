/**
 * Losses of a batch of B logits z (the output neuron's weighted sum, before its sigmoid) against
 * labels y in {0, 1} (dog = 1). Both return the mean loss over the batch and write dL/dz for each
 * sample into dz, so backpropagation starts from the logit.
 */
import { sigmoid, type Floats } from './activations.ts';

export const LOSS_NAMES = ['mse', 'bce'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export interface Loss {
  readonly name: LossName;
  /** Mean loss over z[0..B); when dz is given, dz[i] = dL/dz[i]. */
  forwardBackward(z: Floats, y: Floats, B: number, dz?: Floats): number;
}

/**
 * Mean squared error, the textbook one: L = (1/B) sum (y - p)^2 with p = sigmoid(z).
 * dL/dz = (2/B) (p - y) p (1 - p).
 */
export const mse: Loss = {
  name: 'mse',
  forwardBackward(z, y, B, dz) {
    let sum = 0;
    for (let i = 0; i < B; i++) {
      const p = sigmoid(z[i]!);
      const diff = p - y[i]!;
      sum += diff * diff;
      if (dz) dz[i] = ((2 * diff) / B) * p * (1 - p);
    }
    return sum / B;
  },
};

/**
 * Binary cross-entropy from the logit, in the numerically stable form:
 *   -[y log p + (1-y) log(1-p)] = max(z, 0) - z y + log(1 + exp(-|z|))
 * which never takes log(0) and never overflows exp, however confident the output.
 * dL/dz = (1/B) (p - y).
 */
export const bce: Loss = {
  name: 'bce',
  forwardBackward(z, y, B, dz) {
    let sum = 0;
    for (let i = 0; i < B; i++) {
      const zi = z[i]!;
      const yi = y[i]!;
      sum += Math.max(zi, 0) - zi * yi + Math.log1p(Math.exp(-Math.abs(zi)));
      if (dz) dz[i] = (sigmoid(zi) - yi) / B;
    }
    return sum / B;
  },
};

export const LOSSES: Readonly<Record<LossName, Loss>> = { mse, bce };

/** Keeps log(0) out of a log loss of probabilities (the bound scikit-learn and Kaggle use). */
export const LOG_LOSS_EPSILON = 1e-15;

/**
 * -[y ln p + (1-y) ln(1-p)] for one probability, clipped to [c, 1-c]: for probabilities that are no
 * longer logits (nn-eval's, an average over test-time views). The probability of the actual class
 * (p or 1-p, exact in float64 for a float32 p) is clipped rather than p, so that 1 - (1 - 1e-15)
 * never loses digits.
 */
export function binaryLogLoss(p: number, y: 0 | 1, c = LOG_LOSS_EPSILON): number {
  const q = y === 1 ? p : 1 - p;
  return -Math.log(Math.min(Math.max(q, c), 1 - c));
}
