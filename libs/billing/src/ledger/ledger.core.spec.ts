import { describe, expect, it } from 'vitest';
import { accountIdFor, deriveUuid, orgAccounts, platformAccounts, providerAccounts } from './account-ids.js';
import { Ledger } from './ledger.core.js';
import { TRANSFER_RESULT_MESSAGES } from './ledger.messages.js';
import { AccountFlags, TransferFlags, availableBalance, type TransferInput } from './ledger.types.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const ORG = '0190a0b0-0000-7000-8000-000000000001';
const PROVIDER = '0190a0b0-0000-7000-8000-000000000002';
const available = accountIdFor('org_available', ORG);
const held = accountIdFor('org_held', ORG);
const payable = accountIdFor('provider_payable', PROVIDER);
const revenue = accountIdFor('platform_revenue');
const clearing = accountIdFor('platform_payment_clearing');

let seq = 0;
const id = (): string => deriveUuid('spec', String(seq++));

function ledgerWithCredit(micros: bigint): Ledger {
  const ledger = new Ledger();
  const outcomes = ledger.createAccounts([...orgAccounts(ORG), ...providerAccounts(PROVIDER), ...platformAccounts()], T0);
  expect(outcomes.map((o) => o.result)).toEqual(Array(7).fill('ok'));
  if (micros > 0n) {
    expect(ledger.createTransfers([{ id: id(), debitAccountId: clearing, creditAccountId: available, amount: micros, code: 'top_up' }], T0)[0]!.result).toBe('ok');
  }
  return ledger;
}

function balance(ledger: Ledger, accountId: string): bigint {
  return availableBalance(ledger.lookupAccount(accountId)!);
}

describe('accounts', () => {
  it('derives stable ids per (kind, owner) and answers exists on re-creation', () => {
    expect(accountIdFor('org_available', ORG)).toBe(accountIdFor('org_available', ORG.toUpperCase()));
    expect(accountIdFor('org_available', ORG)).not.toBe(accountIdFor('org_held', ORG));
    expect(() => accountIdFor('org_available')).toThrow();
    expect(() => accountIdFor('platform_revenue', ORG)).toThrow();
    const ledger = ledgerWithCredit(0n);
    expect(ledger.createAccounts(orgAccounts(ORG), T0).map((o) => o.result)).toEqual(['exists', 'exists']);
    expect(ledger.createAccounts([{ ...orgAccounts(ORG)[0]!, flags: 0 }], T0)[0]!.result).toBe('exists_with_different_fields');
  });

  it('refuses invalid accounts', () => {
    const ledger = new Ledger();
    expect(ledger.createAccounts([{ id: 'nope', kind: 'org_available', ownerId: ORG, flags: 0 }], T0)[0]!.result).toBe('id_invalid');
    expect(
      ledger.createAccounts([{ id: id(), kind: 'platform_revenue', ownerId: null, flags: AccountFlags.hot | AccountFlags.debitsMustNotExceedCredits }], T0)[0]!
        .result,
    ).toBe('flags_are_mutually_exclusive');
    expect(ledger.createAccounts([{ id: id(), kind: 'bogus' as 'org_held', ownerId: null, flags: 0 }], T0)[0]!.result).toBe('kind_invalid');
  });
});

describe('plain transfers', () => {
  it('moves money and is idempotent per id', () => {
    const ledger = ledgerWithCredit(1_000_000n);
    const transfer: TransferInput = { id: id(), debitAccountId: available, creditAccountId: payable, amount: 400_000n, code: 'transfer' };
    expect(ledger.createTransfers([transfer], T0)[0]!.result).toBe('ok');
    expect(ledger.createTransfers([transfer], T0)[0]!.result).toBe('exists');
    expect(balance(ledger, available)).toBe(600_000n);
    expect(ledger.createTransfers([{ ...transfer, amount: 1n }], T0)[0]!.result).toBe('exists_with_different_fields');
    expect(ledger.createTransfers([{ ...transfer, creditAccountId: revenue }], T0)[0]!.result).toBe('exists_with_different_fields');
    expect(ledger.createTransfers([{ ...transfer, links: { jobId: ORG } }], T0)[0]!.result).toBe('exists_with_different_fields');
    expect(balance(ledger, available)).toBe(600_000n);
    expect(ledger.checkInvariants()).toEqual([]);
  });

  it('refuses to take a customer below zero', () => {
    const ledger = ledgerWithCredit(100n);
    expect(ledger.createTransfers([{ id: id(), debitAccountId: available, creditAccountId: payable, amount: 101n, code: 'transfer' }], T0)[0]!.result).toBe(
      'insufficient_funds',
    );
    expect(balance(ledger, available)).toBe(100n);
  });

  it.each<[Partial<TransferInput>, string]>([
    [{ id: 'x' }, 'id_invalid'],
    [{ amount: 0n }, 'amount_must_be_positive'],
    [{ amount: -5n }, 'amount_must_be_positive'],
    [{ creditAccountId: available }, 'accounts_must_be_different'],
    [{ debitAccountId: undefined }, 'debit_account_required'],
    [{ creditAccountId: undefined }, 'credit_account_required'],
    [{ debitAccountId: deriveUuid('missing') }, 'debit_account_not_found'],
    [{ creditAccountId: deriveUuid('missing') }, 'credit_account_not_found'],
    [{ pendingId: deriveUuid('p') }, 'pending_id_must_be_absent'],
    [{ timeoutSeconds: 5 }, 'timeout_reserved_for_pending_transfer'],
    [{ flags: TransferFlags.pending | TransferFlags.voidPending }, 'flags_are_mutually_exclusive'],
    [{ code: 'nope' as 'transfer' }, 'code_invalid'],
    [{ links: { jobId: 'job-1' } }, 'link_invalid'],
    [{ debitAccountId: clearing, amount: 2n ** 63n }, 'overflows_balance'],
    [{ links: { paymentId: '' } }, 'link_invalid'],
    [{ links: { paymentId: 'x'.repeat(256) } }, 'link_invalid'],
    [{ flags: TransferFlags.pending, timeoutSeconds: -1 }, 'timeout_invalid'],
  ])('refuses %o with %s', (patch, code) => {
    const ledger = ledgerWithCredit(1_000n);
    const input = { id: id(), debitAccountId: available, creditAccountId: payable, amount: 10n, code: 'transfer' as const, ...patch };
    expect(ledger.createTransfers([input], T0)[0]!.result).toBe(code);
    expect(balance(ledger, available)).toBe(1_000n);
  });
});

