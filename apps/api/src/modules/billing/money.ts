import { parseUsdMicros } from '../../core/money/usd.js';
/** Money on the wire: micro-dollar strings (exact) plus a formatted USD string (for people). */

const MICROS_PER_USD = 1_000_000n;

/** "$1,234.50", "$0.000125", "-$3.00": two decimals, more only when the micro-dollars need them. */
export function formatUsd(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const dollars = (abs / MICROS_PER_USD).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let fraction = (abs % MICROS_PER_USD).toString().padStart(6, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}$${dollars}.${fraction}`;
}

export interface MoneyJson {
  /** Integer micro-dollars as a string (1 USD = 1,000,000). */
  micros: string;
  /** The same amount formatted in US dollars. */
  usd: string;
}

export function money(micros: bigint): MoneyJson {
  return { micros: micros.toString(), usd: formatUsd(micros) };
}

/**
 * Parses a USD amount with at most two decimals ("25", "25.5", "25.50", or the number 25.5) into
 * micro-dollars exactly (no float arithmetic on the digits). Null when it is not such an amount.
 */
export function usdToMicros(value: string | number): bigint | null {
  return parseUsdMicros(value, 2);
}
