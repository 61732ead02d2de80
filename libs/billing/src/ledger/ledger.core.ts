import { isUuid } from './account-ids.js';
import {
  ACCOUNT_KINDS,
  AccountFlags,
  TRANSFER_CODES,
  TransferFlags,
  type Account,
  type AccountBalances,
  type AccountOutcome,
  type CreateAccountResult,
  type CreateTransferResult,
  type NewAccount,
  type PendingResolution,
  type PendingStatus,
  type Transfer,
  type TransferInput,
  type TransferLinks,
  type TransferOutcome,
} from './ledger.types.js';

/**
 * The ledger's deterministic state machine (TigerBeetle's model, in miniature).
 *
 * It works on a `LedgerState`: the in-memory `Ledger` holds the whole ledger in one; the Postgres
 * store loads just the accounts (locked) and transfers a batch touches into one, runs the very same
 * functions, and writes the returned `LedgerEffects` back. Time (`now`) and ids come in as
 * arguments; nothing here reads a clock or makes an id.
 */
export interface LedgerState {
  accounts: Map<string, Account>;
  transfers: Map<string, Transfer>;
  /** Status of each pending transfer that has been resolved; a pending transfer absent here is open. */
  resolutions: Map<string, PendingResolution>;
}

/** What a batch changed, for a store to persist: new transfers, resolved holds, balance deltas. */
export interface LedgerEffects {
  transfers: Transfer[];
  resolutions: PendingResolution[];
  accountDeltas: Map<string, AccountBalances>;
}

export interface TransferBatchResult {
  results: TransferOutcome[];
  effects: LedgerEffects;
}

export function emptyLedgerState(): LedgerState {
  return { accounts: new Map(), transfers: new Map(), resolutions: new Map() };
}

function emptyEffects(): LedgerEffects {
  return { transfers: [], resolutions: [], accountDeltas: new Map() };
}

/** The largest amount or balance the store can hold (Postgres bigint). */
export const MAX_BALANCE = 2n ** 63n - 1n;

const BALANCE_FIELDS = ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted'] as const;
type BalanceField = (typeof BALANCE_FIELDS)[number];

export function pendingStatusOf(state: LedgerState, pendingId: string): PendingStatus | undefined {
  const transfer = state.transfers.get(pendingId);
  if (!transfer || (transfer.flags & TransferFlags.pending) === 0) return undefined;
  return state.resolutions.get(pendingId)?.status ?? 'pending';
}

function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) !== 0;
}

// ---------------------------------------------------------------------------------------------
// Accounts

export function validateNewAccount(account: NewAccount): CreateAccountResult | null {
  if (!isUuid(account.id)) return 'id_invalid';
  if (!ACCOUNT_KINDS.includes(account.kind)) return 'kind_invalid';
  if (account.ownerId !== null && !isUuid(account.ownerId)) return 'id_invalid';
  const limits = account.flags & (AccountFlags.debitsMustNotExceedCredits | AccountFlags.creditsMustNotExceedDebits);
  if (limits === (AccountFlags.debitsMustNotExceedCredits | AccountFlags.creditsMustNotExceedDebits)) return 'flags_are_mutually_exclusive';
  if (hasFlag(account.flags, AccountFlags.hot) && limits !== 0) return 'flags_are_mutually_exclusive';
  if ((account.flags & ~(AccountFlags.debitsMustNotExceedCredits | AccountFlags.creditsMustNotExceedDebits | AccountFlags.hot)) !== 0) {
    return 'flags_are_mutually_exclusive';
  }
  return null;
}

export function compareExistingAccount(existing: Account, account: NewAccount): CreateAccountResult {
  return existing.kind === account.kind && existing.ownerId === account.ownerId && existing.flags === account.flags
    ? 'exists'
    : 'exists_with_different_fields';
}

/** Creates accounts (each independently; an existing identical account answers `exists`). */
export function createAccounts(state: LedgerState, accounts: readonly NewAccount[], now: Date): AccountOutcome[] {
  return accounts.map((account, index) => {
    const invalid = validateNewAccount(account);
    if (invalid) return { index, id: account.id, result: invalid };
    const existing = state.accounts.get(account.id);
    if (existing) return { index, id: account.id, result: compareExistingAccount(existing, account) };
    state.accounts.set(account.id, {
      ...account,
      debitsPending: 0n,
      debitsPosted: 0n,
      creditsPending: 0n,
      creditsPosted: 0n,
      createdAt: new Date(now.getTime()),
    });
    return { index, id: account.id, result: 'ok' };
  });
}

