import type { Offer } from '@anneal/providers';
import { describe, expect, it } from 'vitest';
import { describeOffer, describeWait, rankCandidates } from './offer-ranking.js';

const offer = (id: string, reliability: number, price = 500_000n): Offer => ({
  providerKind: 'community',
  offerId: id,
  offerType: 'machine',
  gpuModelId: 'rtx-4090',
  gpuCount: 1,
  vramGb: 24,
  region: 'eu',
  zone: null,
  priceMicrosPerGpuHour: price,
  spot: false,
  reliability,
  availability: 'available',
  simulated: false,
});

describe('rankCandidates', () => {
  it('prefers the lower expected cost once reliability is priced in', () => {
    const ranked = rankCandidates([
      { offer: offer('cheap-flaky', 0.5), runtimeSeconds: 3600, costMicros: 1_000_000n },
      { offer: offer('steady', 1), runtimeSeconds: 3600, costMicros: 1_200_000n },
    ]);
    expect(ranked.map((c) => c.offer.offerId)).toEqual(['steady', 'cheap-flaky']);
    expect(ranked[0]!.rankingCostMicros).toBe(1_200_000n);
    expect(ranked[1]!.rankingCostMicros).toBe(1_500_000n);
  });

  it('breaks ties by speed, then price, then id', () => {
    const ranked = rankCandidates([
      { offer: offer('b', 1), runtimeSeconds: 100, costMicros: 1000n },
      { offer: offer('slow', 1), runtimeSeconds: 200, costMicros: 1000n },
      { offer: offer('a', 1), runtimeSeconds: 100, costMicros: 1000n },
    ]);
    expect(ranked.map((c) => c.offer.offerId)).toEqual(['a', 'b', 'slow']);
  });
});

describe('describeWait', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  it('lists why offers were skipped and when the next try is', () => {
    const text = describeWait(
      [
        { offerId: 'g', reason: 'GCP us-central1-a: quota exceeded' },
        { offerId: 'n', reason: 'community node in eu: busy' },
      ],
      new Date(now.getTime() + 20_000),
      now,
    );
    expect(text).toBe('2 offers skipped: GCP us-central1-a: quota exceeded; community node in eu: busy. Trying again in 20 s.');
  });

  it('says when nothing matched at all', () => {
    expect(describeWait([], new Date(now.getTime() + 5000), now)).toBe('No matching offer is available right now; trying again in 5 s.');
  });
});

describe('describeOffer', () => {
  const base = { providerKind: 'community', offerId: 'community:n', offerType: 'machine', gpuModelId: 'rtx-4090', gpuCount: 1, vramGb: 24, zone: null, priceMicrosPerGpuHour: 1n, spot: false, reliability: 1, availability: 'available', simulated: false } as const;

  it('names the provider, the place when known, and the GPU as people call it', () => {
    expect(describeOffer({ ...base, region: 'unknown' })).toBe('community node (1× RTX 4090)');
    expect(describeOffer({ ...base, region: 'eu-west' })).toBe('community node in eu-west (1× RTX 4090)');
    expect(describeOffer({ ...base, providerKind: 'gcp', region: 'us-central1', zone: 'us-central1-a', gpuModelId: 'a100-80gb-sxm', gpuCount: 8 })).toMatch(/^GCP us-central1-a \(8× A100 80GB/);
  });
});
