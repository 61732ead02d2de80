import { accountIdFor, deriveUuid } from '../ledger/account-ids.js';
import type { TransferInput } from '../ledger/ledger.types.js';

export const DEFAULT_DISPUTE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
/** Default smallest payout: 10 USD. */
export const DEFAULT_MINIMUM_PAYOUT_MICROS = 10_000_000n;

export interface PayoutPlanInput {
  providerOrgId: string;
  payoutId: string;
  now: Date;
  /** The payable's spendable balance now (posted credits − posted debits − pending debits). */
  payableBalanceMicros: bigint;
  /** Posted credits to the payable at or before `now − disputeWindowMs` (the earnings that can no longer be disputed). */
  creditsPostedBeforeCutoffMicros: bigint;
  /** Every debit of the payable so far, posted and pending (earlier payouts, dispute reversals). */
  debitsMicros: bigint;
  disputeWindowMs?: number;
  minimumPayoutMicros?: bigint;
}

export interface PayoutRecord {
  payoutId: string;
  providerOrgId: string;
  amountMicros: bigint;
  /** Earnings up to this instant are included. */
  cutoff: Date;
  createdAt: Date;
  transferId: string;
}

export type PayoutPlan =
  | { kind: 'payout'; payout: PayoutRecord; transfer: TransferInput }
  | { kind: 'nothing_due'; eligibleMicros: bigint; reason: 'below_minimum' | 'nothing_eligible' };

export function payoutTransferId(payoutId: string): string {
  return deriveUuid('payout', payoutId.toLowerCase());
}

export function payoutCutoff(now: Date, disputeWindowMs = DEFAULT_DISPUTE_WINDOW_MS): Date {
  return new Date(now.getTime() - disputeWindowMs);
}

/**
 * What a provider can be paid now: earnings older than the dispute window, less everything
 * already debited (money paid out or reversed comes out of the oldest earnings first), never more
 * than the balance. Paid only when it reaches the minimum; then payable → payouts clearing.
 */
export function planPayout(input: PayoutPlanInput): PayoutPlan {
  const minimum = input.minimumPayoutMicros ?? DEFAULT_MINIMUM_PAYOUT_MICROS;
  const cutoff = payoutCutoff(input.now, input.disputeWindowMs ?? DEFAULT_DISPUTE_WINDOW_MS);
  let eligible = input.creditsPostedBeforeCutoffMicros - input.debitsMicros;
  if (eligible > input.payableBalanceMicros) eligible = input.payableBalanceMicros;
  if (eligible <= 0n) return { kind: 'nothing_due', eligibleMicros: 0n, reason: 'nothing_eligible' };
  if (eligible < minimum) return { kind: 'nothing_due', eligibleMicros: eligible, reason: 'below_minimum' };
  const transferId = payoutTransferId(input.payoutId);
  return {
    kind: 'payout',
    payout: { payoutId: input.payoutId, providerOrgId: input.providerOrgId, amountMicros: eligible, cutoff, createdAt: new Date(input.now.getTime()), transferId },
    transfer: {
      id: transferId,
      debitAccountId: accountIdFor('provider_payable', input.providerOrgId),
      creditAccountId: accountIdFor('platform_payouts_clearing'),
      amount: eligible,
      code: 'payout',
      links: { payoutId: input.payoutId },
    },
  };
}

/** When the money reached the provider: payouts clearing → provider paid out. */
export function planPayoutSettled(payout: Pick<PayoutRecord, 'payoutId' | 'providerOrgId' | 'amountMicros'>): TransferInput {
  return {
    id: deriveUuid('payout-settled', payout.payoutId.toLowerCase()),
    debitAccountId: accountIdFor('platform_payouts_clearing'),
    creditAccountId: accountIdFor('provider_paid_out', payout.providerOrgId),
    amount: payout.amountMicros,
    code: 'payout_settled',
    links: { payoutId: payout.payoutId },
  };
}
