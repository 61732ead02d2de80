/**
 * The ledger's vocabulary, modelled on TigerBeetle's accounts and transfers.
 *
 * Money is integer micro-dollars (`bigint`, 1 USD = 1,000,000). Both the pure core
 * (`ledger.core.ts`) and the Postgres store speak exactly these types and result codes, so a
 * caller handles the same outcome whichever one it talks to.
 */

/** What an account is for. Together with its owner it names the account (see `accountIdFor`). */
export type AccountKind =
  /** A customer org's spendable credit. Never negative (`debitsMustNotExceedCredits`). */
  | 'org_available'
  /** A customer org's funds reserved by open holds (pending transfers available → held). */
  | 'org_held'
  /** What the platform owes a provider org for finished work. */
  | 'provider_payable'
  /** Lifetime payouts that reached a provider org. */
  | 'provider_paid_out'
  /** The platform's fee income. A hot account: credit-mostly, no limit, striped in the store. */
  | 'platform_revenue'
  /** Money that arrived from the payment processor (debited by every top-up). */
  | 'platform_payment_clearing'
  /** Payouts on their way to providers (credited when a payout is created). */
  | 'platform_payouts_clearing';

export const ACCOUNT_KINDS: readonly AccountKind[] = Object.freeze([
  'org_available',
  'org_held',
  'provider_payable',
  'provider_paid_out',
  'platform_revenue',
  'platform_payment_clearing',
  'platform_payouts_clearing',
]);

/** Account flags, a bitmask as in TigerBeetle. Stored as an integer; immutable once created. */
export const AccountFlags = Object.freeze({
  none: 0,
  /** debits (pending + posted) may never exceed posted credits: the balance never goes negative. */
  debitsMustNotExceedCredits: 1,
  /** credits (pending + posted) may never exceed posted debits. */
  creditsMustNotExceedDebits: 2,
  /**
   * A hot account: many concurrent writers, no balance limit. The store keeps its balance in
   * striped sub-balance rows instead of locking one row (see `ledger.store.ts`).
   * Mutually exclusive with the two limit flags.
   */
  hot: 4,
});

/** Transfer flags, a bitmask as in TigerBeetle. */
export const TransferFlags = Object.freeze({
  none: 0,
  /** Links this transfer with the next one in the batch: the chain succeeds or fails as one. */
  linked: 1,
  /** A hold: reserves the amount (pending debits/credits) until posted, voided or expired. */
  pending: 2,
  /** Posts (all or part of) the pending transfer named by `pendingId`; the rest is released. */
  postPending: 4,
  /** Voids the pending transfer named by `pendingId`, releasing all of it. */
  voidPending: 8,
});

/** What a transfer is, for statements and reports. */
export type TransferCode =
  | 'top_up'
  | 'hold'
  | 'charge'
  | 'release'
  | 'provider_share'
  | 'platform_fee'
  | 'payout'
  | 'payout_settled'
  | 'refund'
  | 'dispute_resolution'
  | 'correction'
  | 'transfer';

export const TRANSFER_CODES: readonly TransferCode[] = Object.freeze([
  'top_up',
  'hold',
  'charge',
  'release',
  'provider_share',
  'platform_fee',
  'payout',
  'payout_settled',
  'refund',
  'dispute_resolution',
  'correction',
  'transfer',
]);

/** The four running totals of an account (TigerBeetle's, without the 128-bit width). */
export interface AccountBalances {
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

export interface Account extends AccountBalances {
  id: string;
  kind: AccountKind;
  /** The org that owns it; null for platform accounts. */
  ownerId: string | null;
  flags: number;
  createdAt: Date;
}

export interface NewAccount {
  id: string;
  kind: AccountKind;
  ownerId: string | null;
  flags: number;
}

/** What a transfer is about; each line of a statement traces back through these. */
export interface TransferLinks {
  jobId: string | null;
  attemptId: string | null;
  /** The payment processor's id of the payment (e.g. a top-up intent id). */
  paymentId: string | null;
  disputeId: string | null;
  payoutId: string | null;
}

export interface TransferInput {
  /** Client-chosen id (a UUID). Retrying with the same id and fields is a no-op (`exists`). */
  id: string;
  /** Required unless this posts or voids a pending transfer (then taken from it, and must match if given). */
  debitAccountId?: string;
  creditAccountId?: string;
  /** Required and > 0 for plain and pending transfers. For a post: the part to post (default: all). */
  amount?: bigint;
  code: TransferCode;
  /** `TransferFlags` bitmask. */
  flags?: number;
  /** For `postPending`/`voidPending`: the id of the pending transfer. */
  pendingId?: string;
  /** For `pending`: seconds until the hold expires by itself (0 = never). */
  timeoutSeconds?: number;
  links?: Partial<TransferLinks>;
}

export interface Transfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  /** For a post: the posted amount; for a void: the voided (pending) amount. */
  amount: bigint;
  code: TransferCode;
  flags: number;
  pendingId: string | null;
  timeoutSeconds: number;
  /** When a pending transfer with a timeout expires; null otherwise. */
  expiresAt: Date | null;
  links: TransferLinks;
  timestamp: Date;
}

