import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  NoCapacityError,
  NotFoundError,
  ProviderAuthError,
  ProviderError,
  ProviderErrorCode,
  ProvisioningError,
  QuotaExceededError,
} from '../port/provider.errors.js';
import type { GcpProviderConfigInput } from './gcp.config.js';
import { JOIN_TOKEN_METADATA_KEY } from './gcp.mapper.js';
import { GcpProvider } from './gcp.provider.js';
import type { GcpPricingCatalog } from './gcp-pricing.js';
import { ComputeFake, googleError } from './testing/compute-fake.js';

const TOKEN = 'ya29.fake-access-token-SECRET';
const JOIN = 'join-SECRET-one-time-7f3a';
const ATTEMPT = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

let fake: ComputeFake;
let attemptCounter = 0;

function config(overrides: Partial<GcpProviderConfigInput> = {}): GcpProviderConfigInput {
  return {
    projectId: 'anneal-test',
    zones: ['us-central1-a', 'us-central1-b'],
    credentials: { type: 'access_token', accessToken: TOKEN },
    endpoint: { host: '127.0.0.1', port: fake.port, protocol: 'http' },
    operationTimeoutMs: 10_000,
    ...overrides,
  };
}

function nextAttempt(): string {
  attemptCounter += 1;
  return `0193a1b2-c3d4-7e5f-8a9b-${String(attemptCounter).padStart(12, '0')}`;
}

const agent = { joinToken: JOIN, apiUrl: 'https://api.anneal.test' };

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a provider error');
}

function insertBody(): Record<string, unknown> {
  const inserts = fake.requestsTo('POST', /\/instances$/);
  return inserts[inserts.length - 1]?.body as Record<string, unknown>;
}

beforeAll(async () => {
  fake = await new ComputeFake(TOKEN).start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.acceptedToken = TOKEN;
});

describe('GcpProvider.listOffers', () => {
  it('lists catalog GPUs of the configured zones with catalog ids, counts, prices and spot', async () => {
    const provider = new GcpProvider(config());
    const { offers, skipped } = await provider.listOffers();
    expect(skipped).toEqual([]);
    expect(new Set(offers.map((o) => o.zone))).toEqual(new Set(['us-central1-a', 'us-central1-b']));
    const a100 = offers.find((o) => o.offerId === 'gcp:us-central1-a:nvidia-a100-80gb:1:standard');
    expect(a100).toMatchObject({
      providerKind: 'gcp',
      gpuModelId: 'a100-80gb-sxm',
      gpuCount: 1,
      vramGb: 80,
      region: 'us-central1',
      priceMicrosPerGpuHour: 3_928_080n,
      spot: false,
      simulated: false,
      offerType: 'machine',
    });
    const t4Spot = offers.find((o) => o.offerId === 'gcp:us-central1-b:nvidia-tesla-t4:4:spot');
    expect(t4Spot).toMatchObject({ gpuModelId: 't4', spot: true, priceMicrosPerGpuHour: 140_000n });
    expect(t4Spot?.reliability).toBeLessThan(a100?.reliability ?? 0);
    const l4 = offers.filter((o) => o.gpuModelId === 'l4' && o.zone === 'us-central1-a' && !o.spot).map((o) => o.gpuCount);
    expect(l4).toEqual([1, 2, 4, 8]);
  });

  it('filters by the query', async () => {
    const provider = new GcpProvider(config());
    const { offers } = await provider.listOffers({ gpuModelIds: ['h100-sxm'], spot: true, minGpuCount: 8 });
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every((o) => o.gpuModelId === 'h100-sxm' && o.spot && o.gpuCount >= 8)).toBe(true);
    expect((await provider.listOffers({ maxPriceMicrosPerGpuHour: 100_000n })).offers).toEqual([]);
  });

  it('skips and reports accelerator types the GPU catalog does not know, never guessing', async () => {
    const pricing: GcpPricingCatalog = {
      source: 'test',
      fetchedAt: '2026-11-22',
      currency: 'USD',
      entries: [
        { acceleratorType: 'nvidia-tesla-p4', region: 'us-central1', zones: ['us-central1-a'], onDemandMicrosPerGpuHour: 600000, spotMicrosPerGpuHour: null },
        { acceleratorType: 'nvidia-l4', region: 'us-central1', zones: ['us-central1-a'], onDemandMicrosPerGpuHour: 560000, spotMicrosPerGpuHour: null },
      ],
    };
    const { offers, skipped } = await new GcpProvider(config(), { pricing }).listOffers();
    expect(skipped).toEqual([{ providerKind: 'gcp', providerGpuName: 'nvidia-tesla-p4', reason: expect.stringContaining('not in the GPU catalog') }]);
    expect(offers.every((o) => o.gpuModelId === 'l4' && !o.spot)).toBe(true);
  });
});

