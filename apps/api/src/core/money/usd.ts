/**
 * "0.45" → 450000n: a USD decimal (at most `maxDecimals` places) as integer micro-dollars, exactly,
 * without floating point. Null when the text is not such an amount. The one parser every module
 * uses for USD input (prices: 6 places; top-ups in cents: 2).
 */
export function parseUsdMicros(value: string | number, maxDecimals = 6): bigint | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? value.toString() : '') : value.trim();
  const match = new RegExp(`^(\\d{1,12})(?:\\.(\\d{1,${maxDecimals}}))?$`).exec(text);
  if (!match) return null;
  return BigInt(match[1]!) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

/** For input a DTO has already validated as a USD amount: the micro-dollars, or an error if it was not. */
export function usdToMicros(usd: string): bigint {
  const micros = parseUsdMicros(usd);
  if (micros === null) throw new TypeError(`not a USD amount: ${usd}`);
  return micros;
}
