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
  const runtimeMs = BigInt(Math.max(0, Math.ceil(runtimeSeconds * 1000)));
  const numerator = runtimeMs * priceMicrosPerGpuHour * BigInt(gpuCount);
  const quotient = numerator / MS_PER_HOUR;
  return numerator % MS_PER_HOUR === 0n ? quotient : quotient + 1n;
}

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

/** "$0.68", "$12.40", "$1,234", "<$0.01". */
export function formatMicros(micros: bigint): string {
  if (micros < 10_000n) return micros === 0n ? '$0.00' : '<$0.01';
  const cents = (micros + 5_000n) / 10_000n;
  if (cents < 100_000n) {
    const dollars = cents / 100n;
    const rest = (cents % 100n).toString().padStart(2, '0');
    return `$${dollars.toLocaleString('en-US')}.${rest}`;
  }
  const dollars = (micros + 500_000n) / 1_000_000n;
  return `$${dollars.toLocaleString('en-US')}`;
}

/** "~38 min, ~$0.68 on 1× RTX 4090 (community)". */
export function formatSummary(input: { runtimeSeconds: number; costMicros: bigint; gpuCount: number; gpuName: string; providerKind: string }): string {
  const cost = formatMicros(input.costMicros);
  const approxCost = cost.startsWith('<') ? cost : `~${cost}`;
  return `~${formatDuration(input.runtimeSeconds)}, ${approxCost} on ${input.gpuCount}× ${input.gpuName} (${input.providerKind})`;
}
