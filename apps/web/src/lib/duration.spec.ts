import { describe, expect, it } from 'vitest';
import { formatDate, formatDuration, formatRelative } from './duration.js';

describe('durations', () => {
  it('reads as a person would say it', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(38 * 60 + 10)).toBe('38 min');
    expect(formatDuration(2 * 3600 + 5 * 60)).toBe('2 h 05 min');
    expect(formatDuration(3 * 3600)).toBe('3 h');
    expect(formatDuration(76 * 3600)).toBe('3 d 4 h');
    expect(formatDuration(Number.NaN)).toBe('—');
  });

  it('says how long ago, in UTC', () => {
    const now = new Date('2026-11-22T08:00:00Z');
    expect(formatRelative(null, now)).toBe('never');
    expect(formatRelative('2026-11-22T07:59:50Z', now)).toBe('just now');
    expect(formatRelative('2026-11-22T07:57:00Z', now)).toBe('3 min ago');
    expect(formatRelative('2026-11-22T05:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2026-11-01T05:00:00Z', now)).toBe('2026-11-01 05:00 UTC');
    expect(formatDate('2026-11-22T07:38:55.123Z')).toBe('2026-11-22 07:38 UTC');
  });
});
