import { accountIdFor, deriveUuid } from '../ledger/account-ids.js';
import { TransferFlags, type TransferInput } from '../ledger/ledger.types.js';
import { attemptCostMicros, usageKeyForAttempt, type MeteredAttempt, type UsageRecord } from '../metering/metering.js';

/** The platform's default cut of every charge: 20 %, in basis points. */
export const DEFAULT_PLATFORM_FEE_BPS = 2000;

/** A job's hold id: derived from the job, so re-submitting the same hold is a no-op. */
export function jobHoldId(jobId: string): string {
  return deriveUuid('job-hold', jobId.toLowerCase());
}

export interface JobHoldInput {
  orgId: string;
  jobId: string;
  /** The quote's upper bound (p90 cost) shown at submission. */
  quoteUpperMicros: bigint;
  /** The job's budget cap, if the user set one. */
  budgetCapMicros: bigint | null;
  /** Defaults to `jobHoldId(jobId)`. */
  holdId?: string;
  /** Seconds until the hold expires by itself; 0 (default) = never. */
  timeoutSeconds?: number;
}

export interface JobHoldPlan {
  holdId: string;
  amountMicros: bigint;
  transfer: TransferInput;
}

/** At submission: hold the lower of the quote's upper bound and the budget cap. */
export function planJobHold(input: JobHoldInput): JobHoldPlan {
  const amountMicros =
    input.budgetCapMicros !== null && input.budgetCapMicros < input.quoteUpperMicros ? input.budgetCapMicros : input.quoteUpperMicros;
  if (amountMicros <= 0n) throw new RangeError('a job hold must be positive');
  const holdId = input.holdId ?? jobHoldId(input.jobId);
  return {
    holdId,
    amountMicros,
    transfer: {
      id: holdId,
      debitAccountId: accountIdFor('org_available', input.orgId),
      creditAccountId: accountIdFor('org_held', input.orgId),
      amount: amountMicros,
      code: 'hold',
      flags: TransferFlags.pending,
      timeoutSeconds: input.timeoutSeconds ?? 0,
      links: { jobId: input.jobId },
    },
  };
}

export interface AttemptSettlementInput {
  orgId: string;
  providerOrgId: string;
  jobId: string;
  attemptId: string;
  /** The open hold that covers this attempt. */
  hold: { id: string; amountMicros: bigint };
  gpuModel: string;
  gpuCount: number;
  priceMicrosPerGpuHour: bigint;
  attempt: MeteredAttempt;
  /** What remains of the job's budget cap for this attempt (null: no cap). */
  budgetCapMicros: bigint | null;
  /** Platform fee in basis points (default 2000 = 20 %). */
  platformFeeBps?: number;
  /**
   * When the job goes on with another attempt, the released remainder is held again under this
   * id in the same linked batch (so the next attempt stays covered without a gap).
   */
  reholdId?: string;
  now: Date;
}

export interface AttemptSettlementPlan {
  billableSeconds: number;
  costMicros: bigint;
  chargedMicros: bigint;
  providerShareMicros: bigint;
  platformFeeMicros: bigint;
  releasedMicros: bigint;
  /** Metered cost the hold could not cover (never charged; the API should have stopped the job). */
  uncoveredMicros: bigint;
  reheldMicros: bigint;
  /** One linked batch: all or nothing. */
  transfers: TransferInput[];
  usage: UsageRecord;
}

/** The ids of an attempt's settlement transfers: derived, so a replayed "finished" event answers `exists`. */
export function settlementTransferId(attemptId: string, leg: 'charge' | 'provider_share' | 'platform_fee' | 'release' | 'rehold'): string {
  return deriveUuid('attempt-settlement', attemptId.toLowerCase(), leg);
}

/**
 * Plans the settlement of a finished attempt as one linked batch:
 *   1. post the hold for the charge (the rest of the hold is released to available in the same step),
 *   2. held → provider payable: the charge less the platform fee,
 *   3. held → platform revenue: the fee,
 *   4. optionally, hold the released remainder again for the job's next attempt.
 * Nothing is charged: the hold is voided instead.
 *
 * charge = min(metered cost, hold, budget cap); an attempt stopped because its budget ran out
 * (`budget_exhausted`) is charged exactly the cap (bounded by the hold).
 * fee = floor(charge × feeBps / 10 000): rounding goes to the provider.
 */
