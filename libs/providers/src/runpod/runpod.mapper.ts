import type { ServerlessJobStatus } from '../port/compute-provider.port.js';
import {
  NoCapacityError,
  NotFoundError,
  ProviderAuthError,
  ProviderError,
  ProvisioningError,
  QuotaExceededError,
} from '../port/provider.errors.js';
import type { AgentBootstrap, InstanceStatus, Offer, SkippedOffer } from '../port/provider.types.js';
import { mapProviderGpu } from '../shared/gpu-mapping.js';
import { AGENT_REGISTER_AND_RUN, agentRegion, CLOUD_AGENT_HOME, microsToUsd } from '../shared/agent-bootstrap.js';
import { redactSecrets } from '../shared/redact.js';
import { RunpodApiError, type RunpodCreatePodRequest, type RunpodPod } from './runpod.client.js';
import type { RunpodPodGpuType, RunpodProviderConfig, RunpodServerlessEndpoint } from './runpod.config.js';

// ---------------------------------------------------------------------------------------------
// Offers

/** 'NVIDIA GeForce RTX 4090' → 'nvidia-geforce-rtx-4090' (offer ids carry no spaces). */
export function gpuTypeSlug(gpuTypeId: string): string {
  return gpuTypeId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export type RunpodOfferKey =
  | { type: 'pod'; gpuTypeSlug: string; gpuCount: number; spot: boolean }
  | { type: 'serverless'; endpointId: string };

export function runpodPodOfferId(gpuType: RunpodPodGpuType, gpuCount: number, spot: boolean): string {
  return `runpod:pod:${gpuTypeSlug(gpuType.gpuTypeId)}:${gpuCount}:${spot ? 'spot' : 'standard'}`;
}

export function runpodServerlessOfferId(endpoint: RunpodServerlessEndpoint): string {
  return `runpod:serverless:${endpoint.endpointId}`;
}

export function parseRunpodOfferId(offerId: string): RunpodOfferKey | null {
  const pod = /^runpod:pod:([a-z0-9-]+):([0-9]+):(spot|standard)$/.exec(offerId);
  if (pod) return { type: 'pod', gpuTypeSlug: pod[1] as string, gpuCount: Number(pod[2]), spot: pod[3] === 'spot' };
  const serverless = /^runpod:serverless:([a-z0-9]+)$/.exec(offerId);
  if (serverless) return { type: 'serverless', endpointId: serverless[1] as string };
  return null;
}

export function runpodOffers(config: RunpodProviderConfig): { offers: Offer[]; skipped: SkippedOffer[] } {
  const offers: Offer[] = [];
  const skipped = new Map<string, SkippedOffer>();
  for (const gpuType of config.podGpuTypes) {
    const mapping = mapProviderGpu('runpod', gpuType.gpuTypeId);
    if (mapping.kind === 'skipped') {
      skipped.set(gpuType.gpuTypeId, mapping.skipped);
      continue;
    }
    const models: { spot: boolean; micros: bigint }[] = [{ spot: false, micros: gpuType.onDemandMicrosPerGpuHour }];
    if (gpuType.spotMicrosPerGpuHour !== null) models.push({ spot: true, micros: gpuType.spotMicrosPerGpuHour });
    for (const gpuCount of [...gpuType.gpuCounts].sort((a, b) => a - b)) {
      for (const model of models) {
        offers.push({
          providerKind: 'runpod',
          offerId: runpodPodOfferId(gpuType, gpuCount, model.spot),
          offerType: 'machine',
          gpuModelId: mapping.gpu.id,
          gpuCount,
          vramGb: mapping.gpu.vramGb,
          region: gpuType.region,
          zone: null,
          priceMicrosPerGpuHour: model.micros,
          spot: model.spot,
          reliability: model.spot ? config.reliability.spot : config.reliability.onDemand,
          availability: 'likely',
          simulated: false,
        });
      }
    }
  }
  for (const endpoint of config.serverlessEndpoints) {
    const mapping = mapProviderGpu('runpod', endpoint.gpuTypeId);
    if (mapping.kind === 'skipped') {
      skipped.set(endpoint.gpuTypeId, mapping.skipped);
      continue;
    }
    offers.push({
      providerKind: 'runpod',
      offerId: runpodServerlessOfferId(endpoint),
      offerType: 'serverless',
      gpuModelId: mapping.gpu.id,
      gpuCount: endpoint.gpuCount,
      vramGb: mapping.gpu.vramGb,
      region: endpoint.region,
      zone: null,
      priceMicrosPerGpuHour: endpoint.priceMicrosPerGpuHour,
      spot: false,
      reliability: config.reliability.onDemand,
      availability: 'likely',
      simulated: false,
    });
  }
  return { offers, skipped: [...skipped.values()] };
}

// ---------------------------------------------------------------------------------------------
// Pods

/**
 * The create-pod body: an image with anneal-agent, the join token in the pod's environment, and a
 * start command that registers and runs the agent.
 */
export function runpodCreatePodRequest(input: {
  config: RunpodProviderConfig;
  gpuType: RunpodPodGpuType;
  gpuCount: number;
  spot: boolean;
  attemptId: string;
  agent: AgentBootstrap;
}): RunpodCreatePodRequest {
  const { config, gpuType, gpuCount, spot, attemptId, agent } = input;
  const priceMicrosPerGpuHour = spot && gpuType.spotMicrosPerGpuHour !== null ? gpuType.spotMicrosPerGpuHour : gpuType.onDemandMicrosPerGpuHour;
  return {
    name: `anneal-${attemptId}`,
    imageName: config.imageName,
    gpuTypeIds: [gpuType.gpuTypeId],
    gpuCount,
    cloudType: config.cloudType,
    computeType: 'GPU',
    containerDiskInGb: config.containerDiskInGb,
    volumeInGb: 0,
    interruptible: spot,
    env: {
      ANNEAL_AGENT_HOME: CLOUD_AGENT_HOME,
      ANNEAL_API_URL: agent.apiUrl,
      ANNEAL_JOIN_TOKEN: agent.joinToken,
      ANNEAL_PRICE_USD: microsToUsd(priceMicrosPerGpuHour),
      ANNEAL_REGION: agentRegion(gpuType.region),
    },
    dockerStartCmd: ['bash', '-c', AGENT_REGISTER_AND_RUN],
    ...(gpuType.dataCenterIds.length > 0 ? { dataCenterIds: gpuType.dataCenterIds } : {}),
  };
}

/** RunPod's desiredStatus onto the port's: a RUNNING pod counts as running once its container started. */
export function runpodPodStatus(pod: RunpodPod): InstanceStatus {
  switch (pod.desiredStatus) {
    case 'RUNNING':
      return pod.lastStartedAt ? 'running' : 'provisioning';
    case 'EXITED':
      return 'stopped';
    case 'TERMINATED':
      return 'terminated';
    default:
      return 'provisioning';
  }
}

/**
 * Whether RunPod reclaimed this spot (interruptible) pod for a higher bid. The only machine-readable
 * cause RunPod records for a stop it did itself: `lastStatusChange` reads "Outbid: <date>" and the
 * pod is EXITED (stopped) or TERMINATED. Every other stop reads "Exited by User/Runpod: <date>" or
 * "Terminated by …" and names no reason, so it is not a preemption.
 */
export function runpodPodPreempted(pod: RunpodPod): boolean {
  const stopped = pod.desiredStatus === 'EXITED' || pod.desiredStatus === 'TERMINATED';
  return stopped && typeof pod.lastStatusChange === 'string' && /^\s*outbid\b/i.test(pod.lastStatusChange);
}

// ---------------------------------------------------------------------------------------------
// Serverless

export function runpodJobStatus(status: string | undefined): ServerlessJobStatus {
  switch (status) {
    case 'IN_QUEUE':
      return 'queued';
    case 'IN_PROGRESS':
      return 'running';
    case 'COMPLETED':
      return 'completed';
    case 'CANCELLED':
      return 'canceled';
    case 'TIMED_OUT':
      return 'timed_out';
    case 'FAILED':
      return 'failed';
    default:
      return 'queued';
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

const NO_CAPACITY = [
  /no longer any instances available/i,
  /not enough free GPUs/i,
  /does not have the resources to deploy/i,
  /no (available )?(gpus?|instances|machines) (are )?available/i,
  /no workers available/i,
];
const QUOTA = [/insufficient (funds|balance|credits)/i, /balance is too low/i, /quota/i, /spend limit/i, /maximum number of/i];

export interface RunpodErrorContext {
  region?: string;
  /** What was asked for, for the sentence ('2 × RTX 4090'). */
  what?: string;
  secrets: readonly (string | undefined)[];
}

/** An HTTP status and RunPod's error text onto a typed error. */
export function runpodHttpError(status: number, providerMessage: string, context: RunpodErrorContext): ProviderError {
  const text = redactSecrets(providerMessage, context.secrets);
  const where = { providerKind: 'runpod' as const, ...(context.region ? { region: context.region } : {}) };
  if (status === 401) return new ProviderAuthError('the RunPod API key was rejected (401)', where);
  if (status === 403) return new ProviderAuthError('the RunPod API key lacks permission for this action (403)', where);
  if (status === 404) return new NotFoundError(`not found: ${text}`, where);
  if (NO_CAPACITY.some((pattern) => pattern.test(text))) {
    return new NoCapacityError(`no ${context.what ?? 'GPU'} capacity right now (${text})`, where);
  }
  if (status === 402 || QUOTA.some((pattern) => pattern.test(text))) {
    return new QuotaExceededError(`the RunPod account cannot start more (${text})`, where);
  }
  const retryable = status === 0 || status === 429 || status >= 500;
  return new ProvisioningError(`RunPod refused the request (${status || 'no answer'}): ${text}`, { ...where, retryable });
}

/** Errors from the REST client, or from runpod-sdk's HTTP layer (xior: `error.response.status/data`). */
export function runpodCallError(error: unknown, context: RunpodErrorContext): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof RunpodApiError) return runpodHttpError(error.status, error.providerMessage, context);
  const response = (error as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  if (response && typeof response.status === 'number') {
    const data = response.data as { error?: unknown; message?: unknown } | string | undefined;
    const text =
      typeof data === 'string'
        ? data
        : typeof data?.error === 'string'
          ? data.error
          : typeof data?.message === 'string'
            ? data.message
            : `HTTP ${response.status}`;
    return runpodHttpError(response.status, text, context);
  }
  const message = error instanceof Error && error.name === 'XiorTimeoutError' ? 'no answer in time' : 'network error';
  return runpodHttpError(0, message, context);
}
