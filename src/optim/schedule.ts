/**
 * Learning-rate schedules: plain data (from the config) and one pure function of the step, so a
 * resumed run needs nothing but the global step index to continue the schedule.
 *
 * With s = the 0-based global batch index, e = floor(s / stepsPerEpoch) its epoch,
 * W = warmupSteps and T = totalSteps:
 *   constant  lr(s) = baseLr
 *   step      lr(s) = baseLr * factor^floor(e / every)               (decay every `every` epochs)
 *   cosine    lr(s) = minLr + (baseLr - minLr) * (1 + cos(pi * p)) / 2,
 *             p = clamp((s - W) / max(1, T - W), 0, 1)               (baseLr after warm-up, minLr at T)
 * Linear warm-up multiplies the schedule's value during the first W steps:
 *   lr(s) <- lr(s) * (s + 1) / W   for s < W
 * so it rises from baseLr / W at the first step to the full value at step W - 1.
 */
export type ScheduleSpec =
  | { type: 'constant' }
  | { type: 'step'; every: number /* epochs */; factor: number }
  | { type: 'cosine'; minLr: number /* floor, absolute */ };

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
  }
  if (step < warmupSteps) lr *= (step + 1) / warmupSteps;
  return lr;
}
