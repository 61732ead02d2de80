import { describe, expect, it } from 'vitest';
import { budgetStopAt } from './budget-stop.js';

const startAt = new Date('2026-11-22T08:00:00.000Z');

describe('budgetStopAt', () => {
  it('is the remaining budget spent at the machine’s hourly rate, counted from when it can start', () => {
    // $2.00 left of a $3.00 cap, 2 GPUs at $0.50/GPU-h: $1.00/h, so 2 h.
    expect(budgetStopAt({ startAt, budgetCapMicros: 3_000_000n, spentMicros: 1_000_000n, priceMicrosPerGpuHour: 500_000n, gpuCount: 2 })).toEqual(new Date('2026-11-22T10:00:00.000Z'));
    // Rounded down to the millisecond: $2.00 at $0.69/h is 10,434,782.6 ms.
    expect(budgetStopAt({ startAt, budgetCapMicros: 2_000_000n, spentMicros: 0n, priceMicrosPerGpuHour: 690_000n, gpuCount: 1 })!.getTime() - startAt.getTime()).toBe(10_434_782);
  });

  it('is null without a cap, and already past when the cap is spent', () => {
    expect(budgetStopAt({ startAt, budgetCapMicros: null, spentMicros: 5n, priceMicrosPerGpuHour: 500_000n, gpuCount: 1 })).toBeNull();
    expect(budgetStopAt({ startAt, budgetCapMicros: 1_000_000n, spentMicros: 1_500_000n, priceMicrosPerGpuHour: 500_000n, gpuCount: 1 })).toEqual(new Date('2026-11-22T07:00:00.000Z'));
  });
});
