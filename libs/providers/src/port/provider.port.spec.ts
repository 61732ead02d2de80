import { describe, expect, it } from 'vitest';
import { hasServerlessCapability, hasSpotCapability, type ComputeProvider } from './compute-provider.port.js';
import { matchesOfferQuery } from './offer-query.js';
import { isProviderError, NoCapacityError, ProviderErrorCode, ProvisioningError, QuotaExceededError } from './provider.errors.js';
import type { Offer } from './provider.types.js';

const offer: Offer = {
  providerKind: 'gcp',
  offerId: 'gcp:us-central1-a:nvidia-l4:2:spot',
  offerType: 'machine',
  gpuModelId: 'l4',
  gpuCount: 2,
  vramGb: 24,
  region: 'us-central1',
  zone: 'us-central1-a',
  priceMicrosPerGpuHour: 224_000n,
  spot: true,
  reliability: 0.8,
  availability: 'likely',
  simulated: false,
};

describe('typed provider errors', () => {
  it('carry a stable code, where it happened and a readable sentence', () => {
    const error = new NoCapacityError('no A100 capacity', { providerKind: 'gcp', region: 'us-central1-a' });
    expect(error.message).toBe('GCP us-central1-a: no A100 capacity');
    expect(error.reason).toBe('no A100 capacity');
    expect(error.name).toBe('NoCapacityError');
    expect(isProviderError(error)).toBe(true);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: ProviderErrorCode.NoCapacity,
      message: 'GCP us-central1-a: no A100 capacity',
      providerKind: 'gcp',
      region: 'us-central1-a',
      retryable: true,
    });
    expect(new QuotaExceededError('x', { providerKind: 'runpod' }).message).toBe('RunPod: x');
    expect(new ProvisioningError('x', { providerKind: 'community', retryable: true }).retryable).toBe(true);
    expect(isProviderError(new Error('x'))).toBe(false);
  });
});

describe('matchesOfferQuery', () => {
  it('applies every field of the query', () => {
    expect(matchesOfferQuery(offer)).toBe(true);
    expect(matchesOfferQuery(offer, { gpuModelIds: ['l4', 't4'], minVramGb: 24, minGpuCount: 2, spot: true, maxPriceMicrosPerGpuHour: 224_000n, regions: ['us-central1'] })).toBe(true);
    expect(matchesOfferQuery(offer, { gpuModelIds: ['t4'] })).toBe(false);
    expect(matchesOfferQuery(offer, { minVramGb: 40 })).toBe(false);
    expect(matchesOfferQuery(offer, { minGpuCount: 4 })).toBe(false);
    expect(matchesOfferQuery(offer, { spot: false })).toBe(false);
    expect(matchesOfferQuery(offer, { maxPriceMicrosPerGpuHour: 223_999n })).toBe(false);
    expect(matchesOfferQuery(offer, { regions: ['europe-west4'] })).toBe(false);
  });
});

describe('capability guards', () => {
  it('recognise the optional capabilities only when present', () => {
    const plain: ComputeProvider = {
      kind: 'community',
      listOffers: async () => ({ offers: [], skipped: [] }),
      provision: async () => {
        throw new Error('unused');
      },
      getStatus: async () => {
        throw new Error('unused');
      },
      terminate: async () => undefined,
    };
    expect(hasSpotCapability(plain)).toBe(false);
    expect(hasServerlessCapability(plain)).toBe(false);
    expect(hasSpotCapability({ ...plain, spot: { wasPreempted: async () => true } })).toBe(true);
    expect(hasServerlessCapability({ ...plain, serverless: { run: async () => ({}), status: async () => ({}), cancel: async () => ({}) } })).toBe(true);
  });
});
