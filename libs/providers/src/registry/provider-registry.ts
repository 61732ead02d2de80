import type { ComputeProvider } from '../port/compute-provider.port.js';
import { isProviderError, ProviderAuthError, QuotaExceededError, type ProviderErrorCode } from '../port/provider.errors.js';
import type { Offer, OfferQuery, ProviderKind, ProvisionedInstance, ProvisionRequest, SkippedOffer } from '../port/provider.types.js';

/** A provider whose listing failed; the other providers' offers are still returned. */
export interface ProviderFailure {
  providerKind: ProviderKind;
  code: ProviderErrorCode | 'provider_error';
  message: string;
}

export interface AggregatedOfferListing {
  /** Cheapest first (ties: more reliable first, then offer id). */
  offers: Offer[];
  skipped: SkippedOffer[];
  failures: ProviderFailure[];
}

/** Why an offer was not used during failover: what the scheduler records and shows the user. */
export interface OfferSkip {
  offerId: string;
  providerKind: ProviderKind;
  region: string;
  code: ProviderErrorCode | 'provider_not_configured' | 'blocked_after_earlier_failure';
  message: string;
}

export type FailoverResult =
  | { kind: 'provisioned'; instance: ProvisionedInstance; offer: Offer; skips: OfferSkip[] }
  | { kind: 'exhausted'; skips: OfferSkip[] };

function compareOffers(a: Offer, b: Offer): number {
  if (a.priceMicrosPerGpuHour !== b.priceMicrosPerGpuHour) return a.priceMicrosPerGpuHour < b.priceMicrosPerGpuHour ? -1 : 1;
  if (a.reliability !== b.reliability) return b.reliability - a.reliability;
  return a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0;
}

/**
 * The configured providers, one per kind: one listing across all of them, and provisioning that
 * fails over from offer to offer as SkyPilot does, recording why each offer was skipped. After an
 * auth failure the rest of that provider's offers are skipped; after a quota failure, the rest of
 * that provider's offers in the same region.
 */
export class ProviderRegistry {
  readonly #providers: ReadonlyMap<ProviderKind, ComputeProvider>;

  constructor(providers: readonly ComputeProvider[]) {
    const map = new Map<ProviderKind, ComputeProvider>();
    for (const provider of providers) {
      if (map.has(provider.kind)) throw new Error(`provider '${provider.kind}' is configured twice`);
      map.set(provider.kind, provider);
    }
    this.#providers = map;
  }

  get kinds(): ProviderKind[] {
    return [...this.#providers.keys()];
  }

  get(kind: ProviderKind): ComputeProvider | undefined {
    return this.#providers.get(kind);
  }

  async listOffers(query: OfferQuery = {}, kinds: readonly ProviderKind[] = this.kinds): Promise<AggregatedOfferListing> {
    const providers = kinds.map((kind) => this.#providers.get(kind)).filter((p): p is ComputeProvider => p !== undefined);
    const results = await Promise.allSettled(providers.map((provider) => provider.listOffers(query)));
    const listing: AggregatedOfferListing = { offers: [], skipped: [], failures: [] };
    results.forEach((result, index) => {
      const provider = providers[index] as ComputeProvider;
      if (result.status === 'fulfilled') {
        listing.offers.push(...result.value.offers);
        listing.skipped.push(...result.value.skipped);
      } else {
        const error: unknown = result.reason;
        listing.failures.push({
          providerKind: provider.kind,
          code: isProviderError(error) ? error.code : 'provider_error',
          message: isProviderError(error) ? error.message : `${provider.kind}: listing offers failed`,
        });
      }
    });
    listing.offers.sort(compareOffers);
    return listing;
  }

  /**
   * Tries the offers in the order given until one provisions. Typed provider errors become skips;
   * anything else (a bug) is thrown.
   */
  async provisionWithFailover(offers: readonly Offer[], requestFor: (offer: Offer) => ProvisionRequest): Promise<FailoverResult> {
    const skips: OfferSkip[] = [];
    const blockedProviders = new Map<ProviderKind, string>();
    const blockedRegions = new Map<string, string>();
    for (const offer of offers) {
      const where = { offerId: offer.offerId, providerKind: offer.providerKind, region: offer.zone ?? offer.region };
      const provider = this.#providers.get(offer.providerKind);
      if (!provider) {
        skips.push({ ...where, code: 'provider_not_configured', message: `${offer.providerKind} is not configured` });
        continue;
      }
      const blocked = blockedProviders.get(offer.providerKind) ?? blockedRegions.get(`${offer.providerKind} ${offer.region}`);
      if (blocked) {
        skips.push({ ...where, code: 'blocked_after_earlier_failure', message: blocked });
        continue;
      }
      try {
        const instance = await provider.provision(requestFor(offer));
        return { kind: 'provisioned', instance, offer, skips };
      } catch (error) {
        if (!isProviderError(error)) throw error;
        skips.push({ ...where, code: error.code, message: error.message });
        if (error instanceof ProviderAuthError) blockedProviders.set(offer.providerKind, error.message);
        if (error instanceof QuotaExceededError) blockedRegions.set(`${offer.providerKind} ${offer.region}`, error.message);
      }
    }
    return { kind: 'exhausted', skips };
  }
}
