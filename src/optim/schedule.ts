/**
 * Learning-rate schedules: plain data (from the config) and pure functions of the step, so a
 * resumed run needs nothing but the global step index to continue the schedule.
 *
 * With s = the 0-based global batch index, e = floor(s / stepsPerEpoch) its epoch,
 * W = warmupSteps and T = totalSteps:
 *   constant  lr(s) = baseLr
 *   step      lr(s) = baseLr * factor^floor(e / every)               (decay every `every` epochs)
 *   cosine    lr(s) = minLr + (baseLr - minLr) * (1 + cos(pi * p)) / 2,
 *             p = clamp((s - W) / max(1, T - W), 0, 1)               (baseLr after warm-up, minLr at T)
 *   one-cycle  PyTorch's OneCycleLR (Smith & Topin, 2017; anneal_strategy 'cos', two phases), with
 *             max = baseLr, start = max / divFactor, end = start / finalDivFactor,
 *             E1 = warmup * T - 1 (the last step of the rise, fractional as in PyTorch), E2 = T - 1:
 *               s <= E1   lr(s) = anneal(start, max, s / E1)              m(s) = anneal(maxM, baseM, s / E1)
 *               s >  E1   lr(s) = anneal(max, end, (s - E1) / (E2 - E1))  m(s) = anneal(baseM, maxM, same)
 *             anneal(a, b, p) = b + (a - b) * (1 + cos(pi * p)) / 2     (a at p = 0, b at p = 1; p <= 1)
 * Linear warm-up multiplies the schedule's value during the first W steps:
 *   lr(s) <- lr(s) * (s + 1) / W   for s < W
 * so it rises from baseLr / W at the first step to the full value at step W - 1 (one-cycle has its
 * own rise, and the config refuses warmupSteps with it).
 *
 * The momentum m(s) of one-cycle (with cycleMomentum) replaces the optimizer's own for that step:
 * Adam's beta1, or the beta of momentum and Nesterov, as OneCycleLR sets them. momentumAt gives it;
 * the training loop hands it to the gradient core with the rate, step by step.
 */
export type ScheduleSpec =
  | { type: 'constant' }
  | { type: 'step'; every: number /* epochs */; factor: number }
  | { type: 'cosine'; minLr: number /* floor, absolute */ }
  | OneCycleSpec;

export interface OneCycleSpec {
  type: 'one-cycle';
  /** Share of the steps spent rising (PyTorch's pct_start). */
  warmup: number;
  /** start = baseLr / divFactor. */
  divFactor: number;
  /** end = start / finalDivFactor. */
  finalDivFactor: number;
  /** Whether the momentum moves against the rate: maxMomentum -> baseMomentum -> maxMomentum. */
  cycleMomentum: boolean;
  baseMomentum: number;
  maxMomentum: number;
}

/** b + (a - b) * (1 + cos(pi * p)) / 2: a at p = 0, b at p = 1 (OneCycleLR's _annealing_cos). */
function anneal(a: number, b: number, p: number): number {
  return b + ((a - b) * (1 + Math.cos(Math.PI * p))) / 2;
}

/** The phase of one-cycle at step s and how far into it: 0 = rising, 1 = falling; progress in [0, 1]. */
function oneCyclePhase(spec: OneCycleSpec, step: number, totalSteps: number): { phase: 0 | 1; progress: number } {
  const riseEnd = spec.warmup * totalSteps - 1;
  const fallEnd = totalSteps - 1;
  if (step <= riseEnd) return { phase: 0, progress: riseEnd > 0 ? step / riseEnd : 1 };
  return { phase: 1, progress: fallEnd > riseEnd ? Math.min(1, (step - riseEnd) / (fallEnd - riseEnd)) : 1 };
}

export function learningRateAt(
  baseLr: number,
  schedule: ScheduleSpec,
  warmupSteps: number,
  step: number /* 0-based global batch index */,
  stepsPerEpoch: number,
  totalSteps: number,
): number {
  if (!(Number.isInteger(step) && step >= 0)) throw new RangeError(`learningRateAt: step must be an integer >= 0, got ${step}`);
  if (!(Number.isInteger(stepsPerEpoch) && stepsPerEpoch >= 1)) {
    throw new RangeError(`learningRateAt: stepsPerEpoch must be an integer >= 1, got ${stepsPerEpoch}`);
  }
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0)) {
    throw new RangeError(`learningRateAt: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  }
  let lr: number;
  switch (schedule.type) {
    case 'constant':
      lr = baseLr;
      break;
    case 'step': {
      if (!(schedule.every > 0)) throw new RangeError(`learningRateAt: step schedule needs every > 0 epochs, got ${schedule.every}`);
      const epoch = Math.floor(step / stepsPerEpoch);
      lr = baseLr * Math.pow(schedule.factor, Math.floor(epoch / schedule.every));
      break;
    }
    case 'cosine': {
      const progress = Math.min(1, Math.max(0, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps)));
      lr = schedule.minLr + ((baseLr - schedule.minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
      break;
    }
    case 'one-cycle': {
      const { phase, progress } = oneCyclePhase(schedule, step, checkedTotal(totalSteps));
      const start = baseLr / schedule.divFactor;
      lr = phase === 0 ? anneal(start, baseLr, progress) : anneal(baseLr, start / schedule.finalDivFactor, progress);
      break;
    }
  }
  if (step < warmupSteps) lr *= (step + 1) / warmupSteps;
  return lr;
}

/**
 * The momentum the schedule sets for step s (0-based global batch index): one-cycle's m(s) when it
 * cycles the momentum, else null (the optimizer keeps its own beta).
 */
export function momentumAt(schedule: ScheduleSpec, step: number, totalSteps: number): number | null {
  if (schedule.type !== 'one-cycle' || !schedule.cycleMomentum) return null;
  if (!(Number.isInteger(step) && step >= 0)) throw new RangeError(`momentumAt: step must be an integer >= 0, got ${step}`);
  const { phase, progress } = oneCyclePhase(schedule, step, checkedTotal(totalSteps));
  return phase === 0 ? anneal(schedule.maxMomentum, schedule.baseMomentum, progress) : anneal(schedule.baseMomentum, schedule.maxMomentum, progress);
}

function checkedTotal(totalSteps: number): number {
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1)) throw new RangeError(`one-cycle schedule: totalSteps must be an integer >= 1, got ${totalSteps}`);
  return totalSteps;
}
