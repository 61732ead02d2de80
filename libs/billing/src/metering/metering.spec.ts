import { describe, expect, it } from 'vitest';
import { attemptCostMicros, billableSeconds, usageCostMicros, usageKeyForAttempt, type MeteredAttempt } from './metering.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
const base: MeteredAttempt = { runningAt: at(100), endedAt: at(3700), endReason: 'completed', lastHeartbeatAt: at(3699) };

describe('billableSeconds', () => {
  it('bills per second from running to the end', () => {
    expect(billableSeconds(base, at(9999))).toBe(3600);
  });

  it('rounds a partial last second down', () => {
    expect(billableSeconds({ ...base, endedAt: new Date(at(110).getTime() + 999) }, at(0))).toBe(10);
  });

  it('bills nothing for an attempt that never ran (failed provisioning, no capacity)', () => {
    expect(billableSeconds({ runningAt: null, endedAt: at(500), endReason: 'error', lastHeartbeatAt: null }, at(600))).toBe(0);
    expect(billableSeconds({ runningAt: null, endedAt: at(500), endReason: 'no_capacity', lastHeartbeatAt: null }, at(600))).toBe(0);
  });

  it('never bills a lost node past its last heartbeat', () => {
    expect(billableSeconds({ ...base, endReason: 'node_lost', lastHeartbeatAt: at(700), endedAt: at(1000) }, at(2000))).toBe(600);
    expect(billableSeconds({ ...base, endReason: 'node_lost', lastHeartbeatAt: null, endedAt: at(1000) }, at(2000))).toBe(0);
    // A heartbeat stamped after the end does not extend billing.
    expect(billableSeconds({ ...base, endReason: 'node_lost', lastHeartbeatAt: at(5000) }, at(9000))).toBe(3600);
  });

  it('never bills a preempted machine past its last heartbeat, and cuts nothing when none is known', () => {
    expect(billableSeconds({ ...base, endReason: 'preempted', lastHeartbeatAt: at(700), endedAt: at(1000) }, at(2000))).toBe(600);
    // The agent reported the preemption and kept heartbeating: the end stands.
    expect(billableSeconds({ ...base, endReason: 'preempted', lastHeartbeatAt: at(1002), endedAt: at(1000) }, at(2000))).toBe(900);
    expect(billableSeconds({ ...base, endReason: 'preempted', lastHeartbeatAt: null, endedAt: at(1000) }, at(2000))).toBe(900);
  });

  it('counts a running attempt up to now, and never negative time', () => {
    expect(billableSeconds({ ...base, endedAt: null, endReason: null }, at(160))).toBe(60);
    expect(billableSeconds({ ...base, endedAt: at(50) }, at(160))).toBe(0);
  });
});

describe('usageCostMicros', () => {
  it('is seconds × price per GPU-hour × GPUs / 3600', () => {
    expect(usageCostMicros(3600, { priceMicrosPerGpuHour: 2_000_000n, gpuCount: 8 })).toBe(16_000_000n);
    expect(usageCostMicros(1, { priceMicrosPerGpuHour: 2_000_000n, gpuCount: 1 })).toBe(555n); // 555.55… rounded down
    expect(usageCostMicros(0, { priceMicrosPerGpuHour: 2_000_000n, gpuCount: 1 })).toBe(0n);
  });

  it('refuses nonsense inputs', () => {
    expect(() => usageCostMicros(-1, { priceMicrosPerGpuHour: 1n, gpuCount: 1 })).toThrow(RangeError);
    expect(() => usageCostMicros(1.5, { priceMicrosPerGpuHour: 1n, gpuCount: 1 })).toThrow(RangeError);
    expect(() => usageCostMicros(1, { priceMicrosPerGpuHour: -1n, gpuCount: 1 })).toThrow(RangeError);
  });

  it('gives live cost so far', () => {
    expect(attemptCostMicros({ ...base, endedAt: null, endReason: null }, { priceMicrosPerGpuHour: 3_600_000n, gpuCount: 2 }, at(130))).toEqual({
      billableSeconds: 30,
      costMicros: 60_000n,
    });
  });

  it('keys usage per attempt', () => {
    expect(usageKeyForAttempt('ABC')).toBe(usageKeyForAttempt('abc'));
  });
});
