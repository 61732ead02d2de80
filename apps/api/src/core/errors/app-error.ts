/**
 * Every error a user can cause: a stable code, an HTTP status, and a sentence a person understands.
 * Services throw these; the global exception filter is the only place that turns them into HTTP.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'malformed_json'
  | 'payload_too_large'
  | 'unauthenticated'
  | 'token_expired'
  | 'invalid_credentials'
  | 'two_factor_required'
  | 'two_factor_invalid'
  | 'two_factor_already_enabled'
  | 'two_factor_not_enabled'
  | 'account_locked'
  | 'account_suspended'
  | 'forbidden'
  | 'insufficient_scope'
  | 'not_found'
  | 'route_not_found'
  | 'conflict'
  | 'email_taken'
  | 'idempotency_mismatch'
  | 'insufficient_credits'
  | 'webhook_signature_missing'
  | 'webhook_signature_malformed'
  | 'webhook_signature_mismatch'
  | 'webhook_timestamp_out_of_tolerance'
  | 'webhook_payload_invalid'
  | 'webhook_unknown_payment'
  | 'ledger_conflict'
  | 'ledger_rejected'
  | 'hold_already_settled'
  | 'top_up_not_pending'
  | 'provider_balance_insufficient'
  // Estimates (the estimator's input codes, @anneal/benchmarks EstimateErrorCode).
  | 'unknown_gpu'
  | 'unknown_model'
  | 'does_not_fit_memory'
  | 'invalid_steps'
  | 'invalid_dataset'
  | 'invalid_epochs'
  | 'invalid_batch_size'
  | 'invalid_grad_accum'
  | 'invalid_shape'
  | 'invalid_method'
  | 'invalid_precision'
  | 'invalid_quantization'
  | 'invalid_gpu_count'
  | 'invalid_price'
  | 'invalid_validation'
  | 'provider_not_enabled'
  | 'join_token_invalid'
  | 'machine_mismatch'
  | 'simulated_nodes_not_allowed'
  | 'node_key_taken'
  | 'node_busy'
  | 'unsatisfiable'
  // Disputes and the admin side.
  | 'dispute_exists'
  | 'dispute_window_closed'
  | 'dispute_already_answered'
  | 'dispute_already_resolved'
  | 'dispute_resolved'
  | 'attempt_not_ended'
  | 'nothing_to_dispute'
  | 'nothing_to_refund'
  | 'refund_exceeds_charge'
  | 'not_the_provider'
  | 'already_reviewed'
  | 'already_suspended'
  | 'not_suspended'
  | 'cannot_suspend_self'
  | 'user_deleted'
  | 'node_already_quarantined'
  | 'node_not_quarantined'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error'
  // Privacy and per-attempt credentials.
  | 'attempt_token_invalid'
  | 'attempt_token_revoked'
  | 'reauthentication_failed'
  | 'transfer_ownership_first'
  | 'nodes_busy'
  | 'storage_unavailable'
  | (string & {});

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: ErrorCode, message: string, details?: unknown) => new AppError(400, code, message, details);
export const unauthenticated = (message = 'Sign in to continue: the request carries no valid token or API key.', code: ErrorCode = 'unauthenticated') =>
  new AppError(401, code, message);
export const forbidden = (message: string, code: ErrorCode = 'forbidden') => new AppError(403, code, message);
/** Another organization's resource is indistinguishable from a missing one. */
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found.`);
export const conflict = (code: ErrorCode, message: string, details?: unknown) => new AppError(409, code, message, details);
export const unprocessable = (code: ErrorCode, message: string, details?: unknown) => new AppError(422, code, message, details);
export const paymentRequired = (message: string, details?: unknown) => new AppError(402, 'insufficient_credits', message, details);
