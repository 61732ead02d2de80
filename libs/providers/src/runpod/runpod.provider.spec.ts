import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasServerlessCapability, hasSpotCapability } from '../port/compute-provider.port.js';
import {
  NoCapacityError,
  NotFoundError,
  ProviderAuthError,
  ProviderError,
  ProvisioningError,
  QuotaExceededError,
} from '../port/provider.errors.js';
import type { RunpodProviderConfigInput } from './runpod.config.js';
import { RunpodProvider } from './runpod.provider.js';
import { RunpodFake } from './testing/runpod-fake.js';

const API_KEY = 'rpa_SECRET_TEST_KEY_0123456789';
const JOIN = 'join-SECRET-runpod-4c1d';
const agent = { joinToken: JOIN, apiUrl: 'https://api.anneal.test' };

let fake: RunpodFake;
let attempt = 0;
const nextAttempt = () => `0193a1b2-c3d4-7e5f-8a9b-${String(++attempt).padStart(12, '0')}`;

function config(overrides: Partial<RunpodProviderConfigInput> = {}): RunpodProviderConfigInput {
  return {
    apiKey: API_KEY,
    restBaseUrl: fake.restBaseUrl,
    serverlessBaseUrl: fake.serverlessBaseUrl,
    podGpuTypes: [
      { gpuTypeId: 'NVIDIA GeForce RTX 4090', gpuCounts: [1, 2], onDemandMicrosPerGpuHour: 690_000, spotMicrosPerGpuHour: 350_000, dataCenterIds: ['EU-RO-1'], region: 'EU-RO-1' },
      { gpuTypeId: 'NVIDIA A100 80GB PCIe', onDemandMicrosPerGpuHour: '1640000' },
      { gpuTypeId: 'NVIDIA Imaginary X1 Ultra', onDemandMicrosPerGpuHour: 890_000 },
    ],
    serverlessEndpoints: [{ endpointId: 'abc123xyz', gpuTypeId: 'NVIDIA L40S', priceMicrosPerGpuHour: 1_900_000 }],
    ...overrides,
  };
}

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a provider error');
}

beforeAll(async () => {
  fake = await new RunpodFake(API_KEY).start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.apiKey = API_KEY;
});

describe('RunpodProvider.listOffers', () => {
  it('lists pod and serverless offers on catalog ids and skips unknown GPU types', async () => {
    const { offers, skipped } = await new RunpodProvider(config()).listOffers();
    expect(offers.map((o) => o.offerId)).toEqual([
      'runpod:pod:nvidia-geforce-rtx-4090:1:standard',
      'runpod:pod:nvidia-geforce-rtx-4090:1:spot',
      'runpod:pod:nvidia-geforce-rtx-4090:2:standard',
      'runpod:pod:nvidia-geforce-rtx-4090:2:spot',
      'runpod:pod:nvidia-a100-80gb-pcie:1:standard',
      'runpod:serverless:abc123xyz',
    ]);
    expect(offers[1]).toMatchObject({ gpuModelId: 'rtx-4090', vramGb: 24, spot: true, priceMicrosPerGpuHour: 350_000n, region: 'EU-RO-1' });
    expect(offers[4]).toMatchObject({ gpuModelId: 'a100-80gb-pcie', priceMicrosPerGpuHour: 1_640_000n, region: 'global' });
    expect(offers[5]).toMatchObject({ offerType: 'serverless', gpuModelId: 'l40s' });
    expect(skipped).toEqual([{ providerKind: 'runpod', providerGpuName: 'NVIDIA Imaginary X1 Ultra', reason: expect.stringContaining('not in the GPU catalog') }]);
  });

  it('has the serverless and the spot capabilities', () => {
    const provider = new RunpodProvider(config());
    expect(hasServerlessCapability(provider)).toBe(true);
    expect(hasSpotCapability(provider)).toBe(true);
  });
});

