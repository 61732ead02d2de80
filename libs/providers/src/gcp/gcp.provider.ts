import { inspect } from 'node:util';
import type { ComputeProvider, SpotCapability } from '../port/compute-provider.port.js';
import { NotFoundError, ProvisioningError } from '../port/provider.errors.js';
import type { InstanceState, OfferListing, OfferQuery, ProvisionedInstance, ProvisionRequest } from '../port/provider.types.js';
import { matchesOfferQuery } from '../port/offer-query.js';
import { GcpComputeClient, type GcpInstance } from './gcp.client.js';
import { gcpProviderConfigSchema, type GcpProviderConfig, type GcpProviderConfigInput } from './gcp.config.js';
import {
  gcpCallError,
  gcpInstanceId,
  gcpInstanceName,
  gcpInstanceResource,
  gcpInstanceStatus,
  gcpLabelValue,
  gcpOfferId,
  gcpOffers,
  gcpOperationError,
  parseGcpInstanceId,
  parseGcpOfferId,
  type GcpErrorContext,
} from './gcp.mapper.js';
import { GCP_PRICING, machineShapeFor, regionOfZone, zonePrices, type GcpPricingCatalog } from './gcp-pricing.js';

/** google-gax's ALREADY_EXISTS (gRPC 6, HTTP 409). */
function isAlreadyExists(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 6;
}

/**
 * Google Compute Engine capacity: offers from the pricing catalog for the configured zones,
 * instances through the real `@google-cloud/compute` client. Spot-capable.
 */
export class GcpProvider implements ComputeProvider, SpotCapability {
  readonly kind = 'gcp' as const;
  readonly #config: GcpProviderConfig;
  readonly #client: GcpComputeClient;
  readonly #pricing: GcpPricingCatalog;

  /** Validates the config (zod) and fails fast with the field at fault. */
  constructor(config: GcpProviderConfigInput, options: { pricing?: GcpPricingCatalog } = {}) {
    this.#config = gcpProviderConfigSchema.parse(config);
    this.#client = new GcpComputeClient(this.#config);
    this.#pricing = options.pricing ?? GCP_PRICING;
  }