// ---------------------------------------------------------------------------------------------
// Transfers

/** Undo log of one linked chain, so a failing chain leaves no trace. */
class Chain {
  private readonly undo: (() => void)[] = [];
  private readonly adjustments: [string, BalanceField, bigint][] = [];
  private readonly transfers: Transfer[] = [];
  private readonly resolutions: PendingResolution[] = [];

  constructor(private readonly state: LedgerState) {}

  adjust(account: Account, field: BalanceField, delta: bigint): void {
    account[field] += delta;
    this.adjustments.push([account.id, field, delta]);
    this.undo.push(() => {
      account[field] -= delta;
    });
  }

  addTransfer(transfer: Transfer): void {
    this.state.transfers.set(transfer.id, transfer);
    this.transfers.push(transfer);
    this.undo.push(() => {
      this.state.transfers.delete(transfer.id);
    });
  }

  resolve(resolution: PendingResolution): void {
    this.state.resolutions.set(resolution.pendingId, resolution);
    this.resolutions.push(resolution);
    this.undo.push(() => {
      this.state.resolutions.delete(resolution.pendingId);
    });
  }

  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]!();
    this.clear();
  }

  commitInto(effects: LedgerEffects): void {
    effects.transfers.push(...this.transfers);
    effects.resolutions.push(...this.resolutions);
    for (const [accountId, field, delta] of this.adjustments) {
      let deltas = effects.accountDeltas.get(accountId);
      if (!deltas) {
        deltas = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
        effects.accountDeltas.set(accountId, deltas);
      }
      deltas[field] += delta;
    }
    this.clear();
  }

  private clear(): void {
    this.undo.length = 0;
    this.adjustments.length = 0;
    this.transfers.length = 0;
    this.resolutions.length = 0;
  }
}

function normalizeLinks(links: Partial<TransferLinks> | undefined): TransferLinks {
  return {
    jobId: links?.jobId ?? null,
    attemptId: links?.attemptId ?? null,
    paymentId: links?.paymentId ?? null,
    disputeId: links?.disputeId ?? null,
    payoutId: links?.payoutId ?? null,
  };
}

function sameLinks(a: TransferLinks, b: TransferLinks): boolean {
  return (
    a.jobId === b.jobId && a.attemptId === b.attemptId && a.paymentId === b.paymentId && a.disputeId === b.disputeId && a.payoutId === b.payoutId
  );
}

/** Flags the result comparison ignores: `linked` only describes the batch it came in. */
const IDENTITY_FLAGS = TransferFlags.pending | TransferFlags.postPending | TransferFlags.voidPending;

function compareExisting(existing: Transfer, input: TransferInput): CreateTransferResult {
  const flags = input.flags ?? 0;
  const resolving = hasFlag(flags, TransferFlags.postPending | TransferFlags.voidPending);
  const same =
    (input.debitAccountId === undefined ? resolving : input.debitAccountId === existing.debitAccountId) &&
    (input.creditAccountId === undefined ? resolving : input.creditAccountId === existing.creditAccountId) &&
    (input.amount === undefined ? resolving : input.amount === existing.amount) &&
    input.code === existing.code &&
    (flags & IDENTITY_FLAGS) === (existing.flags & IDENTITY_FLAGS) &&
    (input.pendingId ?? null) === existing.pendingId &&
    (input.timeoutSeconds ?? 0) === existing.timeoutSeconds &&
    sameLinks(normalizeLinks(input.links), existing.links);
  return same ? 'exists' : 'exists_with_different_fields';
}

function validLinks(links: Partial<TransferLinks> | undefined): boolean {
  if (!links) return true;
  for (const id of [links.jobId, links.attemptId, links.disputeId, links.payoutId]) {
    if (id !== undefined && id !== null && !isUuid(id)) return false;
  }
  const paymentId = links.paymentId;
  // eslint-disable-next-line no-control-regex
  return paymentId === undefined || paymentId === null || (paymentId.length > 0 && paymentId.length <= 255 && !/[\u0000]/.test(paymentId));
}

