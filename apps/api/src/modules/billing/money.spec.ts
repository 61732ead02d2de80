import { describe, expect, it } from 'vitest';
import { formatUsd, money, usdToMicros } from './money.js';

describe('money on the wire', () => {
  it('formats micro-dollars as USD with two decimals, more only when needed', () => {
    expect(formatUsd(0n)).toBe('$0.00');
    expect(formatUsd(12_500_000n)).toBe('$12.50');
    expect(formatUsd(1_234_567_890_000n)).toBe('$1,234,567.89');
    expect(formatUsd(125n)).toBe('$0.000125');
    expect(formatUsd(1_000_001n)).toBe('$1.000001');
    expect(formatUsd(-3_000_000n)).toBe('-$3.00');
  });

  it('gives exact micro-dollar strings', () => {
    expect(money(9_007_199_254_740_993n)).toEqual({ micros: '9007199254740993', usd: '$9,007,199,254.740993' });
  });

  it('parses USD amounts with at most two decimals exactly', () => {
    expect(usdToMicros('25')).toBe(25_000_000n);
    expect(usdToMicros('25.5')).toBe(25_500_000n);
    expect(usdToMicros(0.1)).toBe(100_000n);
    expect(usdToMicros(19.99)).toBe(19_990_000n);
    expect(usdToMicros('0.001')).toBeNull();
    expect(usdToMicros('-5')).toBeNull();
    expect(usdToMicros('1e3')).toBeNull();
    expect(usdToMicros(Number.NaN)).toBeNull();
    expect(usdToMicros(1e21)).toBeNull();
  });
});
