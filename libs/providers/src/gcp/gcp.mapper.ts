import { getGpu } from '@anneal/benchmarks';
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
import type { GcpInstance, GcpOperation } from './gcp.client.js';
import type { GcpProviderConfig } from './gcp.config.js';
import { gpuCountsFor, machineShapeFor, type GcpZonePrice } from './gcp-pricing.js';

// ---------------------------------------------------------------------------------------------
// Offers

export interface GcpOfferKey {
  zone: string;
  acceleratorType: string;
  gpuCount: number;
  spot: boolean;
}

export function gcpOfferId(key: GcpOfferKey): string {
  return `gcp:${key.zone}:${key.acceleratorType}:${key.gpuCount}:${key.spot ? 'spot' : 'standard'}`;
}

export function parseGcpOfferId(offerId: string): GcpOfferKey | null {
  const match = /^gcp:([a-z]+-[a-z]+[0-9]+-[a-z]):([a-z0-9-]+):([0-9]+):(spot|standard)$/.exec(offerId);
  if (!match) return null;
  const [, zone = '', acceleratorType = '', count = '0', model = ''] = match;
  return { zone, acceleratorType, gpuCount: Number(count), spot: model === 'spot' };
}

/** Offers for the configured zones: one per GPU count GCP sells, on-demand and (when priced) spot. */
export function gcpOffers(prices: readonly GcpZonePrice[], config: GcpProviderConfig): { offers: Offer[]; skipped: SkippedOffer[] } {
  const offers: Offer[] = [];
  const skipped = new Map<string, SkippedOffer>();
  for (const price of prices) {
    if (!config.zones.includes(price.zone)) continue;
    const mapping = mapProviderGpu('gcp', price.acceleratorType);
    if (mapping.kind === 'skipped') {
      skipped.set(price.acceleratorType, mapping.skipped);
      continue;
    }
    const counts = gpuCountsFor(price.acceleratorType);
    if (counts.length === 0) {
      skipped.set(price.acceleratorType, {
        providerKind: 'gcp',
        providerGpuName: price.acceleratorType,
        reason: `no GCP machine type is known for '${price.acceleratorType}'`,
      });
      continue;
    }
    const models: { spot: boolean; micros: bigint }[] = [{ spot: false, micros: price.onDemandMicrosPerGpuHour }];
    if (config.offerSpot && price.spotMicrosPerGpuHour !== null) models.push({ spot: true, micros: price.spotMicrosPerGpuHour });
    for (const gpuCount of counts) {
      for (const model of models) {
        offers.push({
          providerKind: 'gcp',
          offerId: gcpOfferId({ zone: price.zone, acceleratorType: price.acceleratorType, gpuCount, spot: model.spot }),
          offerType: 'machine',
          gpuModelId: mapping.gpu.id,
          gpuCount,
          vramGb: mapping.gpu.vramGb,
          region: price.region,
          zone: price.zone,
          priceMicrosPerGpuHour: model.micros,
          spot: model.spot,
          reliability: model.spot ? config.reliability.spot : config.reliability.onDemand,
          availability: 'likely',
          simulated: false,
        });
      }
    }
  }
  return { offers, skipped: [...skipped.values()] };
}

// ---------------------------------------------------------------------------------------------
// Instances

/** GCP instance names: lower-case letters, digits and '-', starting with a letter, at most 63. */
export function gcpInstanceName(attemptId: string): string {
  const slug = attemptId.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+$/, '');
  return `anneal-${slug}`.slice(0, 63).replace(/-+$/, '');
}

/** Label values: lower-case letters, digits, '-' and '_', at most 63. */
export function gcpLabelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
}

export const JOIN_TOKEN_METADATA_KEY = 'anneal-join-token';

/**
 * The VM's startup script: reads the one-time join token from instance metadata (so the script
 * itself holds no secret), installs anneal-agent when the image lacks it, registers and runs it
 * (anneal-agent's own CLI), and when the agent exits deletes the VM through the metadata server's
 * token, falling back to a shutdown (after which `maxRunDuration` + DELETE still removes it).
 */