function isExpired(pending: Transfer, now: Date): boolean {
  return pending.expiresAt !== null && pending.expiresAt.getTime() <= now.getTime();
}

function applyOne(state: LedgerState, input: TransferInput, now: Date, chain: Chain): CreateTransferResult {
  const flags = input.flags ?? 0;
  if (!isUuid(input.id)) return 'id_invalid';
  if (!TRANSFER_CODES.includes(input.code)) return 'code_invalid';
  const modes = [TransferFlags.pending, TransferFlags.postPending, TransferFlags.voidPending].filter((f) => hasFlag(flags, f));
  if (modes.length > 1 || (flags & ~(TransferFlags.linked | IDENTITY_FLAGS)) !== 0) return 'flags_are_mutually_exclusive';

  if (!validLinks(input.links)) return 'link_invalid';
  const existing = state.transfers.get(input.id);
  if (existing) return compareExisting(existing, input);

  const timeoutSeconds = input.timeoutSeconds ?? 0;
  if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 0) return 'timeout_invalid';
  const links = normalizeLinks(input.links);
  const timestamp = new Date(now.getTime());

  if (hasFlag(flags, TransferFlags.postPending | TransferFlags.voidPending)) {
    const posting = hasFlag(flags, TransferFlags.postPending);
    if (input.pendingId === undefined) return 'pending_id_required';
    if (!isUuid(input.pendingId)) return 'pending_id_invalid';
    if (timeoutSeconds !== 0) return 'timeout_reserved_for_pending_transfer';
    const pending = state.transfers.get(input.pendingId);
    if (!pending) return 'pending_transfer_not_found';
    if (!hasFlag(pending.flags, TransferFlags.pending)) return 'pending_transfer_not_pending';
    if (input.debitAccountId !== undefined && input.debitAccountId !== pending.debitAccountId) return 'pending_transfer_has_different_accounts';
    if (input.creditAccountId !== undefined && input.creditAccountId !== pending.creditAccountId) return 'pending_transfer_has_different_accounts';
    const status = pendingStatusOf(state, pending.id);
    if (status === 'posted' || status === 'voided') return 'pending_already_resolved';
    if (status === 'expired' || isExpired(pending, now)) return 'pending_transfer_expired';
    const amount = input.amount ?? pending.amount;
    if (posting) {
      if (amount <= 0n) return 'amount_must_be_positive';
      if (amount > pending.amount) return 'exceeds_pending_transfer_amount';
    } else if (amount !== pending.amount) {
      return 'pending_transfer_has_different_amount';
    }
    const debit = state.accounts.get(pending.debitAccountId);
    const credit = state.accounts.get(pending.creditAccountId);
    if (!debit) return 'debit_account_not_found';
    if (!credit) return 'credit_account_not_found';
    // Moving pending → posted (or releasing) never raises debits or credits, so no limit can break.
    chain.adjust(debit, 'debitsPending', -pending.amount);
    chain.adjust(credit, 'creditsPending', -pending.amount);
    if (posting) {
      chain.adjust(debit, 'debitsPosted', amount);
      chain.adjust(credit, 'creditsPosted', amount);
    }
    chain.addTransfer({
      id: input.id,
      debitAccountId: pending.debitAccountId,
      creditAccountId: pending.creditAccountId,
      amount,
      code: input.code,
      flags,
      pendingId: pending.id,
      timeoutSeconds: 0,
      expiresAt: null,
      links,
      timestamp,
    });
    chain.resolve({ pendingId: pending.id, status: posting ? 'posted' : 'voided', transferId: input.id, resolvedAt: timestamp });
    return 'ok';
  }

  if (input.pendingId !== undefined) return 'pending_id_must_be_absent';
  const isPending = hasFlag(flags, TransferFlags.pending);
  if (!isPending && timeoutSeconds !== 0) return 'timeout_reserved_for_pending_transfer';
  if (input.debitAccountId === undefined) return 'debit_account_required';
  if (input.creditAccountId === undefined) return 'credit_account_required';
  if (input.debitAccountId === input.creditAccountId) return 'accounts_must_be_different';
  if (input.amount === undefined || input.amount <= 0n) return 'amount_must_be_positive';
  const debit = state.accounts.get(input.debitAccountId);
  if (!debit) return 'debit_account_not_found';
  const credit = state.accounts.get(input.creditAccountId);
  if (!credit) return 'credit_account_not_found';
  const amount = input.amount;
  if (
    amount > MAX_BALANCE ||
    debit.debitsPending + debit.debitsPosted + amount > MAX_BALANCE ||
    credit.creditsPending + credit.creditsPosted + amount > MAX_BALANCE
  ) {
    return 'overflows_balance';
  }
  if (hasFlag(debit.flags, AccountFlags.debitsMustNotExceedCredits) && debit.debitsPending + debit.debitsPosted + amount > debit.creditsPosted) {
    return 'insufficient_funds';
  }
  if (hasFlag(credit.flags, AccountFlags.creditsMustNotExceedDebits) && credit.creditsPending + credit.creditsPosted + amount > credit.debitsPosted) {
    return 'exceeds_debits';
  }
  chain.adjust(debit, isPending ? 'debitsPending' : 'debitsPosted', amount);
  chain.adjust(credit, isPending ? 'creditsPending' : 'creditsPosted', amount);
  chain.addTransfer({
    id: input.id,
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    amount,
    code: input.code,
    flags,
    pendingId: null,
    timeoutSeconds,
    expiresAt: isPending && timeoutSeconds > 0 ? new Date(now.getTime() + timeoutSeconds * 1000) : null,
    links,
    timestamp,
  });
  return 'ok';
}

