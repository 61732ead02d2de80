/**
 * Typed results. Everything a caller can get wrong (an unknown GPU, an absurd step count) comes
 * back as `{ ok: false, error }` with a stable `code` and a sentence, never as an exception.
 * Exceptions are kept for programmer errors (an id that is not in the catalog passed to getGpu).
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** Stable codes of the estimator's input errors. */
export type EstimateErrorCode =
  | 'unknown_gpu'
  | 'unknown_model'
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
  | 'does_not_fit_memory';

export interface EstimateError {
  code: EstimateErrorCode;
  /** One sentence a user can read: "needs ~38 GB, RTX 4090 has 24 GB". */
  message: string;
}

export function estimateError(code: EstimateErrorCode, message: string): EstimateError {
  return { code, message };
}
