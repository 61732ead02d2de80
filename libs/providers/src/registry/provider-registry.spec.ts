import { describe, expect, it } from 'vitest';
import type { ComputeProvider } from '../port/compute-provider.port.js';
import { NoCapacityError, ProviderAuthError, ProviderError, QuotaExceededError } from '../port/provider.errors.js';
import type { Offer, ProviderKind, ProvisionRequest } from '../port/provider.types.js';
import { ProviderRegistry } from './provider-registry.js';

function offer(providerKind: ProviderKind, id: string, price: bigint, region = 'r1', reliability = 0.9): Offer {
  return {
    providerKind,
    offerId: `${providerKind}:${id}`,
    offerType: 'machine',
    gpuModelId: 'l4',
    gpuCount: 1,
    vramGb: 24,
    region,
    zone: null,
    priceMicrosPerGpuHour: price,
    spot: false,
    reliability,
    availability: 'likely',
    simulated: false,
  };
}

/** A provider whose provision outcome per offer id is scripted. */
function scripted(kind: ProviderKind, offers: Offer[], outcomes: Record<string, ProviderError | Error | 'ok'>): ComputeProvider & { tried: string[] } {
  const tried: string[] = [];
  return {
    kind,
    tried,
    listOffers: async () => ({ offers, skipped: [] }),
    provision: async (request: ProvisionRequest) => {
      tried.push(request.offerId);
      const outcome = outcomes[request.offerId] ?? 'ok';
      if (outcome !== 'ok') throw outcome;
      return { providerKind: kind, instanceId: `i-${request.offerId}`, offerId: request.offerId, region: 'r1', zone: null, status: 'provisioning' };
    },
    getStatus: async () => {
      throw new Error('unused');
    },
    terminate: async () => undefined,
  };
}

const request = (o: Offer): ProvisionRequest => ({ attemptId: 'a1', offerId: o.offerId });

describe('ProviderRegistry.listOffers', () => {
  it('merges providers cheapest first and reports a failing provider without losing the others', async () => {
    const gcp = scripted('gcp', [offer('gcp', 'b', 500n), offer('gcp', 'a', 300n, 'r1', 0.5)], {});
    const runpod = scripted('runpod', [offer('runpod', 'c', 300n, 'r1', 0.9)], {});
    const broken: ComputeProvider = { ...scripted('community', [], {}), listOffers: async () => Promise.reject(new ProviderAuthError('bad key', { providerKind: 'community' })) };
    const listing = await new ProviderRegistry([gcp, runpod, broken]).listOffers();
    expect(listing.offers.map((o) => o.offerId)).toEqual(['runpod:c', 'gcp:a', 'gcp:b']);
    expect(listing.failures).toEqual([{ providerKind: 'community', code: 'provider_auth_failed', message: 'Community: bad key' }]);
  });

  it('refuses two providers of one kind', () => {
    expect(() => new ProviderRegistry([scripted('gcp', [], {}), scripted('gcp', [], {})])).toThrow(/twice/);
  });
});

describe('ProviderRegistry.provisionWithFailover', () => {
  it('moves past capacity failures and records why each offer was skipped', async () => {
    const offers = [offer('gcp', 'z1', 1n), offer('gcp', 'z2', 2n), offer('runpod', 'x', 3n)];
    const gcp = scripted('gcp', [], { 'gcp:z1': new NoCapacityError('no L4 capacity right now', { providerKind: 'gcp', region: 'us-central1-a' }) });
    const runpod = scripted('runpod', [], {});
    const result = await new ProviderRegistry([gcp, runpod]).provisionWithFailover(offers, request);
    expect(result).toMatchObject({ kind: 'provisioned', offer: { offerId: 'gcp:z2' }, instance: { instanceId: 'i-gcp:z2' } });
    expect(result.skips).toEqual([{ offerId: 'gcp:z1', providerKind: 'gcp', region: 'r1', code: 'provider_no_capacity', message: 'GCP us-central1-a: no L4 capacity right now' }]);
    expect(runpod.tried).toEqual([]);
  });

  it('skips the rest of a provider after an auth failure and the rest of a region after a quota failure', async () => {
    const offers = [offer('gcp', 'a', 1n, 'r1'), offer('gcp', 'b', 2n, 'r1'), offer('gcp', 'c', 3n, 'r2'), offer('runpod', 'x', 4n), offer('runpod', 'y', 5n), offer('community', 'n', 6n)];
    const gcp = scripted('gcp', [], {
      'gcp:a': new QuotaExceededError('quota', { providerKind: 'gcp', region: 'r1' }),
      'gcp:c': new NoCapacityError('none', { providerKind: 'gcp', region: 'r2' }),
    });
    const runpod = scripted('runpod', [], { 'runpod:x': new ProviderAuthError('key rejected', { providerKind: 'runpod' }) });
    const result = await new ProviderRegistry([gcp, runpod]).provisionWithFailover(offers, request);
    expect(result.kind).toBe('exhausted');
    expect(result.skips.map((s) => `${s.offerId} ${s.code}`)).toEqual([
      'gcp:a provider_quota_exceeded',
      'gcp:b blocked_after_earlier_failure',
      'gcp:c provider_no_capacity',
      'runpod:x provider_auth_failed',
      'runpod:y blocked_after_earlier_failure',
      'community:n provider_not_configured',
    ]);
    expect(gcp.tried).toEqual(['gcp:a', 'gcp:c']);
    expect(runpod.tried).toEqual(['runpod:x']);
  });

  it('throws errors that are not provider errors (bugs are not skip reasons)', async () => {
    const gcp = scripted('gcp', [], { 'gcp:a': new TypeError('boom') });
    await expect(new ProviderRegistry([gcp]).provisionWithFailover([offer('gcp', 'a', 1n)], request)).rejects.toThrow('boom');
  });
});
