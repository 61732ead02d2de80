import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMicrosUsd, parseApiUrl, parsePriceUsd, parseRegion } from './cli-values.js';

describe('parsePriceUsd', () => {
  it.each([
    ['0.45', 450_000n],
    ['$1.2', 1_200_000n],
    ['2', 2_000_000n],
    ['0.000001', 1n],
    ['1000', 1_000_000_000n],
  ])('%s → %s micro-dollars', (input, micros) => {
    expect(parsePriceUsd(input)).toBe(micros);
  });

  it.each(['', 'abc', '0', '0.0', '-1', '0.4.5', '1e3', '0.0000001', '1000.01', '1,5'])('refuses %j with invalid_price', (input) => {
    expect(() => parsePriceUsd(input)).toThrowError(expect.objectContaining({ code: 'invalid_price' }) as Error);
  });

  it('round-trips every micro-dollar amount through its display form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1_000_000_000n }), (micros) => {
        expect(parsePriceUsd(formatMicrosUsd(micros))).toBe(micros);
      }),
    );
  });
});

describe('other values', () => {
  it('normalizes API URLs and refuses non-http ones', () => {
    expect(parseApiUrl('https://api.anneal.dev/')).toBe('https://api.anneal.dev');
    expect(() => parseApiUrl('ftp://x')).toThrowError(expect.objectContaining({ code: 'invalid_api_url' }) as Error);
    expect(() => parseApiUrl('not a url')).toThrowError(expect.objectContaining({ code: 'invalid_api_url' }) as Error);
  });

  it('accepts region slugs only', () => {
    expect(parseRegion('EU-West')).toBe('eu-west');
    expect(() => parseRegion('eu west')).toThrowError(expect.objectContaining({ code: 'invalid_region' }) as Error);
  });
});
