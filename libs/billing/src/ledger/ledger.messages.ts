import type { CreateAccountResult, CreateTransferResult } from './ledger.types.js';

/**
 * A sentence a person understands for every ledger outcome, keyed by its stable code. The API
 * returns `{ code, message }`; it maps codes to HTTP statuses (e.g. `insufficient_funds` → 402,
 * `exists_with_different_fields` → 409).
 */
export const TRANSFER_RESULT_MESSAGES: Readonly<Record<CreateTransferResult, string>> = Object.freeze({
  ok: 'The transfer was recorded.',
  exists: 'This transfer was already recorded; nothing changed.',
  exists_with_different_fields: 'This id was already used for a different transfer.',
  linked_event_failed: 'Not recorded, because another transfer of the same batch failed.',
  linked_event_chain_open: 'The batch ended in the middle of a linked chain, so none of the chain was recorded.',
  id_invalid: 'The transfer id must be a UUID.',
  code_invalid: 'The transfer code is not one the ledger knows.',
  link_invalid: 'A job, attempt, dispute or payout reference is not a UUID, or the payment reference is empty or too long.',
  flags_are_mutually_exclusive: 'A transfer can be a hold, a post or a void, but only one of them.',
  accounts_must_be_different: 'A transfer needs two different accounts.',
  debit_account_required: 'The account to take the money from is missing.',
  credit_account_required: 'The account to put the money in is missing.',
  debit_account_not_found: 'The account to take the money from does not exist.',
  credit_account_not_found: 'The account to put the money in does not exist.',
  amount_must_be_positive: 'The amount must be more than zero.',
  pending_id_required: 'Posting or voiding needs the id of the hold.',
  pending_id_must_be_absent: 'Only a post or a void refers to a hold.',
  pending_id_invalid: 'The hold id must be a UUID.',
  pending_transfer_not_found: 'There is no such hold.',
  pending_transfer_not_pending: 'That transfer is not a hold.',
  pending_transfer_has_different_accounts: 'The accounts given do not match the hold.',
  pending_transfer_has_different_amount: 'A void releases the whole hold; the amount given does not match it.',
  exceeds_pending_transfer_amount: 'More was asked to be charged than the hold reserved.',
  pending_already_resolved: 'This hold was already charged or released.',
  pending_transfer_expired: 'This hold expired before it was charged or released.',
  timeout_reserved_for_pending_transfer: 'Only a hold can have a timeout.',
  timeout_invalid: 'The timeout must be a whole, non-negative number of seconds.',
  overflows_balance: 'The amount is too large for the ledger.',
  insufficient_funds: 'There is not enough credit for this.',
  exceeds_debits: 'This account cannot receive more than it has paid out.',
});

export const ACCOUNT_RESULT_MESSAGES: Readonly<Record<CreateAccountResult, string>> = Object.freeze({
  ok: 'The account was created.',
  exists: 'The account already exists.',
  exists_with_different_fields: 'An account with this id or for this owner and kind exists with other settings.',
  id_invalid: 'Account and owner ids must be UUIDs.',
  kind_invalid: 'The account kind is not one the ledger knows.',
  flags_are_mutually_exclusive: 'These account flags cannot be combined.',
});
