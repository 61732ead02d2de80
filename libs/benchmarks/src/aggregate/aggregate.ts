/**
 * Mergeable aggregates. `Moments` holds count, mean and M2 (the sum of squared deviations from the
 * mean), updated one value at a time with Welford's method and merged with Chan et al.'s parallel
 * formula, so merging two aggregates gives the aggregate of the union (up to float rounding) in any
 * order. All functions return new objects.
 */
export interface Moments {
  count: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
}

/**
 * One benchmark key's aggregate. Step times are per-run mean step times, in milliseconds. Their
 * logarithms are aggregated too: step times are positive and spread multiplicatively (a mix of
 * configurations can differ 10×), so the estimator's median and interval come from the log scale.
 */
export interface StepTimeAggregate {
  stepTimeMs: Moments;
  /** Moments of ln(step time in ms). */
  logStepTimeMs: Moments;
  /** Optimizer steps observed over all runs (a run's step time is the mean over its steps). */
  stepsObserved: number;
  /** Validation time per prompt, over the runs that reported validation. */
  validationMsPerPrompt: Moments;
}

export const EMPTY_MOMENTS: Moments = Object.freeze({ count: 0, mean: 0, m2: 0 });

export function emptyMoments(): Moments {
  return { count: 0, mean: 0, m2: 0 };
}

/** Welford's update. */
export function addValue(moments: Moments, value: number): Moments {
  const count = moments.count + 1;
  const delta = value - moments.mean;
  const mean = moments.mean + delta / count;
  return { count, mean, m2: moments.m2 + delta * (value - mean) };
}

/** Chan's parallel merge. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.count === 0) return { ...b };
  if (b.count === 0) return { ...a };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * b.count) / count;
  const m2 = a.m2 + b.m2 + (delta * delta * a.count * b.count) / count;
  return { count, mean, m2: Math.max(0, m2) };
}

/**
 * Removes one value that was added before (the inverse of {@link addValue}); used by the
 * leave-one-out evaluation.
 */
export function removeValue(moments: Moments, value: number): Moments {
  if (moments.count <= 1) return emptyMoments();
  const count = moments.count - 1;
  const mean = (moments.mean * moments.count - value) / count;
  const m2 = moments.m2 - (value - mean) * (value - moments.mean);
  return { count, mean, m2: Math.max(0, m2) };
}

export function momentsOf(values: Iterable<number>): Moments {
  let moments = emptyMoments();
  for (const value of values) moments = addValue(moments, value);
  return moments;
}

/** Unbiased sample variance; 0 below two values. */
export function variance(moments: Moments): number {
  return moments.count < 2 ? 0 : moments.m2 / (moments.count - 1);
}

export function standardDeviation(moments: Moments): number {
  return Math.sqrt(variance(moments));
}

export function emptyStepTimeAggregate(): StepTimeAggregate {
  return { stepTimeMs: emptyMoments(), logStepTimeMs: emptyMoments(), stepsObserved: 0, validationMsPerPrompt: emptyMoments() };
}

/** One run's contribution. */
export interface RunObservation {
  stepTimeMs: number;
  stepsObserved: number;
  validationMsPerPrompt?: number | undefined;
}

export function aggregateRun(run: RunObservation): StepTimeAggregate {
  return addRun(emptyStepTimeAggregate(), run);
}

export function addRun(aggregate: StepTimeAggregate, run: RunObservation): StepTimeAggregate {
  return {
    stepTimeMs: addValue(aggregate.stepTimeMs, run.stepTimeMs),
    logStepTimeMs: addValue(aggregate.logStepTimeMs, Math.log(run.stepTimeMs)),
    stepsObserved: aggregate.stepsObserved + run.stepsObserved,
    validationMsPerPrompt:
      run.validationMsPerPrompt === undefined ? { ...aggregate.validationMsPerPrompt } : addValue(aggregate.validationMsPerPrompt, run.validationMsPerPrompt),
  };
}

export function mergeAggregates(a: StepTimeAggregate, b: StepTimeAggregate): StepTimeAggregate {
  return {
    stepTimeMs: mergeMoments(a.stepTimeMs, b.stepTimeMs),
    logStepTimeMs: mergeMoments(a.logStepTimeMs, b.logStepTimeMs),
    stepsObserved: a.stepsObserved + b.stepsObserved,
    validationMsPerPrompt: mergeMoments(a.validationMsPerPrompt, b.validationMsPerPrompt),
  };
}

/** Removes one run's step time (the inverse of {@link addRun} for the step-time parts). */
export function removeRunStepTime(aggregate: StepTimeAggregate, stepTimeMs: number): StepTimeAggregate {
  return {
    ...aggregate,
    stepTimeMs: removeValue(aggregate.stepTimeMs, stepTimeMs),
    logStepTimeMs: removeValue(aggregate.logStepTimeMs, Math.log(stepTimeMs)),
  };
}

/** Provisioning overhead per provider kind: seconds from attempt to first step. */
export type ProvisioningAggregate = Moments;

export function isValidMoments(value: unknown): value is Moments {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.count === 'number' &&
    Number.isInteger(m.count) &&
    m.count >= 0 &&
    typeof m.mean === 'number' &&
    Number.isFinite(m.mean) &&
    typeof m.m2 === 'number' &&
    Number.isFinite(m.m2) &&
    m.m2 >= 0
  );
}

/** Shape check for aggregates read back from storage. */
export function isValidStepTimeAggregate(value: unknown): value is StepTimeAggregate {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Record<string, unknown>;
  return (
    isValidMoments(a.stepTimeMs) &&
    isValidMoments(a.logStepTimeMs) &&
    (a.logStepTimeMs as Moments).count === (a.stepTimeMs as Moments).count &&
    isValidMoments(a.validationMsPerPrompt) &&
    typeof a.stepsObserved === 'number' &&
    Number.isFinite(a.stepsObserved) &&
    a.stepsObserved >= 0
  );
}