describe('RunpodProvider pods (REST client against the RunPod fake)', () => {
  it('reports a spot pod RunPod reclaimed for a higher bid as preempted, and any other stop or a running pod as not', async () => {
    const provider = new RunpodProvider(config());
    const spot = await provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:1:spot', agent });
    const terminatedSpot = await provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:1:spot', agent });
    const stoppedByUser = await provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:1:spot', agent });
    const onDemand = await provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:1:standard', agent });
    fake.startPod(spot.instanceId);
    expect(await provider.spot.wasPreempted(spot.instanceId)).toBe(false);

    fake.outbid(spot.instanceId);
    fake.outbid(terminatedSpot.instanceId, 'terminated');
    await provider.stop(stoppedByUser.instanceId);
    expect(await provider.spot.wasPreempted(spot.instanceId)).toBe(true);
    expect(await provider.getStatus(spot.instanceId)).toEqual({ instanceId: spot.instanceId, status: 'stopped', providerStatus: 'EXITED', preempted: true });
    expect(await provider.spot.wasPreempted(terminatedSpot.instanceId)).toBe(true);
    expect((await provider.getStatus(terminatedSpot.instanceId)).status).toBe('terminated');
    expect(await provider.spot.wasPreempted(stoppedByUser.instanceId)).toBe(false);
    expect(await provider.getStatus(stoppedByUser.instanceId)).toMatchObject({ status: 'stopped', preempted: false });
    expect(await provider.spot.wasPreempted(onDemand.instanceId)).toBe(false);
    expect(() => fake.outbid(onDemand.instanceId)).toThrow(/not interruptible/);
    // Gone from RunPod: nothing says it was reclaimed.
    await provider.terminate(onDemand.instanceId);
    expect(await provider.spot.wasPreempted(onDemand.instanceId)).toBe(false);
  });

  it('creates a pod with the agent image and the join token in its env, then follows and deletes it', async () => {
    const provider = new RunpodProvider(config());
    const attemptId = nextAttempt();
    const instance = await provider.provision({ attemptId, offerId: 'runpod:pod:nvidia-geforce-rtx-4090:2:spot', agent });
    expect(instance).toMatchObject({ providerKind: 'runpod', region: 'EU-RO-1', zone: null, status: 'provisioning' });
    const created = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/pods').at(-1);
    expect(created?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(created?.body).toMatchObject({
      name: `anneal-${attemptId}`,
      gpuTypeIds: ['NVIDIA GeForce RTX 4090'],
      gpuCount: 2,
      interruptible: true,
      computeType: 'GPU',
      dataCenterIds: ['EU-RO-1'],
      env: { ANNEAL_JOIN_TOKEN: JOIN, ANNEAL_API_URL: 'https://api.anneal.test', ANNEAL_PRICE_USD: '0.35', ANNEAL_REGION: 'eu-ro-1' },
      dockerStartCmd: ['bash', '-c', expect.stringContaining('anneal-agent register --api "$ANNEAL_API_URL" --token "$ANNEAL_JOIN_TOKEN"')],
    });
    expect(await provider.getStatus(instance.instanceId)).toEqual({ instanceId: instance.instanceId, status: 'provisioning', providerStatus: 'RUNNING', preempted: false });
    fake.startPod(instance.instanceId);
    expect((await provider.getStatus(instance.instanceId)).status).toBe('running');
    expect((await provider.stop(instance.instanceId)).status).toBe('stopped');
    await provider.terminate(instance.instanceId);
    expect(fake.pods.has(instance.instanceId)).toBe(false);
    expect(await caught(provider.getStatus(instance.instanceId))).toBeInstanceOf(NotFoundError);
    await expect(provider.terminate(instance.instanceId)).resolves.toBeUndefined();
  });

  it('maps "no longer any instances available" to NoCapacityError', async () => {
    fake.failNextCreate(500, 'create pod: There are no longer any instances available with the requested specifications. Please refresh and try again.');
    const error = await caught(new RunpodProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:1:standard', agent }));
    expect(error).toBeInstanceOf(NoCapacityError);
    expect(error.message).toMatch(/^RunPod EU-RO-1: no 1 × NVIDIA GeForce RTX 4090 capacity right now/);
    expect(error.retryable).toBe(true);
  });

  it('maps an exhausted balance to QuotaExceededError and a bad request to ProvisioningError', async () => {
    fake.failNextCreate(402, 'Insufficient balance to deploy this pod.');
    expect(await caught(new RunpodProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-a100-80gb-pcie:1:standard', agent }))).toBeInstanceOf(
      QuotaExceededError,
    );
    fake.failNextCreate(400, 'imageName: must not be empty');
    const error = await caught(new RunpodProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-a100-80gb-pcie:1:standard', agent }));
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error.retryable).toBe(false);
  });

  it('maps a rejected key to ProviderAuthError that never prints the key or the join token', async () => {
    fake.apiKey = 'rpa_other';
    const error = await caught(new RunpodProvider(config()).provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-a100-80gb-pcie:1:standard', agent }));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.code).toBe('provider_auth_failed');
    for (const printed of [String(error), JSON.stringify(error), inspect(error, { depth: 10 }), error.stack ?? '']) {
      expect(printed).not.toContain(API_KEY);
      expect(printed).not.toContain(JOIN);
    }
  });

  it('refuses offers it does not sell, serverless offers as machines, and provisioning without a token', async () => {
    const provider = new RunpodProvider(config());
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-a100-80gb-pcie:1:spot', agent }))).toBeInstanceOf(NotFoundError);
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:4:standard', agent }))).toBeInstanceOf(NotFoundError);
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:serverless:abc123xyz', agent }))).toBeInstanceOf(ProvisioningError);
    expect(await caught(provider.provision({ attemptId: nextAttempt(), offerId: 'runpod:pod:nvidia-geforce-rtx-4090:1:standard' }))).toBeInstanceOf(ProvisioningError);
  });
});

describe('RunpodProvider serverless (runpod-sdk against the fake)', () => {
  it('runs, polls, completes and cancels jobs', async () => {
    const provider = new RunpodProvider(config());
    const job = await provider.serverless.run('abc123xyz', { prompt: 'hello' });
    expect(job).toMatchObject({ endpointId: 'abc123xyz', status: 'queued' });
    expect(fake.jobs.get(job.jobId)?.input).toEqual({ prompt: 'hello' });
    expect((await provider.serverless.status('abc123xyz', job.jobId)).status).toBe('queued');
    fake.completeJob(job.jobId, { text: 'world' });
    expect(await provider.serverless.status('abc123xyz', job.jobId)).toEqual({
      endpointId: 'abc123xyz',
      jobId: job.jobId,
      status: 'completed',
      output: { text: 'world' },
      executionTimeMs: 1534,
      delayTimeMs: 812,
    });
    const second = await provider.serverless.run('abc123xyz', { prompt: 'again' });
    expect((await provider.serverless.cancel('abc123xyz', second.jobId)).status).toBe('canceled');
  });

  it('maps SDK HTTP failures to typed errors and refuses endpoints that are not configured', async () => {
    const provider = new RunpodProvider(config());
    expect(await caught(provider.serverless.status('abc123xyz', 'no-such-job'))).toBeInstanceOf(NotFoundError);
    expect(await caught(provider.serverless.run('zzz999', {}))).toBeInstanceOf(NotFoundError);
    fake.apiKey = 'rpa_other';
    const error = await caught(provider.serverless.run('abc123xyz', {}));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(inspect(error, { depth: 10 })).not.toContain(API_KEY);
  });
});

describe('RunpodProvider config and printing', () => {
  it('fails fast on an invalid config and never prints the key', () => {
    expect(() => new RunpodProvider({ ...config(), apiKey: '' })).toThrow(/apiKey/);
    const provider = new RunpodProvider(config());
    for (const printed of [String(provider), JSON.stringify(provider), inspect(provider, { depth: 10, showHidden: true })]) {
      expect(printed).not.toContain(API_KEY);
    }
  });
});