describe('holds', () => {
  function hold(ledger: Ledger, amount: bigint, timeoutSeconds = 0): string {
    const holdId = id();
    const outcome = ledger.createTransfers(
      [{ id: holdId, debitAccountId: available, creditAccountId: held, amount, code: 'hold', flags: TransferFlags.pending, timeoutSeconds }],
      T0,
    );
    expect(outcome[0]!.result).toBe('ok');
    return holdId;
  }

  it('reserves funds, posts in part and releases the rest', () => {
    const ledger = ledgerWithCredit(1_000n);
    const holdId = hold(ledger, 600n);
    expect(balance(ledger, available)).toBe(400n);
    expect(ledger.lookupAccount(held)!.creditsPending).toBe(600n);
    expect(ledger.createTransfers([{ id: id(), debitAccountId: available, creditAccountId: payable, amount: 401n, code: 'transfer' }], T0)[0]!.result).toBe(
      'insufficient_funds',
    );
    const post = { id: id(), pendingId: holdId, amount: 250n, code: 'charge' as const, flags: TransferFlags.postPending };
    expect(ledger.createTransfers([{ ...post, amount: 601n }], T0)[0]!.result).toBe('exceeds_pending_transfer_amount');
    expect(ledger.createTransfers([post], T0)[0]!.result).toBe('ok');
    expect(ledger.createTransfers([post], T0)[0]!.result).toBe('exists');
    expect(ledger.pendingStatus(holdId)).toBe('posted');
    expect(balance(ledger, available)).toBe(750n);
    expect(ledger.lookupAccount(held)).toMatchObject({ creditsPending: 0n, creditsPosted: 250n });
    expect(ledger.createTransfers([{ ...post, id: id() }], T0)[0]!.result).toBe('pending_already_resolved');
    expect(ledger.createTransfers([{ id: id(), pendingId: holdId, code: 'release', flags: TransferFlags.voidPending }], T0)[0]!.result).toBe(
      'pending_already_resolved',
    );
    expect(ledger.checkInvariants()).toEqual([]);
  });

  it('voids a hold in full, and only once', () => {
    const ledger = ledgerWithCredit(1_000n);
    const holdId = hold(ledger, 600n);
    const voidInput = { id: id(), pendingId: holdId, code: 'release' as const, flags: TransferFlags.voidPending };
    expect(ledger.createTransfers([{ ...voidInput, amount: 5n }], T0)[0]!.result).toBe('pending_transfer_has_different_amount');
    expect(ledger.createTransfers([{ ...voidInput, debitAccountId: payable }], T0)[0]!.result).toBe('pending_transfer_has_different_accounts');
    expect(ledger.createTransfers([voidInput], T0)[0]!.result).toBe('ok');
    expect(balance(ledger, available)).toBe(1_000n);
    expect(ledger.createTransfers([{ ...voidInput, id: id() }], T0)[0]!.result).toBe('pending_already_resolved');
    expect(ledger.pendingStatus(holdId)).toBe('voided');
  });

  it('expires a hold at its timeout; posting it afterwards is refused', () => {
    const ledger = ledgerWithCredit(1_000n);
    const holdId = hold(ledger, 600n, 60);
    const at59 = new Date(T0.getTime() + 59_000);
    const at60 = new Date(T0.getTime() + 60_000);
    expect(ledger.expirePendingTransfers(at59)).toEqual([]);
    const post = { id: id(), pendingId: holdId, code: 'charge' as const, flags: TransferFlags.postPending };
    expect(ledger.createTransfers([post], at60)[0]!.result).toBe('pending_transfer_expired');
    expect(ledger.expirePendingTransfers(at60)).toEqual([holdId]);
    expect(ledger.pendingStatus(holdId)).toBe('expired');
    expect(balance(ledger, available)).toBe(1_000n);
    expect(ledger.createTransfers([post], at60)[0]!.result).toBe('pending_transfer_expired');
    expect(ledger.expirePendingTransfers(at60)).toEqual([]);
    expect(ledger.checkInvariants()).toEqual([]);
  });

  it('refuses post/void of what is not an open hold', () => {
    const ledger = ledgerWithCredit(1_000n);
    const plain = id();
    ledger.createTransfers([{ id: plain, debitAccountId: available, creditAccountId: payable, amount: 1n, code: 'transfer' }], T0);
    const base = { id: id(), code: 'charge' as const, flags: TransferFlags.postPending };
    expect(ledger.createTransfers([base], T0)[0]!.result).toBe('pending_id_required');
    expect(ledger.createTransfers([{ ...base, pendingId: 'zz' }], T0)[0]!.result).toBe('pending_id_invalid');
    expect(ledger.createTransfers([{ ...base, pendingId: deriveUuid('nothing') }], T0)[0]!.result).toBe('pending_transfer_not_found');
    expect(ledger.createTransfers([{ ...base, pendingId: plain }], T0)[0]!.result).toBe('pending_transfer_not_pending');
    expect(ledger.createTransfers([{ ...base, pendingId: plain, timeoutSeconds: 3 }], T0)[0]!.result).toBe('timeout_reserved_for_pending_transfer');
    const holdId = hold(ledger, 10n);
    expect(ledger.createTransfers([{ ...base, pendingId: holdId, amount: 0n }], T0)[0]!.result).toBe('amount_must_be_positive');
  });
});