export function gcpStartupScript(input: { apiUrl: string; priceMicrosPerGpuHour: bigint; zone: string; agentInstallCommand: string }): string {
  return [
    '#!/bin/bash',
    '# Anneal: run anneal-agent on this VM, then delete the VM when the agent exits.',
    'set -u',
    'MD=http://metadata.google.internal/computeMetadata/v1',
    'md() { curl -fsS -H "Metadata-Flavor: Google" "$MD/$1"; }',
    'finish() {',
    '  TOKEN=$(md instance/service-accounts/default/token | sed -E \'s/.*"access_token":"([^"]+)".*/\\1/\')',
    '  SELF=$(md instance/zone)/instances/$(md instance/name)',
    '  PROJECT=$(md project/project-id)',
    '  curl -fsS -X DELETE -H "Authorization: Bearer $TOKEN" "https://compute.googleapis.com/compute/v1/projects/$PROJECT/${SELF#projects/*/}" || true',
    '  shutdown -h now',
    '}',
    'trap finish EXIT',
    `command -v anneal-agent >/dev/null 2>&1 || ${input.agentInstallCommand}`,
    `export ANNEAL_AGENT_HOME=${CLOUD_AGENT_HOME}`,
    `export ANNEAL_API_URL=${shellQuote(input.apiUrl)}`,
    `export ANNEAL_PRICE_USD=${microsToUsd(input.priceMicrosPerGpuHour)}`,
    `export ANNEAL_REGION=${agentRegion(input.zone)}`,
    `ANNEAL_JOIN_TOKEN=$(md instance/attributes/${JOIN_TOKEN_METADATA_KEY})`,
    'export ANNEAL_JOIN_TOKEN',
    AGENT_REGISTER_AND_RUN,
    '',
  ].join('\n');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The Instance resource an insert sends. */
export function gcpInstanceResource(input: {
  config: GcpProviderConfig;
  key: GcpOfferKey;
  attemptId: string;
  agent: AgentBootstrap;
  priceMicrosPerGpuHour: bigint;
}): GcpInstance {
  const { config, key, attemptId, agent } = input;
  const shape = machineShapeFor(key.acceleratorType, key.gpuCount);
  if (!shape) throw new Error(`no machine shape for ${key.gpuCount} × ${key.acceleratorType}`);
  const zonePath = `zones/${key.zone}`;
  return {
    name: gcpInstanceName(attemptId),
    machineType: `${zonePath}/machineTypes/${shape.machineType}`,
    ...(shape.kind === 'attached'
      ? { guestAccelerators: [{ acceleratorType: `${zonePath}/acceleratorTypes/${shape.acceleratorType}`, acceleratorCount: shape.acceleratorCount }] }
      : {}),
    labels: { 'anneal-attempt-id': gcpLabelValue(attemptId), 'managed-by': 'anneal' },
    disks: [
      {
        boot: true,
        autoDelete: true,
        type: 'PERSISTENT',
        initializeParams: { sourceImage: config.sourceImage, diskSizeGb: String(config.bootDiskGb) },
      },
    ],
    networkInterfaces: [{ network: config.network, accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
    metadata: {
      items: [
        {
          key: 'startup-script',
          value: gcpStartupScript({
            apiUrl: agent.apiUrl,
            priceMicrosPerGpuHour: input.priceMicrosPerGpuHour,
            zone: key.zone,
            agentInstallCommand: config.agentInstallCommand,
          }),
        },
        { key: JOIN_TOKEN_METADATA_KEY, value: agent.joinToken },
        { key: 'install-nvidia-driver', value: 'True' },
      ],
    },
    serviceAccounts: [{ email: config.instanceServiceAccountEmail ?? 'default', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }],
    scheduling: key.spot
      ? {
          provisioningModel: 'SPOT',
          preemptible: true,
          instanceTerminationAction: 'DELETE',
          onHostMaintenance: 'TERMINATE',
          automaticRestart: false,
          maxRunDuration: { seconds: String(config.maxRunDurationS) },
        }
      : {
          provisioningModel: 'STANDARD',
          instanceTerminationAction: 'DELETE',
          onHostMaintenance: 'TERMINATE',
          automaticRestart: false,
          maxRunDuration: { seconds: String(config.maxRunDurationS) },
        },
  };
}

/** GCP instance statuses onto the port's. */
export function gcpInstanceStatus(status: string | null | undefined): InstanceStatus {
  switch (status) {
    case 'PROVISIONING':
    case 'STAGING':
    case 'PENDING':
      return 'provisioning';
    case 'RUNNING':
    case 'REPAIRING':
      return 'running';
    case 'STOPPING':
    case 'SUSPENDING':
    case 'PENDING_STOP':
      return 'stopping';
    case 'STOPPED':
    case 'SUSPENDED':
    case 'TERMINATED':
      return 'stopped';
    default:
      return 'provisioning';
  }
}

export function gcpInstanceId(zone: string, name: string): string {
  return `${zone}/${name}`;
}

export function parseGcpInstanceId(instanceId: string): { zone: string; name: string } | null {
  const match = /^([a-z]+-[a-z]+[0-9]+-[a-z])\/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)$/.exec(instanceId);
  return match ? { zone: match[1] as string, name: match[2] as string } : null;
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface GcpErrorContext {
  zone: string;
  /** The GPU being provisioned, for the sentence ('A100 80GB'). */
  acceleratorType?: string;
  /** Secrets to scrub from any provider text carried into the error. */
  secrets: readonly (string | undefined)[];
}

function gpuLabel(acceleratorType: string | undefined): string {
  if (!acceleratorType) return 'GPU';
  const mapping = mapProviderGpu('gcp', acceleratorType);
  return mapping.kind === 'known' ? getGpu(mapping.gpu.id).name : acceleratorType;
}

const CAPACITY_CODES = ['ZONE_RESOURCE_POOL_EXHAUSTED', 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS', 'RESOURCE_POOL_EXHAUSTED', 'STOCKOUT'];
const QUOTA_CODES = ['QUOTA_EXCEEDED', 'QUOTA_LIMIT', 'quotaExceeded', 'rateLimitExceeded_quota'];

function classifyText(text: string): 'capacity' | 'quota' | null {
  if (CAPACITY_CODES.some((code) => text.includes(code)) || /does not have enough resources available/i.test(text) || /resourcePoolExhausted/i.test(text)) {
    return 'capacity';
  }
  if (QUOTA_CODES.some((code) => text.includes(code)) || /Quota '[^']+' exceeded/i.test(text)) return 'quota';
  return null;
}

function quotaName(text: string): string | null {
  return /Quota '([^']+)' exceeded/i.exec(text)?.[1] ?? null;
}

/** A finished operation's `error.errors[]` onto a typed error (null when the operation succeeded). */
export function gcpOperationError(operation: GcpOperation, context: GcpErrorContext): ProviderError | null {
  const errors = operation.error?.errors ?? [];
  if (errors.length === 0) return null;
  const text = errors.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
  return classified(text, context, operation.httpErrorStatusCode ?? undefined);
}

function classified(rawText: string, context: GcpErrorContext, httpStatus: number | undefined): ProviderError {
  const text = redactSecrets(rawText, context.secrets);
  const gpu = gpuLabel(context.acceleratorType);
  const where = { providerKind: 'gcp' as const, region: context.zone };
  const kind = classifyText(text);
  if (kind === 'capacity') return new NoCapacityError(`no ${gpu} capacity right now (ZONE_RESOURCE_POOL_EXHAUSTED)`, where);
  if (kind === 'quota') {
    const quota = quotaName(text);
    return new QuotaExceededError(`the project's GPU quota does not allow another ${gpu}${quota ? ` (quota ${quota})` : ''}`, where);
  }
  if (httpStatus === 401) return new ProviderAuthError('the GCP credentials were rejected (401)', where);
  if (httpStatus === 403) return new ProviderAuthError('the GCP credentials lack permission for this project (403)', where);
  if (httpStatus === 404) return new NotFoundError(`not found: ${text}`, where);
  const retryable = httpStatus === undefined || httpStatus === 429 || httpStatus >= 500;
  return new ProvisioningError(`GCP refused the request: ${text}`, { ...where, retryable });
}

const GRPC_TO_HTTP: Record<number, number> = { 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401 };

/** An error thrown by the client library (Google error JSON decoded by google-gax) onto a typed error. */
export function gcpCallError(error: unknown, context: GcpErrorContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const candidate = error as { code?: unknown; message?: unknown; reason?: unknown; details?: unknown; statusDetails?: unknown };
  const code = typeof candidate.code === 'number' ? candidate.code : undefined;
  const httpStatus = code === undefined ? undefined : (GRPC_TO_HTTP[code] ?? (code >= 100 ? code : undefined));
  const text = [candidate.reason, candidate.message].filter((part): part is string => typeof part === 'string').join(' ');
  return classified(text || String(error), context, httpStatus);
}
