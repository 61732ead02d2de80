import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import type { Offer } from '@anneal/providers';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { OffersService } from '../offers/offers.service.js';

export interface OffersSnapshot {
  offers: readonly Offer[];
  /** Changes whenever any offer's id, GPU, count, memory, price, region or availability does. */
  fingerprint: string;
  fetchedAtMs: number;
}

/** Where the estimator's offers come from: every offer of every provider, unfiltered. */
export type OfferUpstream = () => Promise<Offer[]>;

/**
 * Changes whenever an offer's id, kind, type, GPU, count, memory, price, region, spot, availability,
 * reliability or simulated flag does. Runs every ESTIMATE_OFFERS_CACHE_MS over every offer, so it
 * avoids formatting numbers (5,000 offers: ~1 ms; one template string each took 5-20 ms, a stall
 * of the event loop every second that every request then waited on).
 */
export function offersFingerprint(offers: readonly Offer[]): string {
  const numbers = new Float64Array(offers.length * 3);
  const prices = new BigInt64Array(offers.length);
  let text = '';
  offers.forEach((o, i) => {
    numbers[i * 3] = o.gpuCount;
    numbers[i * 3 + 1] = o.vramGb;
    numbers[i * 3 + 2] = o.reliability;
    prices[i] = o.priceMicrosPerGpuHour;
    text += `${o.providerKind}\u001f${o.offerId}\u001f${o.offerType}\u001f${o.gpuModelId}\u001f${o.region}\u001f${o.availability}\u001f${o.spot ? 1 : 0}${o.simulated ? 1 : 0}\u001e`;
  });
  return createHash('sha1').update(text).update(new Uint8Array(numbers.buffer)).update(new Uint8Array(prices.buffer)).digest('hex').slice(0, 20);
}

/**
 * The offers estimates are computed against: the full listing from OffersService, held for
 * ESTIMATE_OFFERS_CACHE_MS and refreshed in the background (one refresh at a time), so the hot
 * path neither lists every node per request nor waits on a listing. A listing older than ten times
 * that is not served: the request waits for a fresh one.
 */
@Injectable()
export class EstimateOfferSource {
  private current?: OffersSnapshot;
  private refreshing?: Promise<OffersSnapshot>;
  private upstream: OfferUpstream;

  constructor(
    offers: OffersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.upstream = () => offers.list({});
  }

  /**
   * Replaces where offers come from (the estimates benchmark binds 5,000 synthetic offers here) and
   * drops the cached listing.
   */
  bindUpstream(upstream: OfferUpstream): void {
    this.upstream = upstream;
    this.current = undefined;
    this.refreshing = undefined;
  }

  /** Drops the cached listing: the next call lists again. */
  invalidate(): void {
    this.current = undefined;
  }

  /** Cache age is measured on the monotonic clock: it is plumbing, not domain time. */
  async snapshot(nowMs = performance.now()): Promise<OffersSnapshot> {
    const ttl = this.config.ESTIMATE_OFFERS_CACHE_MS;
    const current = this.current;
    if (current && nowMs - current.fetchedAtMs < ttl) return current;
    const refresh = this.refresh();
    if (current && nowMs - current.fetchedAtMs < ttl * 10) {
      refresh.catch(() => undefined);
      return current;
    }
    return refresh;
  }

  private refresh(): Promise<OffersSnapshot> {
    this.refreshing ??= (async () => {
      try {
        const offers = await this.upstream();
        const previous = this.current;
        const fingerprint = offersFingerprint(offers);
        const next = { offers: previous && previous.fingerprint === fingerprint ? previous.offers : offers, fingerprint, fetchedAtMs: performance.now() };
        this.current = next;
        return next;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
