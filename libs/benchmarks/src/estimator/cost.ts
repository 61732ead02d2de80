/**
 * Cost in integer micro-dollars: runtime seconds × price per GPU-hour × GPU count / 3600, rounded
 * up to the micro-dollar. Runtime is first rounded up to the millisecond, and the rest is exact
 * bigint arithmetic, so cost never decreases when runtime, price or count grows.
 */
import { err, estimateError, ok, type EstimateError, type Result } from '../result.js';

const MS_PER_HOUR = 3_600_000n;

export function validatePrice(price: bigint | number): Result<bigint, EstimateError> {
  if (typeof price === 'bigint') {
    return price >= 0n ? ok(price) : err(estimateError('invalid_price', `price per GPU-hour must not be negative, not ${price} micro-dollars`));
  }
  if (typeof price === 'number' && Number.isSafeInteger(price) && price >= 0) return ok(BigInt(price));
  return err(estimateError('invalid_price', `price per GPU-hour must be a whole, non-negative number of micro-dollars, not ${String(price)}`));
}

/** Micro-dollars for `runtimeSeconds` on `gpuCount` GPUs at `priceMicrosPerGpuHour` each. */
export function costMicros(runtimeSeconds: number, priceMicrosPerGpuHour: bigint, gpuCount: number): bigint {
  const runtimeMs = Math.max(0, Math.ceil(runtimeSeconds * 1000));
  // Exact integer arithmetic in doubles while the product stays below 2^53 (the common case, and
  // much cheaper than bigint); bigint beyond.
  if (priceMicrosPerGpuHour <= MAX_FAST_PRICE) {
    const price = Number(priceMicrosPerGpuHour);
    const numerator = runtimeMs * price * gpuCount;
    if (numerator <= Number.MAX_SAFE_INTEGER) {
      const quotient = Math.floor(numerator / 3_600_000);
      const remainder = numerator - quotient * 3_600_000;
      // Correct a quotient the float division rounded across an integer.
      const q = remainder < 0 ? quotient - 1 : remainder >= 3_600_000 ? quotient + 1 : quotient;
      return BigInt(numerator - q * 3_600_000 === 0 ? q : q + 1);
    }
  }
  const numerator = BigInt(runtimeMs) * priceMicrosPerGpuHour * BigInt(gpuCount);
  const quotient = numerator / MS_PER_HOUR;
  return numerator % MS_PER_HOUR === 0n ? quotient : quotient + 1n;
}

const MAX_FAST_PRICE = BigInt(Number.MAX_SAFE_INTEGER);

/** "38 s", "38 min", "2.5 h", "3.2 days". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = seconds / 60;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${trimZero(hours.toFixed(1))} h`;
  return `${trimZero((hours / 24).toFixed(1))} days`;
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/** '1234567' → '1,234,567' (no Intl: this runs once per offer). */
function groupThousands(digits: string): string {
  let out = '';
  for (let i = 0; i < digits.length; i += 1) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return out;
}

/** "$0.68", "$12.40", "$1,234", "<$0.01". */
export function formatMicros(micros: bigint): string {
  if (micros < 10_000n) return micros === 0n ? '$0.00' : '<$0.01';
  const cents = (micros + 5_000n) / 10_000n;
  if (cents < 100_000n) {
    const c = Number(cents);
    const rest = c % 100;
    return `$${groupThousands(String((c - rest) / 100))}.${rest < 10 ? '0' : ''}${rest}`;
  }
  const dollars = (micros + 500_000n) / 1_000_000n;
  return `$${groupThousands(dollars.toString())}`;
}

/** "~38 min, ~$0.68 on 1× RTX 4090 (community)". */
export function formatSummary(input: { runtimeSeconds: number; costMicros: bigint; gpuCount: number; gpuName: string; providerKind: string }): string {
  return `~${formatDuration(input.runtimeSeconds)}, ${formatApproxCost(input.costMicros)} on ${input.gpuCount}× ${input.gpuName} (${input.providerKind})`;
}

/** "~$0.68", or "<$0.01". */
export function formatApproxCost(micros: bigint): string {
  const cost = formatMicros(micros);
  return cost.startsWith('<') ? cost : `~${cost}`;
}
