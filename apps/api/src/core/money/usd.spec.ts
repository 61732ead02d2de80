import { describe, expect, it } from 'vitest';
import { parseUsdMicros, usdToMicros } from './usd.js';

describe('parseUsdMicros', () => {
  it('converts exactly, without floating point', () => {
    expect(parseUsdMicros('0.45')).toBe(450_000n);
    expect(parseUsdMicros('12')).toBe(12_000_000n);
    expect(parseUsdMicros('0.000001')).toBe(1n);
    expect(parseUsdMicros(25.5, 2)).toBe(25_500_000n);
    expect(parseUsdMicros('999999999999.999999')).toBe(999_999_999_999_999_999n);
  });

  it('refuses what is not an amount, or has more decimals than allowed', () => {
    for (const bad of ['', '-1', '1.', '.5', '1e3', 'abc', '1.0000001']) expect(parseUsdMicros(bad)).toBeNull();
    expect(parseUsdMicros('1.001', 2)).toBeNull();
    expect(() => usdToMicros('x')).toThrow(TypeError);
  });
});
