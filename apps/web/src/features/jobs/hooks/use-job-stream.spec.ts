import { describe, expect, it } from 'vitest';
import type { LogLine, MetricPoint } from '../api/jobs.api.js';
import { withLines, withPoints } from './use-job-stream.js';

const point = (step: number, loss: number): MetricPoint => ({ step, at: '2026-01-01T00:00:00.000Z', loss, stepTimeMs: 40, gpuUtilizationPct: null });
const line = (text: string): LogLine => ({ seq: null, at: '2026-01-01T00:00:00.000Z', stream: 'stdout', line: text });

describe('applying streamed updates to the cached reads', () => {
  it('adds points in step order, once each; a resumed attempt repeating a step with another loss is kept', () => {
    const merged = withPoints({ points: [point(1, 2), point(2, 1.9)] }, [point(3, 1.8), point(2, 1.9), point(2, 1.95), point(4, 1.7)]);
    expect(merged?.points.map((p) => [p.step, p.loss])).toEqual([[1, 2], [2, 1.9], [2, 1.95], [3, 1.8], [4, 1.7]]);
  });

  it('appends log lines, keeping the last thousand', () => {
    const current = { lines: Array.from({ length: 999 }, (_, i) => line(`old ${i}`)), nextAfterSeq: 999 };
    const merged = withLines(current, [line('new 1'), line('new 2')]);
    expect(merged?.lines).toHaveLength(1000);
    expect(merged?.lines.at(0)?.line).toBe('old 1');
    expect(merged?.lines.slice(-2).map((l) => l.line)).toEqual(['new 1', 'new 2']);
  });

  it('leaves a read that has not happened yet alone (its first read includes them)', () => {
    expect(withPoints(undefined, [point(1, 2)])).toBeUndefined();
    expect(withLines(undefined, [line('x')])).toBeUndefined();
  });
});