/**
 * Applies a batch of transfers in order. Transfers flagged `linked` form a chain with the next
 * one; a chain is applied entirely or not at all (the failing transfer reports its own code,
 * the rest of its chain `linked_event_failed`). Within a chain, `exists` counts as success, so
 * retrying a whole committed batch answers `exists` for every transfer and changes nothing.
 */
export function createTransfers(state: LedgerState, inputs: readonly TransferInput[], now: Date): TransferBatchResult {
  const effects = emptyEffects();
  const results: TransferOutcome[] = inputs.map((input, index) => ({ index, id: input.id, result: 'ok' }));
  const chain = new Chain(state);
  let chainStart = 0;
  let index = 0;
  while (index < inputs.length) {
    const input = inputs[index]!;
    const linked = hasFlag(input.flags ?? 0, TransferFlags.linked);
    let result: CreateTransferResult;
    if (linked && index === inputs.length - 1) {
      result = 'linked_event_chain_open';
    } else {
      result = applyOne(state, input, now, chain);
    }
    results[index]!.result = result;
    const applied = result === 'ok' || result === 'exists';
    const inChain = linked || index > chainStart;
    if (!applied && inChain) {
      chain.rollback();
      for (let i = chainStart; i < index; i++) results[i]!.result = 'linked_event_failed';
      // Skip the rest of this chain.
      let end = index;
      while (end < inputs.length - 1 && hasFlag(inputs[end]!.flags ?? 0, TransferFlags.linked)) {
        end++;
        results[end]!.result = 'linked_event_failed';
      }
      if (end === inputs.length - 1 && hasFlag(inputs[end]!.flags ?? 0, TransferFlags.linked) && end !== index) {
        results[end]!.result = 'linked_event_chain_open';
      }
      index = end + 1;
      chainStart = index;
      continue;
    }
    if (!linked) {
      chain.commitInto(effects);
      chainStart = index + 1;
    }
    index++;
  }
  return { results, effects };
}

/**
 * Expires every open hold in `state` whose timeout has passed at `now`, releasing its pending
 * amounts. Returns the expired pending ids (in id order) and the effects.
 */
export function expirePendingTransfers(state: LedgerState, now: Date): { expired: string[]; effects: LedgerEffects } {
  const effects = emptyEffects();
  const due = [...state.transfers.values()]
    .filter((t) => hasFlag(t.flags, TransferFlags.pending) && !state.resolutions.has(t.id) && isExpired(t, now))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const chain = new Chain(state);
  for (const pending of due) {
    const debit = state.accounts.get(pending.debitAccountId);
    const credit = state.accounts.get(pending.creditAccountId);
    if (!debit || !credit) throw new Error(`pending transfer ${pending.id} refers to an account that is not loaded`);
    chain.adjust(debit, 'debitsPending', -pending.amount);
    chain.adjust(credit, 'creditsPending', -pending.amount);
    chain.resolve({ pendingId: pending.id, status: 'expired', transferId: null, resolvedAt: new Date(now.getTime()) });
  }
  chain.commitInto(effects);
  return { expired: due.map((t) => t.id), effects };
}

