import { TRANSFER_RESULT_MESSAGES, type CreateTransferResult } from '@anneal/billing';
import { AppError, badRequest, conflict, paymentRequired } from '../../core/errors/app-error.js';

/**
 * A ledger outcome that is not a success, as the HTTP error a caller sees:
 * `insufficient_funds` → 402 `insufficient_credits`; a reused id with other fields → 409
 * `ledger_conflict`; a hold already posted, voided or expired → 409 `hold_already_settled`;
 * anything else is input the ledger refused → 400.
 */
export function ledgerError(result: CreateTransferResult, details?: Record<string, unknown>): AppError {
  switch (result) {
    case 'insufficient_funds':
      return paymentRequired('Your available credit does not cover this: top up your balance and try again.', details);
    case 'exists_with_different_fields':
      return conflict('ledger_conflict', 'This was already recorded with different amounts or references; nothing changed.', details);
    case 'pending_already_resolved':
    case 'pending_transfer_expired':
      return conflict('hold_already_settled', `${TRANSFER_RESULT_MESSAGES[result]} Nothing changed.`, details);
    default:
      return badRequest('ledger_rejected', TRANSFER_RESULT_MESSAGES[result], { ...details, ledgerResult: result });
  }
}