describe('GcpProvider.provision (real client against the Compute fake)', () => {
  it('inserts an A2 spot VM carrying its GPUs, labelled, with the startup script and join token', async () => {
    const provider = new GcpProvider(config());
    const instance = await provider.provision({ attemptId: ATTEMPT, offerId: 'gcp:us-central1-a:nvidia-a100-80gb:2:spot', agent });
    expect(instance).toEqual({
      providerKind: 'gcp',
      instanceId: `us-central1-a/anneal-${ATTEMPT}`,
      offerId: 'gcp:us-central1-a:nvidia-a100-80gb:2:spot',
      region: 'us-central1',
      zone: 'us-central1-a',
      status: 'provisioning',
    });
    const body = insertBody();
    expect(body['machineType']).toBe('zones/us-central1-a/machineTypes/a2-ultragpu-2g');
    expect(body['guestAccelerators']).toBeUndefined();
    expect(body['labels']).toEqual({ 'anneal-attempt-id': ATTEMPT, 'managed-by': 'anneal' });
    expect(body['scheduling']).toMatchObject({ provisioningModel: 'SPOT', instanceTerminationAction: 'DELETE' });
    const items = (body['metadata'] as { items: { key: string; value: string }[] }).items;
    const script = items.find((i) => i.key === 'startup-script')?.value ?? '';
    expect(script).toContain('anneal-agent register --api "$ANNEAL_API_URL" --token "$ANNEAL_JOIN_TOKEN" --price "$ANNEAL_PRICE_USD"');
    expect(script).toContain('anneal-agent run');
    expect(script).toContain('export ANNEAL_PRICE_USD=1.571232');
    expect(script).toContain('export ANNEAL_REGION=us-central1-a');
    expect(script).toContain(`instance/attributes/${JOIN_TOKEN_METADATA_KEY}`);
    expect(script).toContain('shutdown -h now');
    expect(script).toContain('-X DELETE');
    expect(script).not.toContain(JOIN);
    expect(items.find((i) => i.key === JOIN_TOKEN_METADATA_KEY)?.value).toBe(JOIN);
    expect(fake.requestsTo('POST', /\/operations\/[^/]+\/wait$/).length).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('is idempotent: provisioning the same attempt again returns the existing instance', async () => {
    const provider = new GcpProvider(config());
    const attemptId = nextAttempt();
    const first = await provider.provision({ attemptId, offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent });
    const before = fake.instances.size;
    const again = await provider.provision({ attemptId, offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent });
    expect(again.instanceId).toBe(first.instanceId);
    expect(fake.instances.size).toBe(before);
  });

  it('attaches T4s to an N1 machine as guestAccelerators, on-demand', async () => {
    const provider = new GcpProvider(config());
    await provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-b:nvidia-tesla-t4:2:standard', agent });
    const body = insertBody();
    expect(body['machineType']).toBe('zones/us-central1-b/machineTypes/n1-standard-16');
    expect(body['guestAccelerators']).toEqual([{ acceleratorType: 'zones/us-central1-b/acceleratorTypes/nvidia-tesla-t4', acceleratorCount: 2 }]);
    expect(body['scheduling']).toMatchObject({ provisioningModel: 'STANDARD', instanceTerminationAction: 'DELETE', maxRunDuration: { seconds: '604800' } });
  });

  it('maps ZONE_RESOURCE_POOL_EXHAUSTED in the finished operation to NoCapacityError with a readable sentence', async () => {
    fake.failNextInsertOperation([
      {
        code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
        message: "The zone 'projects/anneal-test/zones/us-central1-a' does not have enough resources available to fulfill the request. Try a different zone, or try again later.",
      },
    ]);
    const error = await caught(new GcpProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-tesla-a100:1:standard', agent }));
    expect(error).toBeInstanceOf(NoCapacityError);
    expect(error.code).toBe(ProviderErrorCode.NoCapacity);
    expect(error.message).toBe('GCP us-central1-a: no A100 40GB SXM capacity right now (ZONE_RESOURCE_POOL_EXHAUSTED)');
    expect(error.providerKind).toBe('gcp');
    expect(error.region).toBe('us-central1-a');
    expect(error.retryable).toBe(true);
  });

  it('maps QUOTA_EXCEEDED in the finished operation to QuotaExceededError', async () => {
    fake.failNextInsertOperation([{ code: 'QUOTA_EXCEEDED', message: "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region us-central1." }]);
    const error = await caught(new GcpProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent }));
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error.message).toContain('quota NVIDIA_L4_GPUS');
  });

  it('maps a synchronous 403 quota error (Google error JSON) to QuotaExceededError', async () => {
    fake.failNextInsert(403, googleError(403, "Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.", 'quotaExceeded', 'PERMISSION_DENIED', 'QUOTA_EXCEEDED'));
    const error = await caught(new GcpProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-h100-80gb:8:spot', agent }));
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error.code).toBe('provider_quota_exceeded');
  });

  it('maps a synchronous 503 resource pool error to NoCapacityError', async () => {
    fake.failNextInsert(503, googleError(503, 'The zone does not have enough resources available to fulfill the request. ZONE_RESOURCE_POOL_EXHAUSTED', 'resourcePoolExhausted', 'UNAVAILABLE'));
    const error = await caught(new GcpProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent }));
    expect(error).toBeInstanceOf(NoCapacityError);
  });

  it('maps 403 permission denied to ProviderAuthError and 400 to ProvisioningError', async () => {
    fake.failNextInsert(403, googleError(403, "Required 'compute.instances.create' permission for 'projects/anneal-test/zones/us-central1-a/instances/x'", 'forbidden', 'PERMISSION_DENIED'));
    expect(await caught(new GcpProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent }))).toBeInstanceOf(ProviderAuthError);
    fake.failNextInsert(400, googleError(400, "Invalid value for field 'resource.machineType'", 'invalid', 'INVALID_ARGUMENT'));
    const error = await caught(new GcpProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent }));
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error.message).toContain("Invalid value for field 'resource.machineType'");
  });

  it('maps rejected credentials (401) to ProviderAuthError that never prints the token', async () => {
    fake.acceptedToken = 'another-token';
    const provider = new GcpProvider(config());
    const error = await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent }));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe('GCP us-central1-a: the GCP credentials were rejected (401)');
    for (const printed of [String(error), JSON.stringify(error), inspect(error, { depth: 10 }), error.stack ?? '']) {
      expect(printed).not.toContain(TOKEN);
      expect(printed).not.toContain(JOIN);
    }
  });

  it('refuses offers it does not sell and provisioning without a join token', async () => {
    const provider = new GcpProvider(config());
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:europe-west4-a:nvidia-l4:1:standard', agent }))).toBeInstanceOf(NotFoundError);
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:x', agent }))).toBeInstanceOf(NotFoundError);
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:3:standard', agent }))).toBeInstanceOf(NotFoundError);
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard' }))).toBeInstanceOf(ProvisioningError);
  });
});

