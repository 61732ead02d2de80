import { inspect } from 'node:util';
import runpodSdk from 'runpod-sdk';
import type { ComputeProvider, ServerlessCapability, ServerlessJob, SpotCapability } from '../port/compute-provider.port.js';
import { NotFoundError, ProvisioningError } from '../port/provider.errors.js';
import { matchesOfferQuery } from '../port/offer-query.js';
import type { InstanceState, OfferListing, OfferQuery, ProvisionedInstance, ProvisionRequest } from '../port/provider.types.js';
import { RunpodRestClient } from './runpod.client.js';
import { runpodProviderConfigSchema, type RunpodProviderConfig, type RunpodProviderConfigInput } from './runpod.config.js';
import {
  gpuTypeSlug,
  parseRunpodOfferId,
  runpodCallError,
  runpodCreatePodRequest,
  runpodJobStatus,
  runpodOffers,
  runpodPodPreempted,
  runpodPodStatus,
  type RunpodErrorContext,
} from './runpod.mapper.js';

type RunpodEndpoint = NonNullable<ReturnType<ReturnType<typeof runpodSdk>['endpoint']>>;

/**
 * RunPod capacity: GPU pods through RunPod's REST API (own small client), serverless endpoints
 * through `runpod-sdk`. Interruptible pods are listed as spot offers; a pod RunPod reclaimed for a
 * higher bid says so in its `lastStatusChange` ("Outbid: …"), which the spot capability reads.
 */
export class RunpodProvider implements ComputeProvider, ServerlessCapability, SpotCapability {
  readonly kind = 'runpod' as const;
  readonly #config: RunpodProviderConfig;
  readonly #rest: RunpodRestClient;
  readonly #sdk: ReturnType<typeof runpodSdk>;

  constructor(config: RunpodProviderConfigInput) {
    this.#config = runpodProviderConfigSchema.parse(config);
    this.#rest = new RunpodRestClient({ apiKey: this.#config.apiKey, baseUrl: this.#config.restBaseUrl, timeoutMs: this.#config.requestTimeoutMs });
    this.#sdk = runpodSdk(this.#config.apiKey, { baseUrl: this.#config.serverlessBaseUrl.replace(/\/+$/, '') });
  }

