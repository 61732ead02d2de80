import { describe, expect, it } from 'vitest';
import { previousMonth } from './invoices.service.js';

describe('previousMonth', () => {
  it('is the calendar month (UTC) before the one now falls in', () => {
    expect(previousMonth(new Date('2026-11-22T07:40:00Z'))).toEqual({
      period: '2026-10',
      start: new Date('2026-10-01T00:00:00Z'),
      end: new Date('2026-11-01T00:00:00Z'),
    });
  });

  it('crosses the year and ignores local time zones', () => {
    expect(previousMonth(new Date('2027-01-01T00:00:00Z'))).toMatchObject({ period: '2026-12', start: new Date('2026-12-01T00:00:00Z') });
    expect(previousMonth(new Date('2026-12-31T23:59:59.999Z'))).toMatchObject({ period: '2026-11', end: new Date('2026-12-01T00:00:00Z') });
  });
});
