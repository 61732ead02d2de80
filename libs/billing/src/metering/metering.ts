/**
 * Metering: how many seconds of an attempt are billable, and what they cost.
 *
 * Billable time runs per second from the moment the attempt reached `running` to its end. It
 * never includes provisioning (an attempt that never ran bills nothing, whatever its end reason)
 * and never runs past the last heartbeat of a node that was lost or of a machine that was preempted.
 */

export type AttemptEndReason = 'completed' | 'node_lost' | 'preempted' | 'no_capacity' | 'user_canceled' | 'budget_exhausted' | 'error';

export interface MeteredAttempt {
  /** When the attempt entered `running`; null when it never did (e.g. provisioning failed). */
  runningAt: Date | null;
  /** When the attempt ended; null while it is still running. */
  endedAt: Date | null;
  endReason: AttemptEndReason | null;
  /** The last heartbeat the node sent for this attempt; bounds billing when the node was lost or preempted. */
  lastHeartbeatAt: Date | null;
}

export const SECONDS_PER_HOUR = 3600n;

/**
 * Billable whole seconds of an attempt at `now` (used while it still runs). A partial last
 * second is not billed (rounded down, in the customer's favour).
 */
export function billableSeconds(attempt: MeteredAttempt, now: Date): number {
  if (attempt.runningAt === null) return 0;
  let endMs = (attempt.endedAt ?? now).getTime();
  if (attempt.endReason === 'node_lost') {
    // A lost node is billed up to its last sign of life, never to when we noticed it was gone.
    endMs = Math.min(endMs, (attempt.lastHeartbeatAt ?? attempt.runningAt).getTime());
  } else if (attempt.endReason === 'preempted' && attempt.lastHeartbeatAt !== null) {
    // A preempted machine likewise, when it went silent (a spot machine its provider reclaimed). One
    // whose agent reported the preemption itself kept heartbeating up to the end: nothing is cut.
    endMs = Math.min(endMs, attempt.lastHeartbeatAt.getTime());
  }
  const elapsedMs = endMs - attempt.runningAt.getTime();
  return elapsedMs <= 0 ? 0 : Math.floor(elapsedMs / 1000);
}

export interface UsagePrice {
  priceMicrosPerGpuHour: bigint;
  gpuCount: number;
}

/**
 * cost = seconds × price per GPU-hour × GPU count / 3600, in micro-dollars, rounded DOWN
 * (toward zero; never charge a fraction of a micro-dollar the customer did not use).
 */
export function usageCostMicros(seconds: number, price: UsagePrice): bigint {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`billable seconds must be a non-negative integer, got ${seconds}`);
  if (!Number.isSafeInteger(price.gpuCount) || price.gpuCount < 0) throw new RangeError(`gpu count must be a non-negative integer, got ${price.gpuCount}`);
  if (price.priceMicrosPerGpuHour < 0n) throw new RangeError('price must not be negative');
  return (BigInt(seconds) * price.priceMicrosPerGpuHour * BigInt(price.gpuCount)) / SECONDS_PER_HOUR;
}

/** What an attempt has cost so far (live, while running) or in total (once ended). */
export function attemptCostMicros(attempt: MeteredAttempt, price: UsagePrice, now: Date): { billableSeconds: number; costMicros: bigint } {
  const seconds = billableSeconds(attempt, now);
  return { billableSeconds: seconds, costMicros: usageCostMicros(seconds, price) };
}

/**
 * One usage record per attempt: the evidence behind its charge (GPU, seconds, rate, amount).
 * Keyed by the attempt, so a replayed "finished" event records it once.
 */
export interface UsageRecord {
  usageKey: string;
  attemptId: string;
  jobId: string;
  orgId: string;
  providerOrgId: string;
  gpuModel: string;
  gpuCount: number;
  billableSeconds: number;
  priceMicrosPerGpuHour: bigint;
  /** The metered cost (seconds × rate), before any cap. */
  costMicros: bigint;
  /** What was actually charged (the cost, capped by the hold and the budget). */
  chargedMicros: bigint;
  runningAt: Date | null;
  endedAt: Date | null;
  endReason: AttemptEndReason | null;
}

export function usageKeyForAttempt(attemptId: string): string {
  return `attempt:${attemptId.toLowerCase()}`;
}
