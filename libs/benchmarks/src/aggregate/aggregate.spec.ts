import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_MOMENTS,
  addRun,
  addValue,
  aggregateRun,
  emptyMoments,
  emptyStepTimeAggregate,
  isValidMoments,
  isValidStepTimeAggregate,
  mergeAggregates,
  mergeMoments,
  momentsOf,
  removeRunStepTime,
  removeValue,
  standardDeviation,
  variance,
  type RunObservation,
  type StepTimeAggregate,
} from './aggregate.js';

const stepTime = fc.double({ min: 1, max: 1e6, noNaN: true, noDefaultInfinity: true });
const run: fc.Arbitrary<RunObservation> = fc.record({
  stepTimeMs: stepTime,
  stepsObserved: fc.integer({ min: 1, max: 100_000 }),
  validationMsPerPrompt: fc.option(fc.double({ min: 1, max: 1e5, noNaN: true, noDefaultInfinity: true }), { nil: undefined }),
});

function aggregateAll(runs: readonly RunObservation[]): StepTimeAggregate {
  return runs.reduce(addRun, emptyStepTimeAggregate());
}

function close(a: number, b: number, scale: number): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, scale));
}

function expectSameAggregate(a: StepTimeAggregate, b: StepTimeAggregate): void {
  expect(a.stepTimeMs.count).toBe(b.stepTimeMs.count);
  expect(a.stepsObserved).toBe(b.stepsObserved);
  expect(a.validationMsPerPrompt.count).toBe(b.validationMsPerPrompt.count);
  for (const part of ['stepTimeMs', 'logStepTimeMs', 'validationMsPerPrompt'] as const) {
    close(a[part].mean, b[part].mean, Math.abs(b[part].mean));
    close(a[part].m2, b[part].m2, Math.abs(b[part].m2) + b[part].mean ** 2 * b[part].count);
  }
}

describe('moments (Welford / Chan)', () => {
  it('computes mean and unbiased variance', () => {
    const m = momentsOf([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(m.count).toBe(8);
    expect(m.mean).toBe(5);
    expect(variance(m)).toBeCloseTo(32 / 7, 12);
    expect(standardDeviation(m)).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('has zero variance below two values', () => {
    expect(variance(emptyMoments())).toBe(0);
    expect(variance(momentsOf([3]))).toBe(0);
  });

  it('merging with empty is the identity', () => {
    const m = momentsOf([1, 2, 3]);
    expect(mergeMoments(m, EMPTY_MOMENTS)).toEqual(m);
    expect(mergeMoments(EMPTY_MOMENTS, m)).toEqual(m);
  });

  it('removeValue undoes addValue', () => {
    const m = momentsOf([10, 20, 30]);
    const back = removeValue(addValue(m, 55), 55);
    expect(back.count).toBe(3);
    expect(back.mean).toBeCloseTo(20, 9);
    expect(back.m2).toBeCloseTo(m.m2, 6);
    expect(removeValue(momentsOf([4]), 4)).toEqual(emptyMoments());
  });

  it('property: merge(aggregate(a), aggregate(b)) equals aggregate(a ++ b)', () => {
    fc.assert(
      fc.property(fc.array(run, { maxLength: 40 }), fc.array(run, { maxLength: 40 }), (a, b) => {
        expectSameAggregate(mergeAggregates(aggregateAll(a), aggregateAll(b)), aggregateAll([...a, ...b]));
      }),
    );
  });

  it('property: merge is commutative and associative', () => {
    fc.assert(
      fc.property(fc.array(run, { maxLength: 20 }), fc.array(run, { maxLength: 20 }), fc.array(run, { maxLength: 20 }), (a, b, c) => {
        const [x, y, z] = [aggregateAll(a), aggregateAll(b), aggregateAll(c)];
        expectSameAggregate(mergeAggregates(x, y), mergeAggregates(y, x));
        expectSameAggregate(mergeAggregates(mergeAggregates(x, y), z), mergeAggregates(x, mergeAggregates(y, z)));
      }),
    );
  });

  it('property: any split of the runs merges back to the whole', () => {
    fc.assert(
      fc.property(fc.array(run, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 6 }), (runs, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (runs.length + 1)))].sort((p, q) => p - q);
        let start = 0;
        let merged = emptyStepTimeAggregate();
        for (const end of [...points, runs.length]) {
          merged = mergeAggregates(merged, aggregateAll(runs.slice(start, end)));
          start = end;
        }
        expectSameAggregate(merged, aggregateAll(runs));
      }),
    );
  });
});

describe('step-time aggregates', () => {
  it('track steps observed and validation only from runs that report it', () => {
    const a = addRun(aggregateRun({ stepTimeMs: 100, stepsObserved: 10, validationMsPerPrompt: 500 }), { stepTimeMs: 300, stepsObserved: 5 });
    expect(a.stepTimeMs.count).toBe(2);
    expect(a.stepTimeMs.mean).toBe(200);
    expect(a.logStepTimeMs.mean).toBeCloseTo((Math.log(100) + Math.log(300)) / 2, 12);
    expect(a.stepsObserved).toBe(15);
    expect(a.validationMsPerPrompt).toEqual({ count: 1, mean: 500, m2: 0 });
  });

  it('removeRunStepTime removes one run from both scales', () => {
    const a = removeRunStepTime(aggregateRun({ stepTimeMs: 100, stepsObserved: 1 }), 100);
    expect(a.stepTimeMs.count).toBe(0);
    expect(a.logStepTimeMs.count).toBe(0);
  });

  it('validates stored aggregates', () => {
    expect(isValidStepTimeAggregate(aggregateRun({ stepTimeMs: 1, stepsObserved: 1 }))).toBe(true);
    expect(isValidStepTimeAggregate(null)).toBe(false);
    expect(isValidStepTimeAggregate({ ...emptyStepTimeAggregate(), stepsObserved: -1 })).toBe(false);
    expect(isValidStepTimeAggregate({ ...emptyStepTimeAggregate(), logStepTimeMs: { count: 2, mean: 0, m2: 0 } })).toBe(false);
    expect(isValidMoments({ count: 1.5, mean: 0, m2: 0 })).toBe(false);
    expect(isValidMoments({ count: 1, mean: Number.NaN, m2: 0 })).toBe(false);
    expect(isValidMoments({ count: 1, mean: 0, m2: -1 })).toBe(false);
    expect(isValidMoments('x')).toBe(false);
  });
});
