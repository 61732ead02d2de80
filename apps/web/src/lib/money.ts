/**
 * Money arrives from the API as micro-dollar strings (1 USD = 1,000,000). Everything here is BigInt
 * arithmetic: a sum of many amounts never picks up a float's rounding error.
 */

const MICROS_PER_CENT = 10_000n;

/** A micro-dollar amount as a bigint; accepts the API's decimal strings, bigints and safe integers. */
export function toMicros(value: string | bigint | number): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a whole number of micro-dollars: ${value}`);
    return BigInt(value);
  }
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) throw new RangeError(`not a micro-dollar amount: ${JSON.stringify(value)}`);
  return BigInt(text);
}

/** The exact sum of micro-dollar amounts. */
export function sumMicros(values: Iterable<string | bigint | number>): bigint {
  let total = 0n;
  for (const value of values) total += toMicros(value);
  return total;
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface FormatMoneyOptions {
  /**
   * Digits after the point, 0–6, rounding half away from zero. Default: cents, except that a
   * non-zero amount below one cent is shown exactly ("$0.000722"), never as "$0.00".
   */
  decimals?: number;
  /** Prefix positive amounts with "+". */
  signed?: boolean;
}

/** "$1,234.57" from "1234567891" micro-dollars; "−$0.50" for negatives. */
export function formatMicros(value: string | bigint | number, options: FormatMoneyOptions = {}): string {
  if (options.decimals === undefined) {
    const micros = toMicros(value);
    const magnitude = micros < 0n ? -micros : micros;
    if (magnitude > 0n && magnitude < MICROS_PER_CENT) return formatMicros(micros, { ...options, decimals: 6 }).replace(/0+$/, '');
  }
  const decimals = options.decimals ?? 2;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6) throw new RangeError('decimals must be 0–6');
  const micros = toMicros(value);
  const negative = micros < 0n;
  const magnitude = negative ? -micros : micros;
  const unit = 10n ** BigInt(6 - decimals);
  const rounded = (magnitude + unit / 2n) / unit; // half away from zero; unit/2 is 0 when unit is 1
  const scale = 10n ** BigInt(decimals);
  const whole = groupThousands((rounded / scale).toString());
  const fraction = decimals > 0 ? `.${(rounded % scale).toString().padStart(decimals, '0')}` : '';
  const sign = negative && rounded !== 0n ? '−' : options.signed && rounded !== 0n ? '+' : '';
  return `${sign}$${whole}${fraction}`;
}

/**
 * A unit price, which may not be whole cents ($3.673 per GPU-hour, $0.0045 per minute): cents when
 * exact, else up to four decimals, so the price shown is the price charged.
 */
export function formatPrice(value: string | bigint | number): string {
  const micros = toMicros(value);
  const magnitude = micros < 0n ? -micros : micros;
  if (magnitude % MICROS_PER_CENT === 0n) return formatMicros(micros);
  return formatMicros(micros, { decimals: 4 }).replace(/(\.\d{2}\d*?)0+$/, '$1');
}

/**
 * Parses what a person types ("0.39", "$1,200", "2") into micro-dollars, exactly; undefined when it
 * is not an amount of money with at most six decimals.
 */
export function parseDollars(text: string): bigint | undefined {
  const cleaned = text.trim().replace(/^\$/, '').replace(/,/g, '');
  const match = /^(\d+)(?:\.(\d{0,6}))?$/.exec(cleaned);
  if (!match) return undefined;
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(6, '0'));
  return whole * 1_000_000n + fraction;
}
