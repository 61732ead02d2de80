import { describe, expect, it } from 'vitest';
import { heartbeatGaps, stepTimeStats, telemetryGpu, telemetrySummary } from './dispute-evidence.js';

const t = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute));

describe('heartbeatGaps', () => {
  it('finds a gap that lasted to the end of the attempt (node lost mid-run)', () => {
    const events = [
      { at: t(0), toState: 'online' },
      { at: t(20), toState: 'suspect' },
      { at: t(20.5), toState: 'offline' },
    ];
    const result = heartbeatGaps(events, t(5), t(31));
    expect(result.gaps).toEqual([{ from: t(20).toISOString(), to: t(31).toISOString(), seconds: 660, state: 'offline' }]);
    expect(result.offlineBeforeEndSeconds).toBe(660);
  });

  it('reports a recovered gap but no offline time at the end', () => {
    const events = [
      { at: t(0), toState: 'online' },
      { at: t(10), toState: 'offline' },
      { at: t(12), toState: 'online' },
    ];
    const result = heartbeatGaps(events, t(5), t(30));
    expect(result.gaps).toEqual([{ from: t(10).toISOString(), to: t(12).toISOString(), seconds: 120, state: 'offline' }]);
    expect(result.offlineBeforeEndSeconds).toBeNull();
  });

  it('counts a node already down when the window opens from the window start', () => {
    const result = heartbeatGaps([{ at: t(0), toState: 'offline' }], t(5), t(8));
    expect(result.gaps).toHaveLength(1);
    expect(result.offlineBeforeEndSeconds).toBe(180);
  });

  it('finds nothing for a node online throughout', () => {
    expect(heartbeatGaps([{ at: t(0), toState: 'online' }], t(1), t(9))).toEqual({ gaps: [], offlineBeforeEndSeconds: null });
  });
});

describe('stepTimeStats', () => {
  it('gives mean and median, ignoring junk', () => {
    expect(stepTimeStats([100, 300, 200, Number.NaN, -1])).toEqual({ count: 3, meanMs: 200, p50Ms: 200 });
    expect(stepTimeStats([100, 200, 300, 1000])).toEqual({ count: 4, meanMs: 400, p50Ms: 250 });
    expect(stepTimeStats([])).toBeNull();
  });
});

describe('telemetry', () => {
  it('summarises utilisation, temperature and power', () => {
    const samples = [
      { at: t(1).toISOString(), gpus: [telemetryGpu({ index: 0, utilizationPct: 90, temperatureC: 70, powerW: 400 }, 0)] },
      { at: t(2).toISOString(), gpus: [telemetryGpu({ utilizationPct: 10, temperatureC: 80, powerW: 'x' }, 0)] },
    ];
    expect(telemetrySummary(samples)).toEqual({ sampleCount: 2, utilizationPctMean: 50, temperatureCMax: 80, powerWMean: 400 });
  });
});
