import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { costMicros, formatDuration, formatMicros, formatSummary, validatePrice } from './cost.js';

describe('cost', () => {
  it('is runtime × price per GPU-hour × count / 3600, rounded up to the micro-dollar', () => {
    expect(costMicros(3600, 1_000_000n, 1)).toBe(1_000_000n);
    expect(costMicros(1800, 690_000n, 2)).toBe(690_000n);
    expect(costMicros(1, 1n, 1)).toBe(1n); // 1/3600 of a micro-dollar rounds up
    expect(costMicros(0, 5_000_000n, 8)).toBe(0n);
    expect(costMicros(0.0004, 3_600_000n, 1)).toBe(1n); // runtime rounds up to the millisecond first
  });

  it('stays exact for long, expensive, wide jobs', () => {
    const seconds = 100 * 24 * 3600;
    expect(costMicros(seconds, 100_000_000n, 1024)).toBe(BigInt(seconds) * 100_000_000n * 1024n / 3600n);
  });

  it('property: monotone in runtime, price and count', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e8, noNaN: true, noDefaultInfinity: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }),
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 8n }),
        fc.integer({ min: 1, max: 64 }),
        (runtime, extra, price, more, count) => {
          const base = costMicros(runtime, price, count);
          expect(costMicros(runtime + extra, price, count)).toBeGreaterThanOrEqual(base);
          expect(costMicros(runtime, price + more, count)).toBeGreaterThanOrEqual(base);
          expect(costMicros(runtime, price, count + 1)).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });

  it('property: the fast path agrees with exact bigint arithmetic', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2e6, noNaN: true, noDefaultInfinity: true }), fc.bigInt({ min: 0n, max: 10n ** 10n }), fc.integer({ min: 1, max: 1024 }), (seconds, price, count) => {
        const numerator = BigInt(Math.ceil(seconds * 1000)) * price * BigInt(count);
        const expected = (numerator + 3_599_999n) / 3_600_000n;
        expect(costMicros(seconds, price, count)).toBe(expected);
      }),
    );
    expect(costMicros(1, 2n ** 60n, 1)).toBe((2n ** 60n * 1000n + 3_599_999n) / 3_600_000n);
  });

  it('validates prices', () => {
    expect(validatePrice(690_000n)).toEqual({ ok: true, value: 690_000n });
    expect(validatePrice(690_000)).toEqual({ ok: true, value: 690_000n });
    expect(validatePrice(0)).toEqual({ ok: true, value: 0n });
    for (const bad of [-1n, -1, 1.5, Number.NaN, 2 ** 60]) expect(validatePrice(bad)).toMatchObject({ ok: false, error: { code: 'invalid_price' } });
  });
});

describe('formatting', () => {
  it.each([
    [0.2, '1 s'],
    [38, '38 s'],
    [2280, '38 min'],
    [3 * 3600, '3 h'],
    [2.5 * 3600, '2.5 h'],
    [3.2 * 86400, '3.2 days'],
  ])('%d s reads %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each([
    [0n, '$0.00'],
    [4_000n, '<$0.01'],
    [680_000n, '$0.68'],
    [12_404_999n, '$12.40'],
    [1_234_567_890n, '$1,235'],
    [99_994_999n, '$99.99'],
  ])('%d micro-dollars read %s', (micros, text) => {
    expect(formatMicros(micros)).toBe(text);
  });

  it('writes the one-line summary', () => {
    expect(formatSummary({ runtimeSeconds: 2280, costMicros: 680_000n, gpuCount: 1, gpuName: 'RTX 4090', providerKind: 'community' })).toBe('~38 min, ~$0.68 on 1× RTX 4090 (community)');
    expect(formatSummary({ runtimeSeconds: 30, costMicros: 10n, gpuCount: 8, gpuName: 'H100 SXM', providerKind: 'gcp' })).toBe('~30 s, <$0.01 on 8× H100 SXM (gcp)');
  });
});
