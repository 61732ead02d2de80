import type { ProviderKind } from './provider.types.js';

/**
 * Stable codes of every failure an adapter reports. The scheduler records them as skip reasons and
 * moves to the next offer; the API turns them into `{ code, message }`.
 */
export const ProviderErrorCode = {
  NoCapacity: 'provider_no_capacity',
  QuotaExceeded: 'provider_quota_exceeded',
  Auth: 'provider_auth_failed',
  Provisioning: 'provider_provisioning_failed',
  NotFound: 'provider_not_found',
} as const;
export type ProviderErrorCode = (typeof ProviderErrorCode)[keyof typeof ProviderErrorCode];

/** Where a failure happened: the provider kind and, when known, its region or zone. */
export interface ProviderErrorContext {
  providerKind: ProviderKind;
  /** Region or zone ('us-central1-a', 'EU-RO-1'); absent when the failure is not tied to one. */
  region?: string;
  /** Whether trying the same offer again later may succeed (capacity, rate limits, timeouts). */
  retryable?: boolean;
  /** The underlying error, for logs. Never carries credentials: adapters redact before wrapping. */
  cause?: unknown;
}

const PROVIDER_LABEL: Record<ProviderKind, string> = { community: 'Community', gcp: 'GCP', runpod: 'RunPod' };

/**
 * The base of the typed failures. `message` is a sentence a user can read, prefixed with where it
 * happened ("GCP us-central1-a: no A100 capacity"); `reason` is the same sentence without the prefix.
 */
export abstract class ProviderError extends Error {
  abstract readonly code: ProviderErrorCode;
  readonly providerKind: ProviderKind;
  readonly region: string | undefined;
  readonly reason: string;
  readonly retryable: boolean;

  protected constructor(reason: string, context: ProviderErrorContext, retryableByDefault: boolean) {
    const where = context.region ? `${PROVIDER_LABEL[context.providerKind]} ${context.region}` : PROVIDER_LABEL[context.providerKind];
    super(`${where}: ${reason}`, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.providerKind = context.providerKind;
    this.region = context.region;
    this.reason = reason;
    this.retryable = context.retryable ?? retryableByDefault;
  }

  /** The shape the API and the scheduler's skip log record. */
  toJSON(): { code: ProviderErrorCode; message: string; providerKind: ProviderKind; region?: string; retryable: boolean } {
    return {
      code: this.code,
      message: this.message,
      providerKind: this.providerKind,
      ...(this.region ? { region: this.region } : {}),
      retryable: this.retryable,
    };
  }
}

/** The provider has no machine of that kind right now (GCP ZONE_RESOURCE_POOL_EXHAUSTED, RunPod "no instances"). */
export class NoCapacityError extends ProviderError {
  readonly code = ProviderErrorCode.NoCapacity;
  constructor(reason: string, context: ProviderErrorContext) {
    super(reason, context, true);
  }
}

/** The account's quota (or balance) at the provider does not allow it. */
export class QuotaExceededError extends ProviderError {
  readonly code = ProviderErrorCode.QuotaExceeded;
  constructor(reason: string, context: ProviderErrorContext) {
    super(reason, context, false);
  }
}

/** The provider refused the credentials (401/403). */
export class ProviderAuthError extends ProviderError {
  readonly code = ProviderErrorCode.Auth;
  constructor(reason: string, context: ProviderErrorContext) {
    super(reason, context, false);
  }
}

/** Anything else that stopped a machine from coming up: a bad request, a timeout, no acknowledgement. */
export class ProvisioningError extends ProviderError {
  readonly code = ProviderErrorCode.Provisioning;
  constructor(reason: string, context: ProviderErrorContext) {
    super(reason, context, false);
  }
}

/** The instance, pod, node or offer does not exist (any more). */
export class NotFoundError extends ProviderError {
  readonly code = ProviderErrorCode.NotFound;
  constructor(reason: string, context: ProviderErrorContext) {
    super(reason, context, false);
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}