/** Balances recomputed from the transfers alone (an independent replay, for invariant checks). */
export function replayBalances(state: LedgerState): Map<string, AccountBalances> {
  const balances = new Map<string, AccountBalances>();
  const of = (id: string): AccountBalances => {
    let b = balances.get(id);
    if (!b) {
      b = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
      balances.set(id, b);
    }
    return b;
  };
  for (const t of state.transfers.values()) {
    if (hasFlag(t.flags, TransferFlags.voidPending)) continue;
    if (hasFlag(t.flags, TransferFlags.pending)) {
      if (state.resolutions.has(t.id)) continue;
      of(t.debitAccountId).debitsPending += t.amount;
      of(t.creditAccountId).creditsPending += t.amount;
    } else {
      of(t.debitAccountId).debitsPosted += t.amount;
      of(t.creditAccountId).creditsPosted += t.amount;
    }
  }
  return balances;
}

/**
 * The ledger's invariants; returns one sentence per violation (empty when all hold):
 * the ledger sums to zero, no limited account is over its limit, every balance equals the replay
 * of its transfers (so held funds equal the open holds), and each hold was resolved at most once.
 */
export function checkLedgerInvariants(state: LedgerState): string[] {
  const violations: string[] = [];
  const total = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
  const replay = replayBalances(state);
  for (const account of state.accounts.values()) {
    for (const field of BALANCE_FIELDS) {
      total[field] += account[field];
      if (account[field] < 0n) violations.push(`account ${account.id} has negative ${field}`);
    }
    if (hasFlag(account.flags, AccountFlags.debitsMustNotExceedCredits) && account.debitsPending + account.debitsPosted > account.creditsPosted) {
      violations.push(`account ${account.id} (${account.kind}) is below zero`);
    }
    if (hasFlag(account.flags, AccountFlags.creditsMustNotExceedDebits) && account.creditsPending + account.creditsPosted > account.debitsPosted) {
      violations.push(`account ${account.id} (${account.kind}) has credits over its debits`);
    }
    const replayed = replay.get(account.id) ?? { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
    for (const field of BALANCE_FIELDS) {
      if (replayed[field] !== account[field]) {
        violations.push(`account ${account.id} ${field} is ${account[field]} but its transfers replay to ${replayed[field]}`);
      }
    }
  }
  if (total.debitsPosted !== total.creditsPosted) violations.push(`posted debits ${total.debitsPosted} != posted credits ${total.creditsPosted}`);
  if (total.debitsPending !== total.creditsPending) violations.push(`pending debits ${total.debitsPending} != pending credits ${total.creditsPending}`);
  const resolvers = new Map<string, number>();
  for (const t of state.transfers.values()) {
    if (t.pendingId !== null) resolvers.set(t.pendingId, (resolvers.get(t.pendingId) ?? 0) + 1);
  }
  for (const [pendingId, count] of resolvers) {
    if (count > 1) violations.push(`hold ${pendingId} was resolved ${count} times`);
    const resolution = state.resolutions.get(pendingId);
    if (!resolution || resolution.status === 'expired') violations.push(`hold ${pendingId} has a post/void but no matching resolution`);
  }
  return violations;
}

/**
 * The whole ledger in memory: the reference implementation the property tests drive, and a
 * handy fake for callers' unit tests.
 */
export class Ledger {
  readonly state: LedgerState = emptyLedgerState();

  createAccounts(accounts: readonly NewAccount[], now: Date): AccountOutcome[] {
    return createAccounts(this.state, accounts, now);
  }

  createTransfers(inputs: readonly TransferInput[], now: Date): TransferOutcome[] {
    return createTransfers(this.state, inputs, now).results;
  }

  expirePendingTransfers(now: Date): string[] {
    return expirePendingTransfers(this.state, now).expired;
  }

  lookupAccount(id: string): Account | undefined {
    const account = this.state.accounts.get(id);
    return account ? { ...account } : undefined;
  }

  lookupTransfer(id: string): Transfer | undefined {
    return this.state.transfers.get(id);
  }

  pendingStatus(pendingId: string): PendingStatus | undefined {
    return pendingStatusOf(this.state, pendingId);
  }

  checkInvariants(): string[] {
    return checkLedgerInvariants(this.state);
  }
}