  readonly spot = {
    wasPreempted: async (instanceId: string): Promise<boolean> => {
      const { zone, name } = this.#parseInstanceId(instanceId);
      const target = `https://www.googleapis.com/compute/v1/projects/${this.#config.projectId}/zones/${zone}/instances/${name}`;
      try {
        const operations = await this.#client.listOperations(zone, `(operationType = "compute.instances.preempted") AND (targetLink = "${target}")`);
        return operations.length > 0;
      } catch (error) {
        throw gcpCallError(error, this.#errorContext(zone));
      }
    },
  };

  async listOffers(query: OfferQuery = {}): Promise<OfferListing> {
    const { offers, skipped } = gcpOffers(zonePrices(this.#pricing), this.#config);
    return { offers: offers.filter((offer) => matchesOfferQuery(offer, query)), skipped };
  }

  async provision(request: ProvisionRequest): Promise<ProvisionedInstance> {
    const key = parseGcpOfferId(request.offerId);
    if (!key || !this.#config.zones.includes(key.zone) || !machineShapeFor(key.acceleratorType, key.gpuCount)) {
      throw new NotFoundError(`offer '${request.offerId}' is not a GCP offer of this account`, { providerKind: 'gcp' });
    }
    const listed = (await this.listOffers()).offers.find((offer) => offer.offerId === gcpOfferId(key));
    if (!listed) throw new NotFoundError(`offer '${request.offerId}' is no longer listed`, { providerKind: 'gcp', region: key.zone });
    if (!request.agent) {
      throw new ProvisioningError('a GCP machine needs an agent join token to provision', { providerKind: 'gcp', region: key.zone });
    }
    const context = this.#errorContext(key.zone, key.acceleratorType, request.agent.joinToken);
    const resource = gcpInstanceResource({
      config: this.#config,
      key,
      attemptId: request.attemptId,
      agent: request.agent,
      priceMicrosPerGpuHour: listed.priceMicrosPerGpuHour,
    });
    const name = gcpInstanceName(request.attemptId);
    let operation;
    try {
      const started = await this.#client.insertInstance(key.zone, resource, request.attemptId);
      operation = await this.#client.waitForOperation(key.zone, started, this.#config.operationTimeoutMs);
    } catch (error) {
      if (isAlreadyExists(error)) {
        const existing = await this.#existingForAttempt(key.zone, name, request.attemptId);
        if (existing) {
          return {
            providerKind: 'gcp',
            instanceId: gcpInstanceId(key.zone, name),
            offerId: request.offerId,
            region: regionOfZone(key.zone),
            zone: key.zone,
            status: gcpInstanceStatus(existing.status),
          };
        }
      }
      throw gcpCallError(error, context);
    }
    const failure = gcpOperationError(operation, context);
    if (failure) throw failure;
    if (operation.status !== 'DONE') {
      throw new ProvisioningError(`the instance insert did not finish within ${Math.round(this.#config.operationTimeoutMs / 1000)} s`, {
        providerKind: 'gcp',
        region: key.zone,
        retryable: true,
      });
    }
    return {
      providerKind: 'gcp',
      instanceId: gcpInstanceId(key.zone, name),
      offerId: request.offerId,
      region: regionOfZone(key.zone),
      zone: key.zone,
      status: 'provisioning',
    };
  }

  async getStatus(instanceId: string): Promise<InstanceState> {
    const { zone, name } = this.#parseInstanceId(instanceId);
    try {
      const instance = await this.#client.getInstance(zone, name);
      const providerStatus = instance.status ?? 'UNKNOWN';
      return { instanceId, status: gcpInstanceStatus(providerStatus), providerStatus, preempted: false };
    } catch (error) {
      throw gcpCallError(error, this.#errorContext(zone));
    }
  }

  async terminate(instanceId: string): Promise<void> {
    const { zone, name } = this.#parseInstanceId(instanceId);
    const context = this.#errorContext(zone);
    try {
      const started = await this.#client.deleteInstance(zone, name);
      const operation = await this.#client.waitForOperation(zone, started, this.#config.operationTimeoutMs);
      const failure = gcpOperationError(operation, context);
      if (failure && !(failure instanceof NotFoundError)) throw failure;
    } catch (error) {
      const typed = gcpCallError(error, context);
      if (typed instanceof NotFoundError) return;
      throw typed;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  toString(): string {
    return `GcpProvider(project=${this.#config.projectId}, zones=${this.#config.zones.join(',')})`;
  }

  toJSON(): { kind: 'gcp'; projectId: string; zones: string[]; credentials: '[REDACTED]' } {
    return { kind: 'gcp', projectId: this.#config.projectId, zones: this.#config.zones, credentials: '[REDACTED]' };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** A retried provision: the instance of this attempt already exists (same name, same attempt label). */
  async #existingForAttempt(zone: string, name: string, attemptId: string): Promise<GcpInstance | null> {
    try {
      const instance = await this.#client.getInstance(zone, name);
      return instance.labels?.['anneal-attempt-id'] === gcpLabelValue(attemptId) ? instance : null;
    } catch {
      return null;
    }
  }

  #parseInstanceId(instanceId: string): { zone: string; name: string } {
    const parsed = parseGcpInstanceId(instanceId);
    if (!parsed) throw new NotFoundError(`'${instanceId}' is not a GCP instance id (zone/name)`, { providerKind: 'gcp' });
    return parsed;
  }

  #errorContext(zone: string, acceleratorType?: string, joinToken?: string): GcpErrorContext {
    const credentials = this.#config.credentials;
    const secrets = credentials.type === 'service_account' ? [credentials.privateKey] : [credentials.accessToken];
    return { zone, ...(acceleratorType ? { acceleratorType } : {}), secrets: [...secrets, joinToken] };
  }
}
