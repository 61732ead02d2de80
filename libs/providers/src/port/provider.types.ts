/** Where capacity comes from. */
export type ProviderKind = 'community' | 'gcp' | 'runpod';
export const PROVIDER_KINDS: readonly ProviderKind[] = ['community', 'gcp', 'runpod'];

/** 'machine': a whole machine (VM, pod, node) the agent runs on; 'serverless': a request-based endpoint. */
export type OfferType = 'machine' | 'serverless';

/**
 * How likely provisioning is to succeed right now. 'available': the provider says so (a community
 * node online and unreserved); 'likely': a cloud listing with no live stock signal (capacity is only
 * known when provisioning); 'unavailable': listed but known to be full or offline.
 */
export type OfferAvailability = 'available' | 'likely' | 'unavailable';

/** One way to get GPUs: the unified view the scheduler and estimator compare. */
export interface Offer {
  providerKind: ProviderKind;
  /** Stable for the same capacity across listings, unique across providers (prefixed with the kind). */
  offerId: string;
  offerType: OfferType;
  /** A `@anneal/benchmarks` catalog id ('a100-80gb-sxm'). */
  gpuModelId: string;
  gpuCount: number;
  /** Per GPU. */
  vramGb: number;
  /** 'us-central1', 'EU-RO-1', or the region a community provider declared. */
  region: string;
  /** GCP zone, when the offer is zonal. */
  zone: string | null;
  priceMicrosPerGpuHour: bigint;
  spot: boolean;
  /** 0..1: the share of attempts on this capacity expected to finish without losing the machine. */
  reliability: number;
  availability: OfferAvailability;
  /** True for community nodes whose GPUs are simulated (`anneal-agent --simulate`): never real capacity. */
  simulated: boolean;
}

/** Filters a listing; every field optional. */
export interface OfferQuery {
  gpuModelIds?: readonly string[];
  minVramGb?: number;
  /** Minimum GPU count. */
  minGpuCount?: number;
  /** true: spot only; false: on-demand only; absent: both. */
  spot?: boolean;
  maxPriceMicrosPerGpuHour?: bigint;
  regions?: readonly string[];
}

/** A name the adapter saw and could not map onto the GPU catalog: skipped, never guessed. */
export interface SkippedOffer {
  providerKind: ProviderKind;
  /** The provider's own name for the GPU ('nvidia-tesla-p4', 'NVIDIA GeForce RTX 5090'). */
  providerGpuName: string;
  reason: string;
}

export interface OfferListing {
  offers: Offer[];
  skipped: SkippedOffer[];
}

/** How an agent started on a cloud machine joins Anneal. */
export interface AgentBootstrap {
  /** One-time token the agent exchanges for its node identity. A secret: never logged. */
  joinToken: string;
  /** The API the agent joins (https://api.anneal.example). */
  apiUrl: string;
}

export interface ProvisionRequest {
  /** The attempt this machine is for; cloud instances are labelled with it. */
  attemptId: string;
  /** An offer id from a listing of this provider. */
  offerId: string;
  /** Cloud machines: how the agent on the new machine joins. */
  agent?: AgentBootstrap;
  /**
   * Community nodes: the assignment message to deliver (the protocol's `Assignment`), already
   * built and signed by the API.
   */
  assignment?: unknown;
}

/** A machine (or node reservation) the provider holds for an attempt. */
export interface ProvisionedInstance {
  providerKind: ProviderKind;
  /** Opaque to callers: what `getStatus` and `terminate` take. */
  instanceId: string;
  offerId: string;
  region: string;
  zone: string | null;
  status: InstanceStatus;
}

/** The port's view of a machine's life. */
export type InstanceStatus = 'provisioning' | 'running' | 'stopping' | 'stopped' | 'terminated';

export interface InstanceState {
  instanceId: string;
  status: InstanceStatus;
  /** The provider's own status word, for logs and disputes ('STAGING', 'EXITED'). */
  providerStatus: string;
  /** Spot capacity reclaimed by the provider, when the provider says so. */
  preempted: boolean;
}
