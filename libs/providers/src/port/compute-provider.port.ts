import type {
  InstanceState,
  OfferListing,
  OfferQuery,
  ProviderKind,
  ProvisionedInstance,
  ProvisionRequest,
} from './provider.types.js';

/**
 * What every provider does. Failures are the typed errors of `provider.errors.ts`; anything an
 * adapter cannot do is a separate capability below, never a method that throws "not supported".
 */
export interface ComputeProvider {
  readonly kind: ProviderKind;
  /** Offers matching the query, plus the provider GPU names that could not be mapped onto the catalog. */
  listOffers(query?: OfferQuery): Promise<OfferListing>;
  /**
   * Starts a machine (or reserves a community node) for an attempt. Resolves once the provider has
   * accepted the request; the machine may still be booting (`status: 'provisioning'`).
   * Throws NoCapacityError, QuotaExceededError, ProviderAuthError, ProvisioningError, NotFoundError.
   */
  provision(request: ProvisionRequest): Promise<ProvisionedInstance>;
  /** Throws NotFoundError when the provider has no such instance (any more). */
  getStatus(instanceId: string): Promise<InstanceState>;
  /** Idempotent: an instance that is already gone resolves. */
  terminate(instanceId: string): Promise<void>;
}

/** Providers that sell interruptible (spot) capacity and can say whether a machine was reclaimed. */
export interface SpotCapability {
  readonly spot: {
    /** True when the provider reclaimed the instance (a preemption), false when it ended otherwise or still runs. */
    wasPreempted(instanceId: string): Promise<boolean>;
  };
}

export type ServerlessJobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'canceled' | 'timed_out';

export interface ServerlessJob {
  endpointId: string;
  jobId: string;
  status: ServerlessJobStatus;
  /** The endpoint's output once completed (JSON as the worker returned it). */
  output?: unknown;
  executionTimeMs?: number;
  delayTimeMs?: number;
}

/** Providers that run request-based serverless endpoints (RunPod serverless). */
export interface ServerlessCapability {
  readonly serverless: {
    run(endpointId: string, input: unknown): Promise<ServerlessJob>;
    status(endpointId: string, jobId: string): Promise<ServerlessJob>;
    cancel(endpointId: string, jobId: string): Promise<ServerlessJob>;
  };
}

export function hasSpotCapability<P extends ComputeProvider>(provider: P): provider is P & SpotCapability {
  const candidate = provider as Partial<SpotCapability>;
  return typeof candidate.spot === 'object' && candidate.spot !== null && typeof candidate.spot.wasPreempted === 'function';
}

export function hasServerlessCapability<P extends ComputeProvider>(provider: P): provider is P & ServerlessCapability {
  const candidate = provider as Partial<ServerlessCapability>;
  return typeof candidate.serverless === 'object' && candidate.serverless !== null && typeof candidate.serverless.run === 'function';
}
