/** One field the API refused, as `details.fields` carries it. */
export interface FieldError {
  field: string;
  message: string;
}

/** An error response of the API: `{ code, message, requestId, details? }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, requestId?: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }

  /** The per-field messages of a validation error, if any. */
  get fields(): FieldError[] {
    const fields = (this.details as { fields?: unknown } | undefined)?.fields;
    if (!Array.isArray(fields)) return [];
    return fields.filter((f): f is FieldError => typeof f === 'object' && f !== null && typeof f.field === 'string' && typeof f.message === 'string');
  }
}

const NETWORK_SENTENCE = 'Anneal could not be reached. Check your connection and try again.';
const FALLBACK_SENTENCE = 'Something went wrong. Try again in a moment.';

/** Builds the ApiError for a failed response; a body that is not our JSON still gives a sentence. */
export async function apiErrorFrom(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof record.code === 'string' ? record.code : `http_${response.status}`;
  const message = typeof record.message === 'string' && record.message.trim() !== '' ? record.message : sentenceForStatus(response.status);
  const requestId = typeof record.requestId === 'string' ? record.requestId : (response.headers.get('x-request-id') ?? undefined);
  return new ApiError(response.status, code, message, requestId, record.details);
}

function sentenceForStatus(status: number): string {
  if (status === 401) return 'Sign in to continue.';
  if (status === 403) return 'You do not have access to this.';
  if (status === 404) return 'This was not found.';
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  if (status >= 500) return 'Anneal had a problem on its side. Try again in a moment.';
  return FALLBACK_SENTENCE;
}

/** An error raised in the browser whose message is already a sentence for a person. */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserFacingError';
  }
}

/** The sentence to show a person for any thrown value: the API's message, never a stack. */
export function errorSentence(error: unknown): string {
  if (error instanceof ApiError || error instanceof UserFacingError) return error.message;
  if (error instanceof TypeError) return NETWORK_SENTENCE; // fetch's network failure
  if (error instanceof DOMException && error.name === 'AbortError') return 'The request was canceled.';
  return FALLBACK_SENTENCE;
}