describe('GcpProvider status, terminate and preemption', () => {
  it('follows the instance through its statuses, deletes it, and is idempotent on terminate', async () => {
    const provider = new GcpProvider(config());
    const { instanceId } = await provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-a:nvidia-l4:1:standard', agent });
    const [zone = '', name = ''] = instanceId.split('/');
    expect(await provider.getStatus(instanceId)).toEqual({ instanceId, status: 'provisioning', providerStatus: 'STAGING', preempted: false });
    fake.setInstanceStatus(zone, name, 'RUNNING');
    expect((await provider.getStatus(instanceId)).status).toBe('running');
    fake.setInstanceStatus(zone, name, 'TERMINATED');
    expect((await provider.getStatus(instanceId)).status).toBe('stopped');
    await provider.terminate(instanceId);
    expect(fake.instances.has(instanceId)).toBe(false);
    expect(await caught(provider.getStatus(instanceId))).toBeInstanceOf(NotFoundError);
    await expect(provider.terminate(instanceId)).resolves.toBeUndefined();
  });

  it('reports a reclaimed spot VM as preempted and others as not', async () => {
    const provider = new GcpProvider(config());
    const spot = await provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-b:nvidia-l4:1:spot', agent });
    const other = await provider.provision({ attemptId: nextAttempt(), offerId: 'gcp:us-central1-b:nvidia-l4:1:spot', agent });
    const [zone = '', name = ''] = spot.instanceId.split('/');
    expect(await provider.spot.wasPreempted(spot.instanceId)).toBe(false);
    fake.preempt(zone, name);
    expect(await provider.spot.wasPreempted(spot.instanceId)).toBe(true);
    expect(await provider.spot.wasPreempted(other.instanceId)).toBe(false);
    expect(await caught(provider.getStatus(spot.instanceId))).toBeInstanceOf(NotFoundError);
  });
});

describe('GcpProvider config and printing', () => {
  it('fails fast on an invalid config, naming the field', () => {
    expect(() => new GcpProvider({ ...config(), zones: ['us-central1'] })).toThrow(/zones/);
    expect(() => new GcpProvider({ ...config(), projectId: 'X' })).toThrow(/projectId/);
  });

  it('never prints credentials', () => {
    const provider = new GcpProvider(
      config({ credentials: { type: 'service_account', clientEmail: 'sa@anneal-test.iam.gserviceaccount.com', privateKey: '-----BEGIN PRIVATE KEY-----SECRETKEY' } }),
    );
    for (const printed of [String(provider), JSON.stringify(provider), inspect(provider, { depth: 10, showHidden: true })]) {
      expect(printed).toContain('anneal-test');
      expect(printed).not.toContain('SECRETKEY');
    }
  });
});
