export interface FieldError {
  field: string;
  message: string;
}

/** The one error body of every endpoint. */
export interface ErrorResponse {
  code: string;
  message: string;
  requestId: string;
  details?: unknown;
}
