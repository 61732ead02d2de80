import type { Offer, OfferQuery, ProviderFailure, ProviderKind, SkippedOffer } from '@anneal/providers';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { ProvidersService } from '../provider-accounts/providers.service.js';

export type OffersQuery = OfferQuery & { providerKinds?: ProviderKind[] };

export interface OffersListing {
  offers: Offer[];
  skipped: SkippedOffer[];
  failures: ProviderFailure[];
}

function compareOffers(a: Offer, b: Offer): number {
  if (a.priceMicrosPerGpuHour !== b.priceMicrosPerGpuHour) return a.priceMicrosPerGpuHour < b.priceMicrosPerGpuHour ? -1 : 1;
  if (a.reliability !== b.reliability) return b.reliability - a.reliability;
  return a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0;
}

/**
 * The unified offers: community nodes that are online, listed and unreserved (simulated ones only
 * when ALLOW_SIMULATED_NODES, labelled `simulated: true`), plus GCP and RunPod when configured,
 * cheapest first (ties: more reliable first). A provider whose listing fails is left out and
 * reported in `failures`.
 */
@Injectable()
export class OffersService {
  constructor(
    private readonly providers: ProvidersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(query: OffersQuery = {}): Promise<Offer[]> {
    return (await this.listing(query)).offers;
  }

  async listing(query: OffersQuery = {}): Promise<OffersListing> {
    const { providerKinds, ...offerQuery } = query;
    const registry = await this.providers.registry();
    const kinds = providerKinds && providerKinds.length > 0 ? registry.kinds.filter((kind) => providerKinds.includes(kind)) : registry.kinds;
    const listing = await registry.listOffers(offerQuery, kinds);
    const offers = listing.offers.filter((offer) => this.config.ALLOW_SIMULATED_NODES || !offer.simulated).sort(compareOffers);
    return { offers, skipped: listing.skipped, failures: listing.failures };
  }
}
