import { createHash } from 'node:crypto';
import { AccountFlags, type AccountKind, type NewAccount } from './ledger.types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value) && value !== NIL_UUID;
}

/**
 * A name-based UUID (version 8, SHA-256 of the parts): the same parts always give the same id.
 * Used for account ids and for transfer ids derived from a domain event (e.g. "the charge of
 * attempt X"), so that replaying the event replays the same transfer ids and the ledger answers
 * `exists` instead of charging twice.
 */
export function deriveUuid(namespace: string, ...parts: readonly string[]): string {
  const hash = createHash('sha256').update(['anneal', namespace, ...parts].join('\u001f')).digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const PLATFORM_KINDS: ReadonlySet<AccountKind> = new Set(['platform_revenue', 'platform_payment_clearing', 'platform_payouts_clearing']);

export function isPlatformKind(kind: AccountKind): boolean {
  return PLATFORM_KINDS.has(kind);
}

/**
 * The account id of "org X available", "provider org Y payable", "platform revenue"…:
 * deterministic, so the API never needs a lookup to address an account.
 * Platform kinds take no owner; the others require one.
 */
export function accountIdFor(kind: AccountKind, ownerId: string | null = null): string {
  if (isPlatformKind(kind)) {
    if (ownerId !== null) throw new Error(`platform account ${kind} has no owner`);
    return deriveUuid('ledger-account', kind, 'platform');
  }
  if (!ownerId) throw new Error(`account ${kind} needs an owner org id`);
  return deriveUuid('ledger-account', kind, ownerId.toLowerCase());
}

/** The flags each kind of account is created with. */
export function defaultAccountFlags(kind: AccountKind): number {
  switch (kind) {
    case 'org_available':
    case 'org_held':
    case 'provider_payable':
      return AccountFlags.debitsMustNotExceedCredits;
    case 'platform_revenue':
      return AccountFlags.hot;
    case 'provider_paid_out':
    case 'platform_payment_clearing':
    case 'platform_payouts_clearing':
      return AccountFlags.none;
  }
}

export function newAccountFor(kind: AccountKind, ownerId: string | null = null): NewAccount {
  return { id: accountIdFor(kind, ownerId), kind, ownerId, flags: defaultAccountFlags(kind) };
}

/** A customer org's accounts: available and held. */
export function orgAccounts(orgId: string): NewAccount[] {
  return [newAccountFor('org_available', orgId), newAccountFor('org_held', orgId)];
}

/** A provider org's accounts: payable and paid out. */
export function providerAccounts(providerOrgId: string): NewAccount[] {
  return [newAccountFor('provider_payable', providerOrgId), newAccountFor('provider_paid_out', providerOrgId)];
}

/** The platform's accounts: revenue (hot), payment clearing, payouts clearing. */
export function platformAccounts(): NewAccount[] {
  return [newAccountFor('platform_revenue'), newAccountFor('platform_payment_clearing'), newAccountFor('platform_payouts_clearing')];
}
