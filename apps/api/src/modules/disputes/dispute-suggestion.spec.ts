import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, suggestDisputeOutcome, type SuggestionInput } from './dispute-suggestion.js';

const clean: SuggestionInput = {
  chargedMicros: 4_000_000n,
  offeredGpu: 'rtx-4090',
  reportedGpu: 'rtx-4090',
  gpuMatches: true,
  offlineBeforeEndSeconds: null,
  stepTime: { measuredMeanMs: 500, benchmarkP50Ms: 450, benchmarkP90Ms: 600 },
};

describe('suggestDisputeOutcome', () => {
  it('finds no anomaly in a clean attempt', () => {
    const s = suggestDisputeOutcome(clean);
    expect(s).toEqual({ outcome: 'no_refund', refundMicros: 0n, reason: 'No anomaly found in the evidence: no refund suggested.', findings: [] });
  });

  it('suggests a full refund when the node went offline before completion', () => {
    const s = suggestDisputeOutcome({ ...clean, offlineBeforeEndSeconds: 660 });
    expect(s.outcome).toBe('full_refund');
    expect(s.refundMicros).toBe(4_000_000n);
    expect(s.reason).toBe('Node offline 11 min before completion: full refund of this attempt ($4.00) suggested.');
  });

  it('ignores a short heartbeat gap below the threshold', () => {
    expect(suggestDisputeOutcome({ ...clean, offlineBeforeEndSeconds: 119 }).outcome).toBe('no_refund');
    expect(suggestDisputeOutcome({ ...clean, offlineBeforeEndSeconds: 30 }, { offlineThresholdSeconds: 20, slowFactor: 2 }).outcome).toBe('full_refund');
  });

  it('suggests a full refund when the reported GPU is not the offered one', () => {
    const s = suggestDisputeOutcome({ ...clean, reportedGpu: 'rtx-3090', gpuMatches: false });
    expect(s.outcome).toBe('full_refund');
    expect(s.refundMicros).toBe(4_000_000n);
    expect(s.reason).toBe('The node reported rtx-3090 but the offer was for rtx-4090: full refund of this attempt ($4.00) suggested.');
  });

  it('puts the GPU mismatch first when several anomalies are found', () => {
    const s = suggestDisputeOutcome({ ...clean, gpuMatches: false, reportedGpu: 'a10', offlineBeforeEndSeconds: 600, stepTime: { measuredMeanMs: 3000, benchmarkP50Ms: 400, benchmarkP90Ms: 500 } });
    expect(s.outcome).toBe('full_refund');
    expect(s.findings).toHaveLength(3);
    expect(s.findings[0]).toContain('a10');
  });

  it('suggests a proportional partial refund when steps are at least twice the benchmark p90', () => {
    // 4× p90: keep a quarter of the charge, refund three quarters.
    const s = suggestDisputeOutcome({ ...clean, stepTime: { measuredMeanMs: 2400, benchmarkP50Ms: 450, benchmarkP90Ms: 600 } });
    expect(s.outcome).toBe('partial_refund');
    expect(s.refundMicros).toBe(3_000_000n);
    expect(s.reason).toBe('Step time 4.0× the benchmark p90 (2400 ms measured, p90 600 ms): partial refund of $3.00 (75% of $4.00) suggested.');
  });

  it('does not flag steps just under twice the p90', () => {
    expect(suggestDisputeOutcome({ ...clean, stepTime: { measuredMeanMs: 1199, benchmarkP50Ms: 450, benchmarkP90Ms: 600 } }).outcome).toBe('no_refund');
    expect(suggestDisputeOutcome({ ...clean, stepTime: { measuredMeanMs: 1200, benchmarkP50Ms: 450, benchmarkP90Ms: 600 } }).outcome).toBe('partial_refund');
  });

  it('suggests nothing when nothing was charged', () => {
    const s = suggestDisputeOutcome({ ...clean, chargedMicros: 0n, offlineBeforeEndSeconds: 900 });
    expect(s.outcome).toBe('no_refund');
    expect(s.refundMicros).toBe(0n);
    expect(s.reason).toContain('nothing was charged');
    expect(s.findings).toHaveLength(1);
  });

  it('never suggests more than was charged, nor a negative refund', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
        fc.option(fc.boolean(), { nil: null }),
        fc.option(fc.record({ measuredMeanMs: fc.double({ min: 1, max: 1e6, noNaN: true }), benchmarkP50Ms: fc.double({ min: 1, max: 1e5, noNaN: true }), benchmarkP90Ms: fc.double({ min: 1, max: 1e5, noNaN: true }) }), { nil: null }),
        (charged, offline, matches, stepTime) => {
          const s = suggestDisputeOutcome({ chargedMicros: charged, offeredGpu: 'h100', reportedGpu: 'a100', gpuMatches: matches, offlineBeforeEndSeconds: offline, stepTime });
          expect(s.refundMicros >= 0n && s.refundMicros <= charged).toBe(true);
          expect(s.outcome === 'no_refund').toBe(s.refundMicros === 0n);
          if (s.outcome === 'full_refund') expect(s.refundMicros).toBe(charged);
          expect(s.reason.length).toBeGreaterThan(10);
        },
      ),
    );
  });
});

describe('formatDuration', () => {
  it('reads like a person wrote it', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(660)).toBe('11 min');
    expect(formatDuration(3600)).toBe('1 h');
    expect(formatDuration(7500)).toBe('2 h 5 min');
  });
});