  readonly spot = {
    /** A pod RunPod no longer has (a terminated outbid pod may vanish) cannot be told apart from one deleted otherwise: false. */
    wasPreempted: async (instanceId: string): Promise<boolean> => {
      try {
        return runpodPodPreempted(await this.#rest.getPod(instanceId));
      } catch (error) {
        const typed = runpodCallError(error, this.#errorContext({}));
        if (typed instanceof NotFoundError) return false;
        throw typed;
      }
    },
  };

  readonly serverless = {
    run: async (endpointId: string, input: unknown): Promise<ServerlessJob> => {
      const endpoint = this.#endpoint(endpointId);
      try {
        const answer = await endpoint.run({ input }, this.#config.requestTimeoutMs);
        return this.#job(endpointId, answer as unknown as Record<string, unknown>);
      } catch (error) {
        throw runpodCallError(error, this.#errorContext({ what: `serverless endpoint ${endpointId}` }));
      }
    },
    status: async (endpointId: string, jobId: string): Promise<ServerlessJob> => {
      const endpoint = this.#endpoint(endpointId);
      try {
        const answer = await endpoint.status(jobId, this.#config.requestTimeoutMs);
        return this.#job(endpointId, answer as unknown as Record<string, unknown>);
      } catch (error) {
        throw runpodCallError(error, this.#errorContext({ what: `serverless endpoint ${endpointId}` }));
      }
    },
    cancel: async (endpointId: string, jobId: string): Promise<ServerlessJob> => {
      const endpoint = this.#endpoint(endpointId);
      try {
        const answer = await endpoint.cancel(jobId, this.#config.requestTimeoutMs);
        return this.#job(endpointId, answer as unknown as Record<string, unknown>);
      } catch (error) {
        throw runpodCallError(error, this.#errorContext({ what: `serverless endpoint ${endpointId}` }));
      }
    },
  };

  async listOffers(query: OfferQuery = {}): Promise<OfferListing> {
    const { offers, skipped } = runpodOffers(this.#config);
    return { offers: offers.filter((offer) => matchesOfferQuery(offer, query)), skipped };
  }

  async provision(request: ProvisionRequest): Promise<ProvisionedInstance> {
    const key = parseRunpodOfferId(request.offerId);
    if (key?.type === 'serverless') {
      throw new ProvisioningError(`offer '${request.offerId}' is a serverless endpoint: run it through the serverless capability`, { providerKind: 'runpod' });
    }
    const gpuType = key ? this.#config.podGpuTypes.find((candidate) => gpuTypeSlug(candidate.gpuTypeId) === key.gpuTypeSlug) : undefined;
    const offered = key && gpuType && gpuType.gpuCounts.includes(key.gpuCount) && (!key.spot || gpuType.spotMicrosPerGpuHour !== null);
    if (!key || !gpuType || !offered) {
      throw new NotFoundError(`offer '${request.offerId}' is not a RunPod offer of this account`, { providerKind: 'runpod' });
    }
    if (!request.agent) {
      throw new ProvisioningError('a RunPod pod needs an agent join token to provision', { providerKind: 'runpod', region: gpuType.region });
    }
    const body = runpodCreatePodRequest({ config: this.#config, gpuType, gpuCount: key.gpuCount, spot: key.spot, attemptId: request.attemptId, agent: request.agent });
    const context = this.#errorContext({ region: gpuType.region, what: `${key.gpuCount} × ${gpuType.gpuTypeId}`, joinToken: request.agent.joinToken });
    try {
      const pod = await this.#rest.createPod(body);
      return {
        providerKind: 'runpod',
        instanceId: pod.id,
        offerId: request.offerId,
        region: pod.machine?.dataCenterId ?? gpuType.region,
        zone: null,
        status: runpodPodStatus(pod),
      };
    } catch (error) {
      throw runpodCallError(error, context);
    }
  }

  async getStatus(instanceId: string): Promise<InstanceState> {
    try {
      const pod = await this.#rest.getPod(instanceId);
      return { instanceId, status: runpodPodStatus(pod), providerStatus: pod.desiredStatus, preempted: runpodPodPreempted(pod) };
    } catch (error) {
      throw runpodCallError(error, this.#errorContext({}));
    }
  }

  async terminate(instanceId: string): Promise<void> {
    try {
      await this.#rest.deletePod(instanceId);
    } catch (error) {
      const typed = runpodCallError(error, this.#errorContext({}));
      if (typed instanceof NotFoundError) return;
      throw typed;
    }
  }

  /** Stops a pod without deleting it (its disk stays, billed at storage rates). Not part of the port. */
  async stop(instanceId: string): Promise<InstanceState> {
    try {
      const pod = await this.#rest.stopPod(instanceId);
      return { instanceId, status: runpodPodStatus(pod), providerStatus: pod.desiredStatus, preempted: false };
    } catch (error) {
      throw runpodCallError(error, this.#errorContext({}));
    }
  }

  toString(): string {
    return `RunpodProvider(rest=${this.#config.restBaseUrl}, gpuTypes=${this.#config.podGpuTypes.length}, endpoints=${this.#config.serverlessEndpoints.length})`;
  }

  toJSON(): { kind: 'runpod'; restBaseUrl: string; serverlessBaseUrl: string; apiKey: '[REDACTED]' } {
    return { kind: 'runpod', restBaseUrl: this.#config.restBaseUrl, serverlessBaseUrl: this.#config.serverlessBaseUrl, apiKey: '[REDACTED]' };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #endpoint(endpointId: string): RunpodEndpoint {
    if (!this.#config.serverlessEndpoints.some((endpoint) => endpoint.endpointId === endpointId)) {
      throw new NotFoundError(`serverless endpoint '${endpointId}' is not configured for this account`, { providerKind: 'runpod' });
    }
    const endpoint = this.#sdk.endpoint(endpointId);
    if (!endpoint) throw new NotFoundError(`serverless endpoint '${endpointId}' is not configured`, { providerKind: 'runpod' });
    return endpoint;
  }

  #job(endpointId: string, answer: Record<string, unknown>): ServerlessJob {
    const jobId = typeof answer['id'] === 'string' ? answer['id'] : '';
    if (!jobId) throw new ProvisioningError(`serverless endpoint ${endpointId} answered without a job id`, { providerKind: 'runpod' });
    return {
      endpointId,
      jobId,
      status: runpodJobStatus(typeof answer['status'] === 'string' ? answer['status'] : undefined),
      ...('output' in answer ? { output: answer['output'] } : {}),
      ...(typeof answer['executionTime'] === 'number' ? { executionTimeMs: answer['executionTime'] } : {}),
      ...(typeof answer['delayTime'] === 'number' ? { delayTimeMs: answer['delayTime'] } : {}),
    };
  }

  #errorContext(input: { region?: string; what?: string; joinToken?: string }): RunpodErrorContext {
    return {
      ...(input.region ? { region: input.region } : {}),
      ...(input.what ? { what: input.what } : {}),
      secrets: [this.#config.apiKey, input.joinToken],
    };
  }
}
