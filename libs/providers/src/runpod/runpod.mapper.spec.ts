import { describe, expect, it } from 'vitest';
import { NoCapacityError, NotFoundError, ProviderAuthError, ProvisioningError, QuotaExceededError } from '../port/provider.errors.js';
import { RunpodApiError } from './runpod.client.js';
import { gpuTypeSlug, parseRunpodOfferId, runpodCallError, runpodHttpError, runpodJobStatus, runpodPodStatus } from './runpod.mapper.js';

const context = { region: 'EU-RO-1', what: '1 × NVIDIA L40S', secrets: ['rpa_SECRET'] };

describe('RunPod offer ids', () => {
  it('slugs gpu type ids and parses both offer kinds', () => {
    expect(gpuTypeSlug('NVIDIA RTX 6000 Ada Generation')).toBe('nvidia-rtx-6000-ada-generation');
    expect(gpuTypeSlug('NVIDIA A100-SXM4-80GB')).toBe('nvidia-a100-sxm4-80gb');
    expect(parseRunpodOfferId('runpod:pod:nvidia-l40s:4:spot')).toEqual({ type: 'pod', gpuTypeSlug: 'nvidia-l40s', gpuCount: 4, spot: true });
    expect(parseRunpodOfferId('runpod:serverless:abc123')).toEqual({ type: 'serverless', endpointId: 'abc123' });
    expect(parseRunpodOfferId('gcp:us-central1-a:nvidia-l4:1:spot')).toBeNull();
  });
});

describe('RunPod statuses', () => {
  it('maps pod and serverless job statuses onto the port', () => {
    expect(runpodPodStatus({ id: 'p', desiredStatus: 'RUNNING', lastStartedAt: null })).toBe('provisioning');
    expect(runpodPodStatus({ id: 'p', desiredStatus: 'RUNNING', lastStartedAt: '2026-11-22T08:00:00Z' })).toBe('running');
    expect(runpodPodStatus({ id: 'p', desiredStatus: 'EXITED' })).toBe('stopped');
    expect(runpodPodStatus({ id: 'p', desiredStatus: 'TERMINATED' })).toBe('terminated');
    expect(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].map(runpodJobStatus)).toEqual([
      'queued',
      'running',
      'completed',
      'failed',
      'canceled',
      'timed_out',
    ]);
  });
});

describe('RunPod errors', () => {
  it('maps statuses and RunPod texts to typed errors, scrubbing secrets', () => {
    expect(runpodHttpError(401, 'Unauthorized', context)).toBeInstanceOf(ProviderAuthError);
    expect(runpodHttpError(403, 'forbidden', context)).toBeInstanceOf(ProviderAuthError);
    expect(runpodHttpError(404, 'pod not found', context)).toBeInstanceOf(NotFoundError);
    expect(runpodHttpError(400, 'There are not enough free GPUs on the host machine to start this pod.', context)).toBeInstanceOf(NoCapacityError);
    expect(runpodHttpError(500, 'This machine does not have the resources to deploy your pod.', context)).toBeInstanceOf(NoCapacityError);
    expect(runpodHttpError(402, 'payment required', context)).toBeInstanceOf(QuotaExceededError);
    const limited = runpodHttpError(429, 'Too many requests rpa_SECRET', context);
    expect(limited).toBeInstanceOf(ProvisioningError);
    expect(limited.retryable).toBe(true);
    expect(limited.message).not.toContain('rpa_SECRET');
    expect(runpodCallError(new RunpodApiError(0, 'network error'), context).retryable).toBe(true);
    expect(runpodCallError({ response: { status: 404, data: { error: 'request does not exist' } } }, context)).toBeInstanceOf(NotFoundError);
    expect(runpodCallError({ response: { status: 401, data: 'Unauthorized' } }, context)).toBeInstanceOf(ProviderAuthError);
  });
});