/** Where a pending transfer (hold) stands. Once not `pending`, it never changes again. */
export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

export type CreateAccountResult =
  | 'ok'
  | 'exists'
  | 'exists_with_different_fields'
  | 'id_invalid'
  | 'kind_invalid'
  | 'flags_are_mutually_exclusive';

export type CreateTransferResult =
  | 'ok'
  /** The same id was already created with the same fields: a retry, nothing changed. */
  | 'exists'
  /** The id was already used for a different transfer (other amount, accounts, code, flags, links…). */
  | 'exists_with_different_fields'
  /** Another transfer of its linked chain failed, so this one was not applied. */
  | 'linked_event_failed'
  /** The batch ended with the `linked` flag set: the chain was never closed. */
  | 'linked_event_chain_open'
  | 'id_invalid'
  | 'code_invalid'
  /** A job/attempt/dispute/payout link is not a UUID, or the payment id is empty or longer than 255 characters. */
  | 'link_invalid'
  | 'flags_are_mutually_exclusive'
  | 'accounts_must_be_different'
  | 'debit_account_required'
  | 'credit_account_required'
  | 'debit_account_not_found'
  | 'credit_account_not_found'
  | 'amount_must_be_positive'
  | 'pending_id_required'
  | 'pending_id_must_be_absent'
  | 'pending_id_invalid'
  | 'pending_transfer_not_found'
  | 'pending_transfer_not_pending'
  | 'pending_transfer_has_different_accounts'
  | 'pending_transfer_has_different_amount'
  | 'exceeds_pending_transfer_amount'
  /** The hold was already posted or voided: it cannot be resolved again. */
  | 'pending_already_resolved'
  /** The hold expired (its timeout passed) before this post or void. */
  | 'pending_transfer_expired'
  | 'timeout_reserved_for_pending_transfer'
  | 'timeout_invalid'
  /** The amount, or a balance it would produce, does not fit in 63 bits (the database's bigint). */
  | 'overflows_balance'
  /** The debit account has `debitsMustNotExceedCredits` and this would take it below zero. */
  | 'insufficient_funds'
  /** The credit account has `creditsMustNotExceedDebits` and this would exceed it. */
  | 'exceeds_debits';

export interface TransferOutcome {
  index: number;
  id: string;
  result: CreateTransferResult;
}

export interface AccountOutcome {
  index: number;
  id: string;
  result: CreateAccountResult;
}

/** How a pending transfer was resolved (one row per hold, ever). */
export interface PendingResolution {
  pendingId: string;
  status: Exclude<PendingStatus, 'pending'>;
  /** The post or void transfer; null for an expiry. */
  transferId: string | null;
  resolvedAt: Date;
}

/** `true` for the outcomes a caller may treat as success (applied now, or applied by an earlier try). */
export function isTransferApplied(result: CreateTransferResult): boolean {
  return result === 'ok' || result === 'exists';
}

/** Spendable balance of an account whose debits must not exceed its credits. */
export function availableBalance(account: AccountBalances): bigint {
  return account.creditsPosted - account.debitsPosted - account.debitsPending;
}

/** Credit-side balance including pending credits (e.g. funds sitting in an org's held account). */
export function creditBalance(account: AccountBalances): bigint {
  return account.creditsPosted + account.creditsPending - account.debitsPosted - account.debitsPending;
}

export function zeroBalances(): AccountBalances {
  return { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
}