export function planAttemptSettlement(input: AttemptSettlementInput): AttemptSettlementPlan {
  const feeBps = input.platformFeeBps ?? DEFAULT_PLATFORM_FEE_BPS;
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new RangeError(`platform fee must be 0..10000 basis points, got ${feeBps}`);
  if (input.hold.amountMicros <= 0n) throw new RangeError('the hold amount must be positive');
  const { billableSeconds, costMicros } = attemptCostMicros(
    input.attempt,
    { priceMicrosPerGpuHour: input.priceMicrosPerGpuHour, gpuCount: input.gpuCount },
    input.now,
  );
  const cap = input.budgetCapMicros !== null && input.budgetCapMicros < input.hold.amountMicros ? input.budgetCapMicros : input.hold.amountMicros;
  const chargedMicros = input.attempt.endReason === 'budget_exhausted' ? cap : costMicros < cap ? costMicros : cap;
  const platformFeeMicros = (chargedMicros * BigInt(feeBps)) / 10_000n;
  const providerShareMicros = chargedMicros - platformFeeMicros;
  const releasedMicros = input.hold.amountMicros - chargedMicros;
  const uncoveredMicros = costMicros > chargedMicros ? costMicros - chargedMicros : 0n;
  const links = { jobId: input.jobId, attemptId: input.attemptId };
  const held = accountIdFor('org_held', input.orgId);
  const transfers: TransferInput[] = [];
  if (chargedMicros === 0n) {
    transfers.push({ id: settlementTransferId(input.attemptId, 'release'), pendingId: input.hold.id, code: 'release', flags: TransferFlags.voidPending, links });
  } else {
    transfers.push({ id: settlementTransferId(input.attemptId, 'charge'), pendingId: input.hold.id, amount: chargedMicros, code: 'charge', flags: TransferFlags.postPending, links });
    if (providerShareMicros > 0n) {
      transfers.push({
        id: settlementTransferId(input.attemptId, 'provider_share'),
        debitAccountId: held,
        creditAccountId: accountIdFor('provider_payable', input.providerOrgId),
        amount: providerShareMicros,
        code: 'provider_share',
        links,
      });
    }
    if (platformFeeMicros > 0n) {
      transfers.push({
        id: settlementTransferId(input.attemptId, 'platform_fee'),
        debitAccountId: held,
        creditAccountId: accountIdFor('platform_revenue'),
        amount: platformFeeMicros,
        code: 'platform_fee',
        links,
      });
    }
  }
  const reheldMicros = input.reholdId !== undefined ? releasedMicros : 0n;
  if (input.reholdId !== undefined && releasedMicros > 0n) {
    transfers.push({
      id: input.reholdId,
      debitAccountId: accountIdFor('org_available', input.orgId),
      creditAccountId: held,
      amount: releasedMicros,
      code: 'hold',
      flags: TransferFlags.pending,
      links: { jobId: input.jobId },
    });
  }
  transfers.forEach((t, i) => {
    if (i < transfers.length - 1) t.flags = (t.flags ?? 0) | TransferFlags.linked;
  });
  return {
    billableSeconds,
    costMicros,
    chargedMicros,
    providerShareMicros,
    platformFeeMicros,
    releasedMicros,
    uncoveredMicros,
    reheldMicros,
    transfers,
    usage: {
      usageKey: usageKeyForAttempt(input.attemptId),
      attemptId: input.attemptId,
      jobId: input.jobId,
      orgId: input.orgId,
      providerOrgId: input.providerOrgId,
      gpuModel: input.gpuModel,
      gpuCount: input.gpuCount,
      billableSeconds,
      priceMicrosPerGpuHour: input.priceMicrosPerGpuHour,
      costMicros,
      chargedMicros,
      runningAt: input.attempt.runningAt,
      endedAt: input.attempt.endedAt,
      endReason: input.attempt.endReason,
    },
  };
}

export interface TopUpInput {
  orgId: string;
  /** The payment processor's payment id: the transfer id is derived from it. */
  paymentId: string;
  amountMicros: bigint;
}

/** A top-up: payment clearing → org available, once per payment. */
export function planTopUp(input: TopUpInput): TransferInput {
  if (input.amountMicros <= 0n) throw new RangeError('a top-up must be positive');
  return {
    id: deriveUuid('top-up', input.paymentId),
    debitAccountId: accountIdFor('platform_payment_clearing'),
    creditAccountId: accountIdFor('org_available', input.orgId),
    amount: input.amountMicros,
    code: 'top_up',
    links: { paymentId: input.paymentId },
  };
}