describe('linked batches', () => {
  it('applies a chain as one and rolls it back when one member fails', () => {
    const ledger = ledgerWithCredit(1_000n);
    const a = { id: id(), debitAccountId: available, creditAccountId: payable, amount: 700n, code: 'transfer' as const, flags: TransferFlags.linked };
    const b = { id: id(), debitAccountId: available, creditAccountId: revenue, amount: 400n, code: 'transfer' as const };
    const c = { id: id(), debitAccountId: available, creditAccountId: revenue, amount: 100n, code: 'transfer' as const };
    const outcomes = ledger.createTransfers([a, b, c], T0);
    expect(outcomes.map((o) => o.result)).toEqual(['linked_event_failed', 'insufficient_funds', 'ok']);
    expect(balance(ledger, available)).toBe(900n);
    expect(ledger.lookupTransfer(a.id)).toBeUndefined();
    // The failed ids are free to use again.
    expect(ledger.createTransfers([{ ...a, flags: 0 }], T0)[0]!.result).toBe('ok');
    expect(ledger.checkInvariants()).toEqual([]);
  });

  it('fails the rest of the chain after a failure, and reports an open chain', () => {
    const ledger = ledgerWithCredit(1_000n);
    const t = (amount: bigint, flags: number) => ({ id: id(), debitAccountId: available, creditAccountId: payable, amount, code: 'transfer' as const, flags });
    const L = TransferFlags.linked;
    expect(ledger.createTransfers([t(5_000n, L), t(1n, L), t(1n, 0), t(2n, 0)], T0).map((o) => o.result)).toEqual([
      'insufficient_funds',
      'linked_event_failed',
      'linked_event_failed',
      'ok',
    ]);
    expect(ledger.createTransfers([t(1n, 0), t(1n, L), t(1n, L)], T0).map((o) => o.result)).toEqual(['ok', 'linked_event_failed', 'linked_event_chain_open']);
    expect(ledger.createTransfers([t(5_000n, L), t(1n, L), t(1n, L)], T0).map((o) => o.result)).toEqual([
      'insufficient_funds',
      'linked_event_failed',
      'linked_event_chain_open',
    ]);
    expect(balance(ledger, available)).toBe(1_000n - 3n);
  });

  it('answers exists for every member when a committed chain is retried', () => {
    const ledger = ledgerWithCredit(1_000n);
    const batch = [
      { id: id(), debitAccountId: available, creditAccountId: payable, amount: 600n, code: 'transfer' as const, flags: TransferFlags.linked },
      { id: id(), debitAccountId: available, creditAccountId: revenue, amount: 400n, code: 'transfer' as const },
    ];
    expect(ledger.createTransfers(batch, T0).map((o) => o.result)).toEqual(['ok', 'ok']);
    expect(ledger.createTransfers(batch, T0).map((o) => o.result)).toEqual(['exists', 'exists']);
    expect(balance(ledger, available)).toBe(0n);
  });
});

describe('messages', () => {
  it('has a sentence for every transfer outcome', () => {
    for (const [code, message] of Object.entries(TRANSFER_RESULT_MESSAGES)) expect(message, code).toMatch(/^[A-Z].+\.$/);
  });
});
