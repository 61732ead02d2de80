import { describe, expect, it } from 'vitest';
import { formatMicros, formatPrice, parseDollars, sumMicros, toMicros } from './money.js';

describe('money', () => {
  it('formats micro-dollar strings as dollars and cents, rounding half away from zero', () => {
    expect(formatMicros('680000')).toBe('$0.68');
    expect(formatMicros('675000')).toBe('$0.68');
    expect(formatMicros('674999')).toBe('$0.67');
    expect(formatMicros('1234567891')).toBe('$1,234.57');
    expect(formatMicros('0')).toBe('$0.00');
    expect(formatMicros('-500000')).toBe('−$0.50');
    expect(formatMicros('-4999')).toBe('−$0.004999'); // below a cent: exact, never "$0.00"
    expect(formatMicros('722')).toBe('$0.000722');
    expect(formatMicros('-4999', { decimals: 2 })).toBe('$0.00');
    expect(formatMicros(1_500_000n, { decimals: 0 })).toBe('$2');
    expect(formatMicros('1', { decimals: 6 })).toBe('$0.000001');
    expect(formatMicros('2500000', { signed: true })).toBe('+$2.50');
  });

  it('keeps amounts beyond 2^53 exact', () => {
    // 9,007,199,254.740993 dollars: a float would lose the last micro-dollar.
    expect(formatMicros('9007199254740993', { decimals: 6 })).toBe('$9,007,199,254.740993');
  });

  it('sums exactly where floats drift', () => {
    const tenCents = Array.from({ length: 10 }, () => '100000');
    expect(sumMicros(tenCents)).toBe(1_000_000n);
    expect(formatMicros(sumMicros(['100000', '200000']))).toBe('$0.30');
    expect(0.1 + 0.2).not.toBe(0.3); // why: the same sum in floats
  });

  it('refuses what is not a whole number of micro-dollars', () => {
    expect(() => toMicros('1.5')).toThrow(RangeError);
    expect(() => toMicros('abc')).toThrow(RangeError);
    expect(() => toMicros(0.5)).toThrow(RangeError);
  });

  it('shows sub-cent prices with enough digits', () => {
    expect(formatPrice('390000')).toBe('$0.39');
    expect(formatPrice('123')).toBe('$0.0001');
    expect(formatPrice('4500')).toBe('$0.0045');
    expect(formatPrice('2000000')).toBe('$2.00');
    expect(formatPrice('3673000')).toBe('$3.673');
    expect(formatPrice('1234567891')).toBe('$1,234.5679');
  });

  it('parses typed dollars exactly', () => {
    expect(parseDollars('0.39')).toBe(390_000n);
    expect(parseDollars('$1,200')).toBe(1_200_000_000n);
    expect(parseDollars('2.')).toBe(2_000_000n);
    expect(parseDollars('0.1234567')).toBeUndefined();
    expect(parseDollars('-1')).toBeUndefined();
    expect(parseDollars('')).toBeUndefined();
  });
});
